// MockServer: one thread, one epoll, level-triggered non-blocking sockets. Each accepted
// connection gets a Responder chosen for where it was headed; DNS is answered on UDP and on TCP
// (2-byte length prefix) from the same pool.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <thread>

#include "core/clock.h"
#include "core/unique_fd.h"
#include "mock/common.h"
#include "mock/protocols.h"
#include "proxy/original_dst.h"
#include "tls/client_hello.h"

namespace reel::mock {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// Past this much unsent output we stop reading the client until it catches up.
constexpr std::size_t kMaxOutput = 4 * 1024 * 1024;

Error bind_error(const Endpoint& ep, int code) {
  std::string where = ep.to_string();
  if (code == EADDRINUSE) {
    return Error::msg(where + " is already in use (EADDRINUSE): another program listens there; "
                              "stop it or choose another port",
                      code);
  }
  if (code == EADDRNOTAVAIL) {
    return Error::msg(where + " is not an address of this machine (EADDRNOTAVAIL)", code);
  }
  if (code == EACCES) {
    return Error::msg(where + " needs privileges to bind (EACCES): use a port above 1023", code);
  }
  return Error::from_errno("bind " + where, code);
}

Result<Endpoint> local_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return fail_errno("getsockname");
  }
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  if (!ep) return fail_msg("getsockname: unexpected address family {}", ss.ss_family);
  return *ep;
}

Endpoint peer_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).value_or(Endpoint{});
}

Result<UniqueFd> bound_socket(const Endpoint& ep, int type) {
  UniqueFd fd(::socket(ep.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket for " + ep.to_string());
  int one = 1;
  if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ep.family() == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = ep.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return fail(bind_error(ep, errno));
  }
  if (type == SOCK_STREAM) {
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::listen(fd.get(), 1024) != 0) {
      if (errno == EADDRINUSE) return fail(bind_error(ep, errno));
      return fail_errno("listen on " + ep.to_string());
    }
  }
  return fd;
}

struct Conn {
  UniqueFd fd;
  std::unique_ptr<Responder> responder;  // null for DNS over TCP
  Endpoint client, server;
  std::string in;   // DNS over TCP: bytes not yet a whole message
  std::string out;  // not yet sent
  bool close_after = false;
  bool sniff = false;  // options.tls is set and the client has not spoken yet
  std::uint64_t silent_since_ns = 0;  // accepted, no greeting sent, the client silent so far
  std::uint32_t events = 0;
};

}  // namespace

struct MockServer::State {
  MockServerOptions options;
  UniqueFd epoll, wake;
  std::vector<UniqueFd> listeners;
  std::vector<Endpoint> bound;
  UniqueFd dns_udp, dns_tcp;
  std::optional<Endpoint> dns_bound;
  std::map<int, std::unique_ptr<Conn>> conns;
  std::size_t silent_conns = 0;  // conns with silent_since_ns set
  std::thread thread;
  std::atomic<bool> stopping{false};
  mutable std::mutex stats_mu;
  MockServerStats stats;

  Result<void> add(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return fail_errno("epoll_ctl");
    return {};
  }

  void count(std::uint64_t MockServerStats::*field) {
    std::lock_guard lock(stats_mu);
    stats.*field += 1;
  }

  void run() {
    epoll_event events[64];
    while (!stopping.load()) {
      int n = ::epoll_wait(epoll.get(), events, 64, silent_conns ? Responder::kSilenceMs / 3 : -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < n && !stopping.load(); ++i) dispatch(events[i].data.fd, events[i].events);
      if (silent_conns) greet_silent();
    }
  }

  // Clients silent since they connected get what a server-first protocol says first, if any.
  void greet_silent() {
    std::uint64_t now = monotonic_ns();
    std::vector<int> done;
    for (auto& [fd, c] : conns) {
      if (c->silent_since_ns == 0 || now - c->silent_since_ns < Responder::kSilenceMs * 1'000'000ull)
        continue;
      heard(*c);
      c->out += c->responder->silence().bytes;
      if (!flush(*c)) {
        done.push_back(fd);
        continue;
      }
      rearm(*c);
    }
    for (int fd : done) drop(fd);
  }

