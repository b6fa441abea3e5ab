// The bytes of one direction of one connection, put back in stream order.
//
// The kernel sends chunks tagged with their byte position in the stream. They can arrive out of
// order, twice, overlapping, or not at all; a chunk can also be "length-only" when the kernel
// capped a message and the bytes are known lost. This buffer hands a parser the contiguous bytes
// at the read head and says so plainly when the head sits at a hole, so the parser resyncs instead
// of joining bytes that do not belong together. Pure data structure: no clock, no I/O.
//
// Typical drive loop (per direction, after each batch of chunks):
//   while (true) {
//     if (buf.gap().kind == GapKind::kLost) buf.skip_gap();
//     if (auto lost = buf.take_loss()) decoder.on_gap(dir, lost);
//     auto data = buf.readable();
//     if (data.empty()) break;
//     auto n = decoder.feed(dir, data, [&](size_t off) { return buf.time_at(buf.position() + off);
//     }); if (n == 0) break; buf.consume(n);
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <utility>
#include <vector>

namespace reel::capture {

struct StreamBufferOptions {
  // Bytes held (readable plus out of order). Beyond it the oldest data in stream order goes:
  // first unread bytes at the head, then the hole before out-of-order data. Parse after every
  // batch so the readable part is only ever a partial frame.
  std::size_t max_bytes = 4 * 1024 * 1024;
  std::size_t max_chunks = 4096;  // out-of-order chunks held
  // Out-of-order bytes that may wait behind a hole before the hole is declared lost. Chunks of
  // one socket are rarely reordered by more than a few events, so a hole this old is a drop.
  std::size_t reorder_window = 256 * 1024;
};

struct StreamStats {
  std::uint64_t chunks_added = 0;
  std::uint64_t bytes_added = 0;      // bytes offered, including duplicates
  std::uint64_t bytes_delivered = 0;  // bytes consumed by the reader
  std::uint64_t bytes_duplicate = 0;  // offered again, or behind the head when they came
  std::uint64_t chunks_stale = 0;     // chunks entirely behind the head or already held
  std::uint64_t bytes_lost = 0;       // holes skipped (known lost or never arrived)
  std::uint64_t gaps = 0;             // holes skipped
  std::uint64_t bytes_dropped = 0;    // held bytes evicted to stay within the caps
  std::uint64_t chunks_dropped = 0;   // evictions
};

enum class GapKind : std::uint8_t {
  kNone,     // bytes at the head, or nothing held at all
  kWaiting,  // a hole at the head that a late chunk may still fill
  kLost,     // a hole at the head that will not be filled: skip it
};

struct Gap {
  GapKind kind = GapKind::kNone;
  std::uint64_t bytes = 0;  // length of the hole at the head
};

class StreamBuffer {
 public:
  explicit StreamBuffer(StreamBufferOptions options = {});

  // Bytes that start at stream position `pos`, read at `ts_ns`. What is already held or consumed
  // wins over a repeat.
  void add(std::uint64_t pos, std::span<const std::byte> bytes, std::uint64_t ts_ns);
  // `len` bytes at `pos` that the kernel knows it did not deliver.
  void add_lost(std::uint64_t pos, std::uint64_t len, std::uint64_t ts_ns);
  // A capture event's `len` bytes at `pos`, of which the kernel copied the first `bytes` (none
  // for a length-only event): those are added, the rest is lost.
  void add_captured(std::uint64_t pos, std::span<const std::byte> bytes, std::uint64_t len,
                    std::uint64_t ts_ns);

  // Contiguous bytes from the read head; valid until the next non-const call.
  std::span<const std::byte> readable() const;
  // Drops `n` readable bytes (n is clamped to readable().size()).
  void consume(std::size_t n);
  std::uint64_t position() const { return head_; }

  // Nothing held, nothing lost unreported, and the head at `pos`: bytes that start there can be
  // read where they lie (the ring's memory) instead of being copied in first.
  bool at_rest(std::uint64_t pos) const {
    return head_ == pos && readable_size() == 0 && pending_.empty() && unreported_loss_ == 0;
  }
  // Counts `n` bytes at the head that were read where they lay (see at_rest) as added and
  // consumed, and moves the head past them.
  void pass(std::size_t n, std::uint64_t ts_ns);

  Gap gap() const;
  // Moves the head over the hole at the head (whatever its kind); returns the bytes skipped.
  std::uint64_t skip_gap();
  // Bytes lost just before the head since the last call (skipped holes and evictions): non-zero
  // means the next readable byte does not follow the last consumed one.
  std::uint64_t take_loss();

  // Arrival time of the byte at stream position `pos` (of the chunk that carried it).
  std::uint64_t time_at(std::uint64_t pos) const;
  std::uint64_t last_activity_ns() const { return last_activity_ns_; }
  std::size_t buffered_bytes() const { return readable_size() + pending_bytes_; }
  const StreamStats& stats() const { return stats_; }

 private:
  struct Pending {
    std::vector<std::byte> bytes;  // empty for a lost range
    std::uint64_t lost = 0;        // length of a lost range
    std::uint64_t ts_ns = 0;
    std::uint64_t size() const { return bytes.empty() ? lost : bytes.size(); }
  };

  std::size_t readable_size() const { return data_.size() - start_; }
  std::uint64_t readable_end() const { return head_ + readable_size(); }
  void append(std::span<const std::byte> bytes, std::uint64_t ts_ns);
  void insert_pending(std::uint64_t pos, std::span<const std::byte> bytes, std::uint64_t lost,
                      std::uint64_t ts_ns);
  void drain_pending();
  void advance_head(std::uint64_t n);
  void skip_hole(std::uint64_t n);
  void enforce_limits();
  bool over_limits() const;

  StreamBufferOptions options_;
  std::uint64_t head_ = 0;
  std::vector<std::byte> data_;  // readable bytes start at data_[start_]
  std::size_t start_ = 0;
  // (stream position, arrival time) of each chunk within the readable bytes, ascending.
  std::deque<std::pair<std::uint64_t, std::uint64_t>> times_;
  std::map<std::uint64_t, Pending> pending_;  // beyond the readable bytes, non-overlapping
  std::size_t pending_bytes_ = 0;
  std::uint64_t unreported_loss_ = 0;
  std::uint64_t last_activity_ns_ = 0;
  StreamStats stats_;
};

}  // namespace reel::capture
