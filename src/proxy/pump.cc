#include "proxy/pump.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reel {
namespace {

// Bytes one run() may move before yielding, so a fast bulk stream on both ends cannot starve the
// other connections of its worker.
constexpr std::uint64_t kRunBudget = 4u << 20;
// Reads at least this big mark a bulk transfer (switch to splice); spliced reads below
// kSmallRead mark an interactive one (switch back).
constexpr std::size_t kBulkRead = 32 * 1024;
constexpr std::size_t kSmallRead = 4 * 1024;

}  // namespace

Pump::Pump(int from, int to, PipePool* pipes, BufferPool& buffers, PumpTap tap)
    : from_(from), to_(to), pipes_(tap.data ? nullptr : pipes), buffers_(buffers), tap_(tap) {}

Pump::~Pump() { release_if_empty(); }

Pump::Run Pump::run() {
  std::uint64_t start = moved_;
  drained_ = false;
  while (state_ == State::kOpen) {
    Io out = pending_ > 0 ? flush() : Io::kAgain;
    if (out == Io::kError) return fail();
    Io in = !eof_ && !drained_ && pending_ < capacity() ? fill() : Io::kAgain;
    if (in == Io::kError) return fail();
    if (eof_ && pending_ == 0) {
      finish();
      break;
    }
    if (out != Io::kProgress && in != Io::kProgress) break;
    if (moved_ - start >= kRunBudget) {
      release_if_empty();
      return Run::kMore;
    }
  }
  release_if_empty();
  return Run::kIdle;
}

Pump::Io Pump::fill() {
  if (pending_ == 0) choose_path();
  Io io = pipe_ ? splice_in() : read_in();
  if (io == Io::kEof) {
    eof_ = true;
    if (tap_.data) (*tap_.data)(tap_.id, tap_.direction, {});
  }
  return io;
}

// Small messages go through a buffer: one recv and one send each, and a short recv needs no
// EAGAIN to confirm it. A direction that reads big chunks switches to splice, which skips both
// copies through user space. Switching waits until nothing is in flight.
void Pump::choose_path() {
  bool want_pipe = pipes_ && bulk_;
  if (want_pipe && !pipe_) {
    pipe_ = pipes_->take();
    if (!pipe_) pipes_ = nullptr;  // out of descriptors: carry on with read/write
  } else if (!want_pipe && pipe_) {
    pipes_->give(std::move(pipe_));
  }
}

Pump::Io Pump::flush() { return pipe_ ? splice_out() : write_out(); }

std::size_t Pump::capacity() const {
  if (pipe_) return pipe_.capacity;
  return buffers_.size();
}

Pump::Io Pump::error_io() {
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::kAgain;
  error_ = errno;
  return Io::kError;
}

Pump::Io Pump::splice_in() {
  ssize_t n = ::splice(from_, nullptr, pipe_.write.get(), nullptr, pipe_.capacity - pending_,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) {
    pending_ += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < kSmallRead) bulk_ = false;
    return Io::kProgress;
  }
  return n == 0 ? Io::kEof : error_io();
}

Pump::Io Pump::splice_out() {
  ssize_t n = ::splice(pipe_.read.get(), nullptr, to_, nullptr, pending_,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) {
    pending_ -= static_cast<std::size_t>(n);
    moved_ += static_cast<std::uint64_t>(n);
    return Io::kProgress;
  }
  return error_io();
}

Pump::Io Pump::read_in() {
  if (!buf_) {
    buf_ = buffers_.take();
    head_ = 0;
  }
  std::size_t size = buffers_.size();
  if (head_ + pending_ == size) {
    // Only reached with a partial write outstanding: make room at the end.
    std::memmove(buf_.get(), buf_.get() + head_, pending_);
    head_ = 0;
  }
  std::byte* at = buf_.get() + head_ + pending_;
  std::size_t room = size - head_ - pending_;
  ssize_t n = ::recv(from_, at, room, 0);
  if (n > 0) {
    pending_ += static_cast<std::size_t>(n);
    // A short read took all there was. Bytes arriving later raise a new edge, so the EAGAIN
    // read that would confirm it is a wasted syscall per message.
    drained_ = static_cast<std::size_t>(n) < room && !source_closing_;
    if (static_cast<std::size_t>(n) >= kBulkRead) bulk_ = true;
    if (tap_.data) (*tap_.data)(tap_.id, tap_.direction, {at, static_cast<std::size_t>(n)});
    return Io::kProgress;
  }
  return n == 0 ? Io::kEof : error_io();
}

Pump::Io Pump::write_out() {
  ssize_t n = ::send(to_, buf_.get() + head_, pending_, MSG_NOSIGNAL);
  if (n > 0) {
    head_ += static_cast<std::size_t>(n);
    pending_ -= static_cast<std::size_t>(n);
    moved_ += static_cast<std::uint64_t>(n);
    if (pending_ == 0) head_ = 0;
    return Io::kProgress;
  }
  return error_io();
}

void Pump::finish() {
  // The peer of `to_` may already be gone; the other direction reports that as its own error.
  ::shutdown(to_, SHUT_WR);
  state_ = State::kDone;
}

Pump::Run Pump::fail() {
  state_ = State::kFailed;
  if (pending_ > 0) {
    pipe_ = {};  // holds bytes nobody will read; never return it to the pool
    buf_.reset();
    pending_ = 0;
  }
  release_if_empty();
  return Run::kIdle;
}

void Pump::release_if_empty() {
  if (pending_ != 0) return;
  if (pipe_) pipes_->give(std::move(pipe_));
  if (buf_) buffers_.give(std::move(buf_));
}

}  // namespace reel
