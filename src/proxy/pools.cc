#include "proxy/pools.h"

#include <fcntl.h>
#include <unistd.h>

namespace reel {
namespace {

// Enough to absorb a burst of connections finishing together without hoarding memory.
constexpr std::size_t kMaxFree = 32;

}  // namespace

Pipe PipePool::take() {
  if (!free_.empty()) {
    Pipe p = std::move(free_.back());
    free_.pop_back();
    return p;
  }
  FdClaim claim;
  if (budget_) {
    claim = FdClaim::take(budget_, 2);
    if (!claim) return {};
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1]), 0, std::move(claim)};
  // Past the per-user pipe quota the kernel refuses to grow a pipe; the default size still works.
  int got = ::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(capacity_));
  if (got < 0) got = ::fcntl(fds[1], F_GETPIPE_SZ);
  p.capacity = got > 0 ? static_cast<std::size_t>(got) : 4096;
  return p;
}

void PipePool::give(Pipe p) {
  if (free_.size() < kMaxFree) free_.push_back(std::move(p));
}

std::unique_ptr<std::byte[]> BufferPool::take() {
  if (free_.empty()) return std::make_unique_for_overwrite<std::byte[]>(size_);
  auto b = std::move(free_.back());
  free_.pop_back();
  return b;
}

void BufferPool::give(std::unique_ptr<std::byte[]> b) {
  if (free_.size() < kMaxFree) free_.push_back(std::move(b));
}

}  // namespace reel
