#include "capture/stream_buffer.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace reel::capture {

namespace {
// Compacting the readable vector costs a move of what is left; do it only when the consumed
// prefix is both large and at least half the storage.
constexpr std::size_t kCompactAt = 64 * 1024;
// An empty buffer keeps at most this much capacity, so idle connections stay cheap.
constexpr std::size_t kKeepCapacity = 256 * 1024;

// Length of a range starting at `pos`, shortened so that pos + len does not wrap.
std::uint64_t clamp_len(std::uint64_t pos, std::uint64_t len) {
  return std::min(len, std::numeric_limits<std::uint64_t>::max() - pos);
}
}  // namespace

StreamBuffer::StreamBuffer(StreamBufferOptions options) : options_(options) {}

void StreamBuffer::add(std::uint64_t pos, std::span<const std::byte> bytes, std::uint64_t ts_ns) {
  stats_.chunks_added++;
  stats_.bytes_added += bytes.size();
  last_activity_ns_ = std::max(last_activity_ns_, ts_ns);
  bytes = bytes.first(clamp_len(pos, bytes.size()));
  if (bytes.empty()) return;
  std::uint64_t end = pos + bytes.size();
  if (end <= readable_end()) {
    stats_.chunks_stale++;
    stats_.bytes_duplicate += bytes.size();
    return;
  }
  if (pos < readable_end()) {
    std::uint64_t cut = readable_end() - pos;
    stats_.bytes_duplicate += cut;
    bytes = bytes.subspan(cut);
    pos = readable_end();
  }
  if (pos == readable_end() && pending_.empty()) {
    append(bytes, ts_ns);  // the common case: in order
  } else {
    insert_pending(pos, bytes, 0, ts_ns);
    drain_pending();
  }
  enforce_limits();
}

void StreamBuffer::pass(std::size_t n, std::uint64_t ts_ns) {
  stats_.chunks_added++;
  stats_.bytes_added += n;
  stats_.bytes_delivered += n;
  last_activity_ns_ = std::max(last_activity_ns_, ts_ns);
  head_ += n;
  times_.clear();  // nothing readable is left to time
}

void StreamBuffer::add_captured(std::uint64_t pos, std::span<const std::byte> bytes,
                                std::uint64_t len, std::uint64_t ts_ns) {
  if (bytes.empty()) return add_lost(pos, len, ts_ns);
  add(pos, bytes, ts_ns);
  if (bytes.size() < len) add_lost(pos + bytes.size(), len - bytes.size(), ts_ns);
}

void StreamBuffer::add_lost(std::uint64_t pos, std::uint64_t len, std::uint64_t ts_ns) {
  stats_.chunks_added++;
  last_activity_ns_ = std::max(last_activity_ns_, ts_ns);
  len = clamp_len(pos, len);
  if (len == 0) return;
  std::uint64_t end = pos + len;
  if (end <= readable_end()) {
    stats_.chunks_stale++;
    return;
  }
  if (pos < readable_end()) {
    len = end - readable_end();
    pos = readable_end();
  }
  insert_pending(pos, {}, len, ts_ns);
  enforce_limits();
}

std::span<const std::byte> StreamBuffer::readable() const {
  return std::span<const std::byte>(data_).subspan(start_);
}

void StreamBuffer::consume(std::size_t n) {
  n = std::min(n, readable_size());
  stats_.bytes_delivered += n;
  advance_head(n);
}

Gap StreamBuffer::gap() const {
  if (readable_size() > 0 || pending_.empty()) return {};
  auto it = pending_.begin();
  if (it->first > head_) {
    bool stale = pending_bytes_ > options_.reorder_window;
    return {stale ? GapKind::kLost : GapKind::kWaiting, it->first - head_};
  }
  // Data at the head is always drained into the readable bytes, so this is a lost range: take
  // the whole run of lost ranges that follows it.
  std::uint64_t cur = head_;
  for (; it != pending_.end() && it->first == cur && it->second.bytes.empty(); ++it) {
    cur += it->second.lost;
  }
  return {GapKind::kLost, cur - head_};
}

std::uint64_t StreamBuffer::skip_gap() {
  Gap g = gap();
  if (g.kind == GapKind::kNone) return 0;
  skip_hole(g.bytes);
  return g.bytes;
}

std::uint64_t StreamBuffer::take_loss() { return std::exchange(unreported_loss_, 0); }

