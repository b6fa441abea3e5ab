#include "proxy/connection.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace reel {
namespace {

PumpTap pump_tap(const RelayTap& tap, bool tapped, ConnId id, Direction d) {
  if (!tapped || !tap.data) return {};
  return PumpTap{&tap.data, id, d};
}

constexpr std::uint32_t kReadable = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
constexpr std::uint32_t kWritable = EPOLLOUT | EPOLLHUP | EPOLLERR;

}  // namespace

void set_linger_zero(int fd) {
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

Connection::Connection(ConnId id, UniqueFd client, UniqueFd upstream, bool tapped, ConnContext ctx,
                       FdClaim fds)
    : id_(id),
      fds_(std::move(fds)),
      client_(std::move(client)),
      upstream_(std::move(upstream)),
      tapped_(tapped),
      sniffing_(ctx.takeover != nullptr),
      ctx_(ctx),
      up_(client_.get(), upstream_.get(), ctx.pipes, ctx.buffers,
          pump_tap(ctx.tap, tapped, id, Direction::kClientToServer)),
      down_(upstream_.get(), client_.get(), ctx.pipes, ctx.buffers,
            pump_tap(ctx.tap, tapped, id, Direction::kServerToClient)) {}

Connection::Outcome Connection::connected() {
  state_ = State::kRelaying;
  // The client may have sent (or closed) while we were connecting, and that edge is spent.
  return run(true, true);
}

Connection::Outcome Connection::on_event(Side side, std::uint32_t events) {
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    (side == Side::kClient ? up_ : down_).source_closing();
  switch (state_) {
    case State::kClosed:
      return Outcome::kClosed;
    case State::kConnecting:
      return on_connect_event(side, events);
    case State::kRelaying:
      break;
  }
  bool from_client = side == Side::kClient;
  // Readable: the pump reading this socket. Writable: the pump writing it, if it has a backlog.
  const Pump& writer = from_client ? down_ : up_;
  bool run_reader = (events & kReadable) != 0;
  bool run_writer = (events & kWritable) != 0 && writer.pending() > 0;
  return from_client ? run(run_reader, run_writer) : run(run_writer, run_reader);
}

Connection::Outcome Connection::on_connect_event(Side side, std::uint32_t events) {
  if (side == Side::kClient) {
    // The application gave up (reset) before the upstream answered: don't keep the attempt alive.
    if (events & (EPOLLHUP | EPOLLERR)) close(true);
    return closed() ? Outcome::kClosed : Outcome::kOpen;
  }
  if (!(events & (EPOLLOUT | EPOLLHUP | EPOLLERR))) return Outcome::kOpen;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(upstream_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) return connected();
  spdlog::debug("relay: connection {}: upstream connect failed: {}", id_, std::strerror(err));
  bump(ctx_.counters.upstream_failed);
  close(true);
  return Outcome::kClosed;
}

Connection::Outcome Connection::resume() {
  if (state_ != State::kRelaying) return closed() ? Outcome::kClosed : Outcome::kOpen;
  return run(more_up_, more_down_);
}

Connection::Outcome Connection::run(bool up, bool down) {
  if (sniffing_ && sniff(up, down)) return Outcome::kTakeover;
  // Until the sniff decides, the client's bytes stay unread: had the pump read a ClientHello that
  // arrived after the peek, it would go past the takeover. Such bytes come with an edge of their own.
  if (up && !sniffing_) more_up_ = up_.run() == Pump::Run::kMore;
  if (down) more_down_ = down_.run() == Pump::Run::kMore;
  count_bytes();
  return settle();
}

Connection::Outcome Connection::settle() {
  using S = Pump::State;
  if (up_.state() == S::kFailed || down_.state() == S::kFailed) {
    int err = up_.state() == S::kFailed ? up_.error() : down_.error();
    spdlog::debug("relay: connection {} reset: {}", id_, std::strerror(err));
    close(true);
    return Outcome::kClosed;
  }
  if (up_.state() == S::kDone && down_.state() == S::kDone) {
    close(false);
    return Outcome::kClosed;
  }
  return more_up_ || more_down_ ? Outcome::kMore : Outcome::kOpen;
}

void Connection::count_bytes() {
  if (auto n = up_.take_moved()) bump(ctx_.counters.bytes_up, n);
  if (auto n = down_.take_moved()) {
    bump(ctx_.counters.bytes_down, n);
    // The server spoke first, even if its bytes went through before the sniff could peek at
    // them (they can arrive between the peek and the pump): never a takeover.
    sniffing_ = false;
  }
}

// Decides once, on the first bytes either side sends, whether the takeover wants the connection.
// Peeks only, so the pumps then read those bytes as usual.
bool Connection::sniff(bool client_readable, bool upstream_readable) {
  std::byte first[16];
  if (upstream_readable && ::recv(upstream_.get(), first, 1, MSG_PEEK | MSG_DONTWAIT) != -1) {
    sniffing_ = false;  // the server spoke first (or closed): not a protocol the takeover wants
    return false;
  }
  if (!client_readable) return false;
  ssize_t n = ::recv(client_.get(), first, sizeof first, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;  // nothing yet
  sniffing_ = false;  // bytes, end of stream or an error: the pump handles the last two
  return n > 0 && ctx_.takeover->wants(std::span<const std::byte>(first, std::size_t(n)));
}

TakenConnection Connection::hand_over() {
  TakenConnection t{id_, std::move(client_), std::move(upstream_),
                    tapped_ && ctx_.tap.data ? &ctx_.tap : nullptr};
  state_ = State::kClosed;
  return t;
}

void Connection::close(bool reset) {
  if (state_ == State::kClosed) return;
  if (reset) {
    set_linger_zero(client_.get());
    set_linger_zero(upstream_.get());
  }
  client_.reset();
  upstream_.reset();
  state_ = State::kClosed;
  if (tapped_ && ctx_.tap.close) ctx_.tap.close(id_, reset);
}

}  // namespace reel
