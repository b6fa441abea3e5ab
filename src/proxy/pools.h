// Per-worker free lists of pipes and buffers. A pump holds one only while it has bytes in flight,
// so idle keep-alive connections cost no memory and no pipe quota (fs.pipe-user-pages-soft counts
// pipe capacity per user, and reel may run without CAP_SYS_RESOURCE).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/unique_fd.h"

namespace reel {

// The descriptors the relay's workers may hold for sockets and pipes, shared by all of them. A
// worker claims before it opens, so running out is a decision taken in advance and counted,
// instead of an EMFILE in the middle of accept() or socket() that the other workers, or reel's
// own files, would race for.
class FdBudget {
 public:
  explicit FdBudget(std::int64_t total = 0) : left_(total) {}
  void reset(std::int64_t total) { left_.store(total, std::memory_order_relaxed); }
  bool try_take(int n) {
    if (left_.fetch_sub(n, std::memory_order_relaxed) >= n) return true;
    left_.fetch_add(n, std::memory_order_relaxed);
    return false;
  }
  void give(int n) { left_.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t left() const { return left_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> left_;
};

// `n` descriptors claimed from a budget, given back when the claim is destroyed.
class FdClaim {
 public:
  FdClaim() = default;
  // Empty when the budget has fewer than `n` left.
  static FdClaim take(FdBudget* budget, int n) {
    FdClaim c;
    if (budget && budget->try_take(n)) c.budget_ = budget, c.n_ = n;
    return c;
  }
  FdClaim(FdClaim&& o) noexcept : budget_(std::exchange(o.budget_, nullptr)), n_(o.n_) {}
  FdClaim& operator=(FdClaim&& o) noexcept {
    if (this != &o) {
      release();
      budget_ = std::exchange(o.budget_, nullptr);
      n_ = o.n_;
    }
    return *this;
  }
  ~FdClaim() { release(); }
  explicit operator bool() const { return budget_ != nullptr; }

 private:
  void release() {
    if (budget_) budget_->give(n_);
    budget_ = nullptr;
  }
  FdBudget* budget_ = nullptr;
  int n_ = 0;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
  std::size_t capacity = 0;
  FdClaim claim;  // its two descriptors, when the pool has a budget
  explicit operator bool() const { return static_cast<bool>(read); }
};

// Not thread-safe: each worker owns its pools.
class PipePool {
 public:
  // `budget`: null for no limit but the process's own.
  explicit PipePool(std::size_t capacity, FdBudget* budget = nullptr)
      : capacity_(capacity), budget_(budget) {}
  // An empty pipe, or an empty Pipe when the budget or the process is out of descriptors.
  Pipe take();
  // `p` must be empty.
  void give(Pipe p);

 private:
  std::size_t capacity_;
  FdBudget* budget_;
  std::vector<Pipe> free_;
};

class BufferPool {
 public:
  explicit BufferPool(std::size_t size) : size_(size) {}
  std::size_t size() const { return size_; }
  std::unique_ptr<std::byte[]> take();
  void give(std::unique_ptr<std::byte[]> b);

 private:
  std::size_t size_;
  std::vector<std::unique_ptr<std::byte[]>> free_;
};

}  // namespace reel