std::uint64_t StreamBuffer::time_at(std::uint64_t pos) const {
  if (times_.empty()) return last_activity_ns_;
  auto it = std::upper_bound(times_.begin(), times_.end(), pos,
                             [](std::uint64_t p, const auto& entry) { return p < entry.first; });
  if (it == times_.begin()) return times_.front().second;
  return std::prev(it)->second;
}

void StreamBuffer::append(std::span<const std::byte> bytes, std::uint64_t ts_ns) {
  // The index is capped like the chunks: past it, later bytes take an earlier chunk's time.
  if ((times_.empty() || times_.back().second != ts_ns) && times_.size() < options_.max_chunks) {
    times_.emplace_back(readable_end(), ts_ns);
  }
  data_.insert(data_.end(), bytes.begin(), bytes.end());
}

// Stores the parts of [pos, pos+len) that no held chunk covers yet: the first copy wins.
void StreamBuffer::insert_pending(std::uint64_t pos, std::span<const std::byte> bytes,
                                  std::uint64_t lost, std::uint64_t ts_ns) {
  std::uint64_t end = pos + (bytes.empty() ? lost : bytes.size());
  std::uint64_t cur = pos;
  std::uint64_t stored = 0;
  auto it = pending_.upper_bound(cur);
  if (it != pending_.begin()) {
    auto prev = std::prev(it);
    cur = std::max(cur, std::min(end, prev->first + prev->second.size()));
  }
  while (cur < end) {
    if (it != pending_.end() && it->first <= cur) {
      cur = std::max(cur, std::min(end, it->first + it->second.size()));
      ++it;
      continue;
    }
    std::uint64_t piece_end = it == pending_.end() ? end : std::min(end, it->first);
    Pending piece{.ts_ns = ts_ns};
    if (bytes.empty()) {
      piece.lost = piece_end - cur;
    } else {
      auto first = bytes.begin() + static_cast<std::ptrdiff_t>(cur - pos);
      piece.bytes.assign(first, first + static_cast<std::ptrdiff_t>(piece_end - cur));
      pending_bytes_ += piece.bytes.size();
    }
    pending_.emplace_hint(it, cur, std::move(piece));
    stored += piece_end - cur;
    cur = piece_end;
  }
  if (!bytes.empty()) stats_.bytes_duplicate += bytes.size() - stored;
  if (stored == 0) stats_.chunks_stale++;
}

void StreamBuffer::drain_pending() {
  while (!pending_.empty()) {
    auto it = pending_.begin();
    if (it->first != readable_end() || it->second.bytes.empty()) break;
    append(it->second.bytes, it->second.ts_ns);
    pending_bytes_ -= it->second.bytes.size();
    pending_.erase(it);
  }
}

void StreamBuffer::advance_head(std::uint64_t n) {
  start_ += n;
  head_ += n;
  if (start_ == data_.size()) {
    data_.clear();
    start_ = 0;
    if (data_.capacity() > kKeepCapacity) data_.shrink_to_fit();
  } else if (start_ >= kCompactAt && start_ * 2 >= data_.size()) {
    data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  while (times_.size() >= 2 && times_[1].first <= head_) times_.pop_front();
}

// Only called with no readable bytes: every held range with first < head_ + n is lost.
void StreamBuffer::skip_hole(std::uint64_t n) {
  std::uint64_t end = head_ + n;
  while (!pending_.empty() && pending_.begin()->first < end) {
    pending_bytes_ -= pending_.begin()->second.bytes.size();
    pending_.erase(pending_.begin());
  }
  head_ = end;
  stats_.bytes_lost += n;
  stats_.gaps++;
  unreported_loss_ += n;
  drain_pending();
}

bool StreamBuffer::over_limits() const {
  return buffered_bytes() > options_.max_bytes || pending_.size() > options_.max_chunks;
}

// Evicts the oldest data in stream order until the caps hold: unread bytes at the head first,
// then the hole in front of out-of-order data, which makes that data readable.
void StreamBuffer::enforce_limits() {
  while (over_limits()) {
    if (readable_size() > 0) {
      std::size_t held = buffered_bytes();
      std::size_t excess = held > options_.max_bytes ? held - options_.max_bytes : readable_size();
      std::size_t n = std::min(excess, readable_size());
      advance_head(n);
      stats_.bytes_dropped += n;
      stats_.chunks_dropped++;
      unreported_loss_ += n;
      continue;
    }
    if (pending_.empty()) break;
    skip_hole(gap().bytes);
  }
}

}  // namespace reel::capture