  void heard(Conn& c) {
    if (c.silent_since_ns == 0) return;
    c.silent_since_ns = 0;
    silent_conns--;
  }

  void dispatch(int fd, std::uint32_t ev) {
    if (fd == wake.get()) return;
    if (fd == dns_udp.get()) return serve_udp();
    if (fd == dns_tcp.get()) return accept_all(fd, true);
    for (const auto& l : listeners) {
      if (l.get() == fd) return accept_all(fd, false);
    }
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    Conn& c = *it->second;
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) heard(c);
    if (c.sniff && (ev & EPOLLIN)) {
      c.sniff = false;
      if (hand_to_tls(fd)) return;
    }
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      if (!read_from(c)) return drop(fd);
    }
    if (!flush(c)) return drop(fd);
    if (c.close_after && c.out.empty()) return drop(fd);
    rearm(c);
  }

  void accept_all(int listen_fd, bool dns) {
    for (;;) {
      UniqueFd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd) return;
      auto c = std::make_unique<Conn>();
      c->client = peer_of(fd.get());
      if (!dns) {
        auto where = options.destination ? options.destination(fd.get())
                                         : original_destination(fd.get());
        if (!where) {
          count(&MockServerStats::no_destination);
          continue;  // closes it: there is nothing sane to answer
        }
        c->server = *where;
        c->responder = Responder::create({options.pool, c->client, c->server});
        c->out = c->responder->greeting();
        c->sniff = options.tls && c->out.empty();
        if (c->out.empty()) {
          c->silent_since_ns = monotonic_ns();
          silent_conns++;
        }
        count(&MockServerStats::connections);
      } else {
        // DNS over TCP: the server the app asked, for naming a miss; ours when unknown.
        auto where = options.destination ? options.destination(fd.get())
                                         : original_destination(fd.get());
        if (where) c->server = *where;
      }
      c->fd = std::move(fd);
      int key = c->fd.get();
      c->events = EPOLLIN | (c->out.empty() ? 0u : std::uint32_t{EPOLLOUT});
      if (!add(key, c->events)) continue;
      conns.emplace(key, std::move(c));
    }
  }

  // True when the connection opened with a TLS ClientHello and went to options.tls: the
  // plaintext socket it gave back now stands in `conns` for the client's.
  bool hand_to_tls(int fd) {
    std::byte first[16];
    ssize_t n = ::recv(fd, first, sizeof first, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0 || !tls::looks_like_client_hello({first, std::size_t(n)})) return false;
    ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
    auto node = conns.extract(fd);
    Conn& c = *node.mapped();
    auto plain = options.tls(std::move(c.fd), c.server);
    if (!plain) return true;  // the client's socket went with it
    c.fd = std::move(*plain);
    c.events = EPOLLIN;
    node.key() = c.fd.get();
    if (!add(c.fd.get(), c.events)) return true;
    conns.insert(std::move(node));
    return true;
  }

  // False when the connection is finished with (peer gone and nothing left to send).
  bool read_from(Conn& c) {
    char buf[kReadChunk];
    ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (n == 0) {
      c.close_after = true;  // the client is done; finish sending what it asked for
      return !c.out.empty();
    }
    std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(buf),
                                     static_cast<std::size_t>(n));
    if (!c.responder) return serve_dns_tcp(c, text_of(bytes));
    Responder::Output o = c.responder->feed(bytes);
    c.out += o.bytes;
    if (o.close) c.close_after = true;
    if (o.rejected) count(&MockServerStats::rejected);
    return true;
  }

  bool flush(Conn& c) {
    while (!c.out.empty()) {
      ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    return true;
  }

  void rearm(Conn& c) {
    std::uint32_t want = 0;
    if (!c.close_after && c.out.size() < kMaxOutput) want |= EPOLLIN;
    if (!c.out.empty()) want |= EPOLLOUT;
    if (want == c.events) return;
    c.events = want;
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = c.fd.get();
    ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
  }

  void drop(int fd) {
    ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
    if (auto it = conns.find(fd); it != conns.end()) heard(*it->second);
    conns.erase(fd);
  }

  Endpoint dns_server() const { return dns_bound.value_or(Endpoint{}); }

  void serve_udp() {
    for (;;) {
      char buf[65536];
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(dns_udp.get(), buf, sizeof buf, 0,
                             reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) return;
      count(&MockServerStats::dns_queries);
      Endpoint client =
          Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), len).value_or(Endpoint{});
      std::optional<Endpoint> asked = options.dns_asked ? options.dns_asked() : std::nullopt;
      auto answer = dns_answer(*options.pool,
                               protocols::as_bytes(std::string_view(buf, std::size_t(n))), client,
                               asked.value_or(dns_server()));
      if (!answer) continue;
      ::sendto(dns_udp.get(), answer->data(), answer->size(), MSG_NOSIGNAL,
               reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  bool serve_dns_tcp(Conn& c, std::string_view bytes) {
    c.in.append(bytes);
    while (c.in.size() >= 2) {
      std::size_t len = (std::uint8_t(c.in[0]) << 8) | std::uint8_t(c.in[1]);
      if (c.in.size() < 2 + len) break;
      count(&MockServerStats::dns_queries);
      auto answer = dns_answer(*options.pool,
                               protocols::as_bytes(std::string_view(c.in).substr(2, len)),
                               c.client, c.server.port != 0 ? c.server : dns_server());
      c.in.erase(0, 2 + len);
      if (!answer) {
        c.close_after = true;
        break;
      }
      c.out.push_back(char(answer->size() >> 8));
      c.out.push_back(char(answer->size() & 0xff));
      c.out += *answer;
    }
    return true;
  }
};

Result<std::unique_ptr<MockServer>> MockServer::start(MockServerOptions options) {
  if (options.pool == nullptr) return fail_msg("mock server needs a mock pool");
  auto s = std::make_unique<State>();
  s->options = std::move(options);
  s->epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!s->epoll) return fail_errno("epoll_create1");
  s->wake.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!s->wake) return fail_errno("eventfd");
  REEL_TRY(s->add(s->wake.get(), EPOLLIN));
  for (const auto& ep : s->options.listen) {
    auto fd = REEL_TRY(with_context(bound_socket(ep, SOCK_STREAM), "mock server"));
    s->bound.push_back(REEL_TRY(local_of(fd.get())));
    REEL_TRY(s->add(fd.get(), EPOLLIN));
    s->listeners.push_back(std::move(fd));
  }
  if (s->options.dns) {
    // One port for both transports. With port 0 the kernel picks a free UDP port that TCP may
    // be using: pick again, as the record side's DNS forwarder does.
    const Endpoint& want = *s->options.dns;
    for (int attempt = 0; !s->dns_tcp; attempt++) {
      s->dns_udp = REEL_TRY(with_context(bound_socket(want, SOCK_DGRAM), "mock DNS"));
      Endpoint at = REEL_TRY(local_of(s->dns_udp.get()));
      auto tcp = bound_socket(at, SOCK_STREAM);
      if (!tcp && (want.port != 0 || attempt == 49)) {
        return fail(tcp.error().wrap("mock DNS over TCP"));
      }
      if (tcp) s->dns_tcp = std::move(*tcp);
      s->dns_bound = at;
    }
    REEL_TRY(s->add(s->dns_udp.get(), EPOLLIN));
    REEL_TRY(s->add(s->dns_tcp.get(), EPOLLIN));
  }
  State* raw = s.get();
  s->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<MockServer>(new MockServer(std::move(s)));
}

MockServer::MockServer(std::unique_ptr<State> s) : s_(std::move(s)) {}

void MockServer::stop() {
  if (!s_ || s_->stopping.exchange(true)) return;
  std::uint64_t one = 1;
  (void)!::write(s_->wake.get(), &one, sizeof one);
  if (s_->thread.joinable()) s_->thread.join();
  s_->conns.clear();
  s_->listeners.clear();
  s_->dns_udp.reset();
  s_->dns_tcp.reset();
}

MockServer::~MockServer() { stop(); }

const std::vector<Endpoint>& MockServer::listening() const { return s_->bound; }
std::optional<Endpoint> MockServer::dns_listening() const { return s_->dns_bound; }

MockServerStats MockServer::stats() const {
  std::lock_guard lock(s_->stats_mu);
  return s_->stats;
}

}  // namespace reel::mock
