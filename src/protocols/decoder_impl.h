// The one Decoder implementation, generic over a protocol's traits:
//   Frame (derives FrameBase), State, StitchState,
//   parse_frame(type, bytes, frame, state, limits) -> ParseResult
//   find_frame_boundary(type, bytes, state) -> offset or kNoBoundary
//   stitch(requests, responses, stitch_state, limits, flush, out)
// and optionally on_gap(type, state), finish_frame(type, frame, state, limits) and
// init(state, options).
#pragma once

#include <algorithm>
#include <deque>
#include <utility>

#include "protocols/decoder.h"

namespace reel::protocols {

template <class P>
class ProtocolDecoder final : public Decoder {
 public:
  ProtocolDecoder(Protocol protocol, const DecoderOptions& options)
      : protocol_(protocol), options_(options) {
    if constexpr (requires { P::init(state_, options_); }) P::init(state_, options_);
  }

  Protocol protocol() const override { return protocol_; }

  std::size_t feed(MessageType type, std::span<const std::byte> data,
                   const TimeAt& time_at) override {
    if (options_.datagrams) return feed_datagram(type, data, time_at);
    Side& s = side(type);
    std::size_t used = skip_tail(s, data.size());
    while (used < data.size()) {
      if (s.resync && !resync(type, s, data, used)) break;
      if (used >= data.size()) break;
      if (!s.started) {
        s.started = true;
        s.start_ns = time_at(used);
        s.frame_bytes = 0;
      }
      auto rest = data.subspan(used);
      // Parsed where it will wait for the stitcher: a frame is costly to move.
      auto& frames = frames_of(type);
      typename P::Frame& frame = frames.emplace_back();
      ParseResult r = P::parse_frame(type, rest, frame, state_, options_.limits);
      if (r.state != ParseState::kParsed) frames.pop_back();
      if (r.state == ParseState::kInvalid) {
        on_invalid(type, s);
        used += 1;
        stats_.bytes_skipped += 1;
        continue;
      }
      auto in_data = static_cast<std::size_t>(std::min<std::uint64_t>(r.consumed, rest.size()));
      s.frame_bytes += r.consumed;
      used += in_data;
      if (r.state == ParseState::kNeedsMore) break;
      frame.time = {s.start_ns, time_at(used - (in_data > 0 ? 1 : 0))};
      s.skip = r.consumed - in_data;
      settle(type, s);
      if (r.consumed == 0) break;  // a parser that made no progress must not spin
    }
    return used;
  }

  void on_gap(MessageType type, std::uint64_t lost) override {
    Side& s = side(type);
    stats_.gaps++;
    if (lost <= s.skip) {
      // The hole fell inside the tail of a cut frame we were skipping: still aligned.
      s.skip -= lost;
      stats_.bytes_truncated += lost;
      return;
    }
    s = Side{.resync = !options_.datagrams, .after_gap = true};
    if constexpr (requires { P::on_gap(type, state_); }) P::on_gap(type, state_);
  }

  void on_close(MessageType type, std::uint64_t ts_ns) override {
    if constexpr (requires(typename P::Frame & f) {
                    P::finish_frame(type, f, state_, options_.limits);
                  }) {
      Side& s = side(type);
      typename P::Frame frame{};
      ParseResult r = P::finish_frame(type, frame, state_, options_.limits);
      if (r.state != ParseState::kParsed) return;
      frame.time = {s.started ? s.start_ns : ts_ns, ts_ns};
      push(type, s, std::move(frame));
    }
  }

  void take_exchanges(std::vector<Exchange>& out, bool flush) override {
    std::size_t before = out.size();
    P::stitch(frames_[0], frames_[1], stitch_, options_.limits, flush, out);
    for (std::size_t i = before; i < out.size(); ++i) {
      if (protocol_ == Protocol::kTls) out[i].protocol = Protocol::kTls;
    }
    stats_.exchanges += out.size() - before;
  }

  const DecoderStats& stats() const override { return stats_; }

 private:
  // Bytes of a resynchronising stream kept unconsumed, in case they begin a frame marker.
  static constexpr std::size_t kResyncTail = 16;

  struct Side {
    std::uint64_t skip = 0;  // tail of a cut frame still to come
    bool resync = false;     // looking for a frame boundary
    bool after_gap = false;  // the next frame follows lost bytes
    bool started = false;    // a frame has begun; start_ns is its first byte's time
    std::uint64_t start_ns = 0;
    std::uint64_t frame_bytes = 0;
  };

  Side& side(MessageType type) { return sides_[type == MessageType::kRequest ? 0 : 1]; }

  std::size_t skip_tail(Side& s, std::size_t size) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(s.skip, size));
    s.skip -= n;
    stats_.bytes_truncated += n;
    return n;
  }

  // Drops bytes up to the next plausible frame start; false when none is in sight yet.
  bool resync(MessageType type, Side& s, std::span<const std::byte> data, std::size_t& used) {
    auto rest = data.subspan(used);
    std::size_t b = P::find_frame_boundary(type, rest, state_);
    if (b == kNoBoundary || b > rest.size()) {
      std::size_t drop = rest.size() > kResyncTail ? rest.size() - kResyncTail : 0;
      used += drop;
      stats_.bytes_skipped += drop;
      return false;
    }
    used += b;
    stats_.bytes_skipped += b;
    s.resync = false;
    return true;
  }

  void on_invalid(MessageType type, Side& s) {
    stats_.invalid++;
    s = Side{.resync = true, .after_gap = true};
    if constexpr (requires { P::on_gap(type, state_); }) P::on_gap(type, state_);
  }

  std::size_t feed_datagram(MessageType type, std::span<const std::byte> data,
                            const TimeAt& time_at) {
    Side& s = side(type);
    typename P::Frame frame{};
    ParseResult r = P::parse_frame(type, data, frame, state_, options_.limits);
    if (r.state != ParseState::kParsed) {
      stats_.invalid++;
      stats_.bytes_skipped += data.size();
      return data.size();
    }
    frame.time = {time_at(0), time_at(data.empty() ? 0 : data.size() - 1)};
    s.frame_bytes = data.size();
    push(type, s, std::move(frame));
    return data.size();
  }

  std::deque<typename P::Frame>& frames_of(MessageType type) {
    return frames_[type == MessageType::kRequest ? 0 : 1];
  }

  void push(MessageType type, Side& s, typename P::Frame&& frame) {
    frames_of(type).push_back(std::move(frame));
    settle(type, s);
  }

  // The frame just parsed (the last of its direction's) is whole: it takes its side's facts.
  void settle(MessageType type, Side& s) {
    auto& frames = frames_of(type);
    typename P::Frame& frame = frames.back();
    frame.after_gap = std::exchange(s.after_gap, false);
    frame.wire_size = s.frame_bytes;
    s.started = false;
    s.frame_bytes = 0;
    stats_.frames++;
    // The stitcher emits unpaired frames past max_pending; this is the backstop for a caller
    // that does not call take_exchanges often enough.
    if (frames.size() > 2 * options_.limits.max_pending + 1) {
      frames.pop_front();
      stats_.frames_dropped++;
    }
  }

  Protocol protocol_;
  DecoderOptions options_;
  typename P::State state_{};
  typename P::StitchState stitch_{};
  std::deque<typename P::Frame> frames_[2];
  Side sides_[2];
  DecoderStats stats_;
};

}  // namespace reel::protocols
