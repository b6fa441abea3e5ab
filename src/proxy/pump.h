// One direction of a relayed connection: bytes from one socket to the other, through a buffer
// with recv/send for small messages and through a pipe with splice() (no copy to user space) for
// bulk. Tapped directions always use the buffer, since the tap needs the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "proxy/pools.h"
#include "proxy/relay.h"

namespace reel {

struct PumpTap {
  const std::function<void(ConnId, Direction, std::span<const std::byte>)>* data = nullptr;
  ConnId id = 0;
  Direction direction = Direction::kClientToServer;
};

class Pump {
 public:
  enum class State : std::uint8_t {
    kOpen,
    kDone,    // EOF read and passed on as shutdown(SHUT_WR)
    kFailed,  // a reset or an error on either socket
  };
  enum class Run : std::uint8_t {
    kIdle,  // blocked until an epoll edge on one of the sockets
    kMore,  // stopped to let other connections run; call run() again without waiting for an edge
  };

  // `pipes` null: read/write only. Both pools must outlive the pump.
  Pump(int from, int to, PipePool* pipes, BufferPool& buffers, PumpTap tap);
  Pump(const Pump&) = delete;
  Pump& operator=(const Pump&) = delete;
  ~Pump();

  // Moves bytes until both sockets would block, the budget is spent or the direction ends.
  Run run();
  // The source socket reported RDHUP/HUP/ERR: its EOF or error is waiting, and no further edge
  // will announce it, so every read must go on until EAGAIN.
  void source_closing() { source_closing_ = true; }
  State state() const { return state_; }
  std::size_t pending() const { return pending_; }
  int error() const { return error_; }
  // Bytes delivered to the destination socket since the last call.
  std::uint64_t take_moved() { return std::exchange(moved_, 0); }

 private:
  enum class Io : std::uint8_t { kProgress, kAgain, kEof, kError };

  Io fill();
  void choose_path();
  Io flush();
  Io splice_in();
  Io splice_out();
  Io read_in();
  Io write_out();
  std::size_t capacity() const;
  Io error_io();
  void finish();
  Run fail();
  // Hands the pipe or buffer back while nothing is in flight.
  void release_if_empty();

  int from_;
  int to_;
  PipePool* pipes_;
  BufferPool& buffers_;
  PumpTap tap_;
  State state_ = State::kOpen;
  bool eof_ = false;
  bool source_closing_ = false;
  bool drained_ = false;  // a short read emptied the source in this run
  bool bulk_ = false;     // recent reads were big: splice them
  int error_ = 0;
  std::size_t pending_ = 0;
  std::uint64_t moved_ = 0;
  Pipe pipe_;
  std::unique_ptr<std::byte[]> buf_;
  std::size_t head_ = 0;  // buf_[head_, head_ + pending_) awaits writing
};

}  // namespace reel
