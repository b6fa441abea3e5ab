#include "proxy/worker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

namespace reel {
namespace {

// epoll data: a Connection pointer with the side in the low bits, or a tag with an fd above it.
constexpr std::uint64_t kTagMask = 7;
constexpr std::uint64_t kTagListener = 2;
constexpr std::uint64_t kTagWake = 3;
static_assert(alignof(Connection) > kTagMask, "the tag bits must be free in a Connection*");
constexpr int kMaxEvents = 256;
// Accepts per wakeup per listener: listeners are level-triggered, so the rest waits its turn
// behind the data already queued instead of starving it.
constexpr int kAcceptBatch = 64;

struct Upstream {
  UniqueFd fd;
  bool connected = false;
};

Result<Upstream> connect_upstream(const Endpoint& dest) {
  UniqueFd fd(::socket(dest.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = dest.to_sockaddr(ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0)
    return Upstream{std::move(fd), true};
  if (errno == EINPROGRESS) return Upstream{std::move(fd), false};
  return fail_errno("connect " + dest.to_string());
}

std::optional<Endpoint> address_of(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len)) != 0) return {};
  return Endpoint::from_sockaddr(sa, len);
}

bool is_loopback(const IpAddr& ip) {
  if (ip.is_v4()) return (ntohl(ip.v4_be()) >> 24) == 127;
  return ip == IpAddr::from_v6(in6addr_loopback);
}

bool add_to_epoll(int epoll, int fd, std::uint32_t events, std::uint64_t data) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) == 0;
}

}  // namespace

Worker::Worker(int index, const WorkerShared& shared)
    : index_(index), shared_(shared), buffers_(shared.options.buffer_bytes) {
  if (shared.options.splice)
    pipes_ = std::make_unique<PipePool>(shared.options.buffer_bytes, &shared.budget);
}

Worker::~Worker() = default;

Result<std::unique_ptr<Worker>> Worker::create(int index, const WorkerShared& shared,
                                               std::vector<UniqueFd> listeners) {
  std::unique_ptr<Worker> w(new Worker(index, shared));
  w->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!w->epoll_) return fail_errno("relay: epoll_create1");
  w->wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!w->wake_) return fail_errno("relay: eventfd");
  w->spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!add_to_epoll(w->epoll_.get(), w->wake_.get(), EPOLLIN, kTagWake))
    return fail_errno("relay: epoll_ctl");
  for (auto& l : listeners) {
    auto data = (static_cast<std::uint64_t>(l.get()) << 3) | kTagListener;
    if (!add_to_epoll(w->epoll_.get(), l.get(), EPOLLIN, data))
      return fail_errno("relay: epoll_ctl");
  }
  w->listeners_ = std::move(listeners);
  return w;
}

void Worker::stop(std::chrono::steady_clock::time_point deadline) {
  deadline_.store(deadline, std::memory_order_relaxed);
  stopping_.store(true, std::memory_order_release);
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
}

void Worker::run() {
  // Writing to a socket whose peer reset raises SIGPIPE even through splice(), which has no
  // MSG_NOSIGNAL. Blocked here it stays pending on this thread instead of killing the process.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);

  std::array<epoll_event, kMaxEvents> events;
  while (!finished()) {
    int n = ::epoll_wait(epoll_.get(), events.data(), kMaxEvents, wait_ms());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      spdlog::error("relay worker {}: epoll_wait: {}", index_, std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; i++) dispatch(events[i]);
    resume_yielded();
    reap();
  }
  for (auto& c : conns_) c->abort();
  conns_.clear();
  yielded_.clear();
  dead_.clear();
  counters_.active.store(0, std::memory_order_relaxed);
  listeners_.clear();
}

bool Worker::finished() {
  if (!stopping_.load(std::memory_order_acquire)) return false;
  listeners_.clear();  // draining: no new connections
  return conns_.empty() || std::chrono::steady_clock::now() >= deadline_.load();
}

int Worker::wait_ms() const {
  if (!yielded_.empty()) return 0;
  if (!stopping_.load(std::memory_order_relaxed)) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_.load() -
                                                           std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1000));
}

void Worker::dispatch(const epoll_event& ev) {
  std::uint64_t tag = ev.data.u64 & kTagMask;
  if (tag == kTagWake) {
    // Level-triggered: left unread it would wake every epoll_wait while draining.
    std::uint64_t count;
    [[maybe_unused]] auto n = ::read(wake_.get(), &count, sizeof count);
    return;
  }
  if (tag == kTagListener) return accept_from(static_cast<int>(ev.data.u64 >> 3));
  auto* c = reinterpret_cast<Connection*>(ev.data.u64 & ~kTagMask);
  handle(c, c->on_event(static_cast<Connection::Side>(tag), ev.events));
}

void Worker::accept_from(int listener) {
  for (int i = 0; i < kAcceptBatch; i++) {
    // A connection's two sockets are claimed before accepting; past the budget it is accepted on
    // the reserve and reset at once.
    FdClaim fds = FdClaim::take(&shared_.budget, 2);
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (!fds) {
        refuse(fd);
        continue;
      }
      bump(counters_.accepted);
      admit(UniqueFd(fd), std::move(fds));
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE) shed_one(listener);
    return;
  }
}

// The reserve itself ran out (reel's other descriptors grew into it): a level-triggered listener
// would spin, so a descriptor kept aside is released to accept and reset one connection.
void Worker::shed_one(int listener) {
  spare_.reset();
  int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) refuse(fd);
  spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

