// Per-worker free lists of pipes and buffers. A pump holds one only while it has bytes in flight,
// so idle keep-alive connections cost no memory and no pipe quota (fs.pipe-user-pages-soft counts
// pipe capacity per user, and reel may run without CAP_SYS_RESOURCE).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/unique_fd.h"

namespace reel {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
  std::size_t capacity = 0;
  explicit operator bool() const { return static_cast<bool>(read); }
};

// Not thread-safe: each worker owns its pools.
class PipePool {
 public:
  explicit PipePool(std::size_t capacity) : capacity_(capacity) {}
  // An empty pipe, or an empty Pipe when the process is out of descriptors.
  Pipe take();
  // `p` must be empty.
  void give(Pipe p);

 private:
  std::size_t capacity_;
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
