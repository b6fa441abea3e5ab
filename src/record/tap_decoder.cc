#include "record/tap_decoder.h"

#include <time.h>

#include "core/clock.h"
#include "protocols/infer.h"

namespace reel::record {

namespace {

using protocols::MessageType;

constexpr std::size_t kInferLimit = 1024;

}  // namespace

// Bytes of one direction not yet taken by the decoder, with the arrival time of each byte run.
struct PendingSide {
  std::vector<std::byte> bytes;
  std::vector<std::pair<std::size_t, std::uint64_t>> times;  // (offset, ns), ascending
  bool closed = false;

  void add(std::span<const std::byte> b, std::uint64_t ts) {
    times.emplace_back(bytes.size(), ts);
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
  std::uint64_t time_at(std::size_t off) const {
    std::uint64_t t = times.empty() ? 0 : times.front().second;
    for (auto& [o, ts] : times) {
      if (o > off) break;
      t = ts;
    }
    return t;
  }
  void consume(std::size_t n) {
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<std::pair<std::size_t, std::uint64_t>> kept;
    std::uint64_t front_ts = 0;
    bool front = false;
    for (auto& [o, ts] : times) {
      if (o <= n) {
        front_ts = ts;  // the run the new first byte belongs to
        front = true;
      } else {
        kept.emplace_back(o - n, ts);
      }
    }
    if (front && !bytes.empty()) kept.insert(kept.begin(), {0, front_ts});
    times = std::move(kept);
  }
};

struct TapDecoder::Conn {
  ConnId id = 0;
  Endpoint client, server;
  PendingSide request, response;  // client->server, server->client
  std::unique_ptr<protocols::Decoder> decoder;
};

TapDecoder::TapDecoder(protocols::Limits limits) : limits_(limits) {}
TapDecoder::~TapDecoder() = default;

RelayTap TapDecoder::tap() {
  RelayTap t;
  t.open = [this](ConnId id, const Endpoint& c, const Endpoint& s) {
    open(id, c, s);
    return true;
  };
  t.data = [this](ConnId id, Direction d, std::span<const std::byte> b) { data(id, d, b); };
  t.close = [this](ConnId id, bool reset) { close(id, reset); };
  return t;
}

TapDecoder::Conn* TapDecoder::find(ConnId id) {
  std::lock_guard lock(mu_);
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}

void TapDecoder::open(ConnId id, const Endpoint& client, const Endpoint& server) {
  auto c = std::make_unique<Conn>();
  c->id = id;
  c->client = client;
  c->server = server;
  std::lock_guard lock(mu_);
  conns_[id] = std::move(c);
  stats_.connections++;
}

void TapDecoder::data(ConnId id, Direction dir, std::span<const std::byte> bytes) {
  Conn* c = find(id);
  if (!c) return;
  PendingSide& side = dir == Direction::kClientToServer ? c->request : c->response;
  if (bytes.empty()) {
    side.closed = true;
    if (c->decoder)
      c->decoder->on_close(dir == Direction::kClientToServer ? MessageType::kRequest : MessageType::kResponse,
                           monotonic_ns());
  } else {
    side.add(bytes, monotonic_ns());
    std::lock_guard lock(mu_);
    stats_.bytes += bytes.size();
  }
  drive(*c);
  collect(*c, false);
}

void TapDecoder::drive(Conn& c) {
  if (!c.decoder) {
    auto p = protocols::infer_protocol(c.request.bytes, MessageType::kRequest);
    if (p == protocols::Protocol::kUnknown && !c.response.bytes.empty())
      p = protocols::infer_protocol(c.response.bytes, MessageType::kResponse);
    bool enough = c.request.bytes.size() >= kInferLimit || c.response.bytes.size() >= kInferLimit ||
                  (!c.request.bytes.empty() && !c.response.bytes.empty()) || c.request.closed;
    if (p == protocols::Protocol::kUnknown && !enough) return;
    protocols::DecoderOptions o;
    o.limits = limits_;
    c.decoder = protocols::make_decoder(p, o);
  }
  for (auto [side, type] : {std::pair{&c.request, MessageType::kRequest},
                            std::pair{&c.response, MessageType::kResponse}}) {
    while (!side->bytes.empty()) {
      std::size_t n = c.decoder->feed(type, side->bytes,
                                      [side](std::size_t off) { return side->time_at(off); });
      if (n == 0) break;
      side->consume(std::min(n, side->bytes.size()));
    }
  }
}

void TapDecoder::collect(Conn& c, bool flush) {
  if (!c.decoder) return;
  std::vector<protocols::Exchange> out;
  c.decoder->take_exchanges(out, flush);
  if (out.empty()) return;
  std::lock_guard lock(mu_);
  for (auto& ex : out) {
    stats_.calls++;
    done_.push_back({c.id, c.client, c.server, std::move(ex)});
  }
}

void TapDecoder::close(ConnId id, bool /*reset*/) {
  Conn* c = find(id);
  if (!c) return;
  if (!c->decoder && (!c->request.bytes.empty() || !c->response.bytes.empty())) {
    protocols::DecoderOptions o;
    o.limits = limits_;
    c->decoder = protocols::make_decoder(protocols::Protocol::kUnknown, o);
    drive(*c);
  }
  if (c->decoder) {
    std::uint64_t t = monotonic_ns();
    c->decoder->on_close(MessageType::kRequest, t);
    c->decoder->on_close(MessageType::kResponse, t);
    collect(*c, true);
  }
  std::lock_guard lock(mu_);
  stats_.invalid_frames += c->decoder ? c->decoder->stats().invalid : 0;
  conns_.erase(id);
}

std::vector<OutboundCall> TapDecoder::take() {
  std::lock_guard lock(mu_);
  return std::exchange(done_, {});
}

TapDecoderStats TapDecoder::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace reel::record