// Resets `fd`, counted for the summary; logged at the 1st, 10th, 100th... so an overload cannot
// flood the log.
void Worker::refuse(int fd) {
  set_linger_zero(fd);
  ::close(fd);
  std::uint64_t n = shared_.refused.fetch_add(1, std::memory_order_relaxed) + 1;
  std::uint64_t p = 1;
  while (p * 10 <= n) p *= 10;
  if (n == p)
    spdlog::warn("relay: out of file descriptors: {} new connection{} reset so far (room for {} "
                 "connections; raise RLIMIT_NOFILE's hard limit for more)",
                 n, n == 1 ? "" : "s", shared_.connection_room);
}

void Worker::admit(UniqueFd client, FdClaim fds) {
  const RelayOptions& opt = shared_.options;
  auto dest = opt.destination(client.get());
  if (!dest) {
    bump(counters_.no_destination);
    spdlog::debug("relay: refusing a connection: {}", dest.error().message);
    return set_linger_zero(client.get());
  }
  if (loops_back(*dest, client.get())) {
    bump(counters_.loops_refused);
    spdlog::warn("relay: refusing a connection to {}, the relay itself", dest->to_string());
    return set_linger_zero(client.get());
  }
  ConnId id = next_seq_++ * static_cast<ConnId>(shared_.workers) + static_cast<ConnId>(index_);
  bool tapped = tap_wants(id, client.get(), *dest);
  auto up = connect_upstream(*dest);
  if (!up) {
    spdlog::debug("relay: connection {}: {}", id, up.error().message);
    if (up.error().code == EMFILE || up.error().code == ENFILE) {
      refuse(client.release());
    } else {
      bump(counters_.upstream_failed);
      set_linger_zero(client.get());
    }
    if (tapped && opt.tap.close) opt.tap.close(id, true);
    return;
  }
  const RelayTakeover* takeover = opt.takeover.wants && opt.takeover.take ? &opt.takeover : nullptr;
  ConnContext ctx{pipes_.get(), buffers_, counters_, opt.tap, takeover};
  adopt(std::make_unique<Connection>(id, std::move(client), std::move(up->fd), tapped, ctx,
                                    std::move(fds)),
        up->connected);
}

bool Worker::loops_back(const Endpoint& dest, int client_fd) const {
  for (const auto& l : shared_.listening) {
    if (l.port != dest.port || l.ip.is_v4() != dest.ip.is_v4()) continue;
    if (l.ip == dest.ip) return true;
    if (!l.ip.is_unspecified()) continue;
    if (is_loopback(dest.ip)) return true;
    auto local = address_of(client_fd, false);
    if (local && local->ip == dest.ip) return true;
  }
  return false;
}

bool Worker::tap_wants(ConnId id, int client_fd, const Endpoint& dest) const {
  const RelayTap& tap = shared_.options.tap;
  if (!tap.data) return false;
  if (!tap.open) return true;
  return tap.open(id, address_of(client_fd, true).value_or(Endpoint{}), dest);
}

void Worker::adopt(std::unique_ptr<Connection> conn, bool connected) {
  Connection* c = conn.get();
  c->slot = conns_.size();
  conns_.push_back(std::move(conn));
  bump(counters_.active);
  constexpr std::uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  auto base = reinterpret_cast<std::uint64_t>(c);
  using Side = Connection::Side;
  for (Side side : {Side::kClient, Side::kUpstream}) {
    if (!add_to_epoll(epoll_.get(), c->fd(side), kEvents,
                      base | static_cast<std::uint64_t>(side))) {
      spdlog::warn("relay: epoll_ctl: {}", std::strerror(errno));
      c->abort();
      return handle(c, Connection::Outcome::kClosed);
    }
  }
  if (connected) handle(c, c->connected());
}

void Worker::handle(Connection* c, Connection::Outcome outcome) {
  if (outcome == Connection::Outcome::kTakeover) {
    for (auto side : {Connection::Side::kClient, Connection::Side::kUpstream})
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c->fd(side), nullptr);
    shared_.options.takeover.take(c->hand_over());
    outcome = Connection::Outcome::kClosed;
  }
  if (outcome == Connection::Outcome::kClosed && !c->doomed) {
    c->doomed = true;
    dead_.push_back(c);
  } else if (outcome == Connection::Outcome::kMore && !c->queued_more) {
    c->queued_more = true;
    yielded_.push_back(c);
  }
}

void Worker::resume_yielded() {
  if (yielded_.empty()) return;
  resuming_.swap(yielded_);
  for (Connection* c : resuming_) {
    c->queued_more = false;
    if (!c->closed()) handle(c, c->resume());
  }
  resuming_.clear();
}

// Frees connections closed during the batch; their sockets were closed at once, so no later
// epoll_wait can return them, but events already in this batch could.
void Worker::reap() {
  for (Connection* c : dead_) {
    std::size_t slot = c->slot;
    if (slot + 1 != conns_.size()) {
      conns_[slot] = std::move(conns_.back());
      conns_[slot]->slot = slot;
    }
    conns_.pop_back();
    counters_.active.store(counters_.active.load(std::memory_order_relaxed) - 1,
                           std::memory_order_relaxed);
  }
  dead_.clear();
}

}  // namespace reel
