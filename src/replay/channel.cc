#include "replay/channel.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include "core/clock.h"

namespace reel::replay {

namespace {

// SSL_write reaches the socket through write(), which has no MSG_NOSIGNAL: an app that closed
// its end would kill reel with SIGPIPE. Blocked for the call, and a pending one swallowed, the
// write just fails with EPIPE.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ~NoSigpipe() {
    if (!blocked_) return;
    if (!was_pending_) {
      timespec zero{0, 0};
      int saved = errno;
      while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
      }
      errno = saved;
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false, blocked_ = false;
};

}  // namespace

int remaining_ms(std::uint64_t deadline_ns) {
  std::uint64_t now = monotonic_ns();
  return now >= deadline_ns ? 0 : static_cast<int>((deadline_ns - now) / 1'000'000) + 1;
}

Result<Channel> Channel::open(const Endpoint& app, bool tls, std::string_view host,
                              std::uint64_t deadline_ns, std::string_view alpn) {
  Channel c;
  c.fd_.reset(::socket(app.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!c.fd_) return fail_errno("socket");
  // The TLS client's Finished and the request leave in two writes: with Nagle the second
  // waits for the app's delayed ACK (40 ms a test).
  int one = 1;
  ::setsockopt(c.fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = app.to_sockaddr(ss);
  if (::connect(c.fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
    return fail_errno(fmt::format("cannot connect to the app at {}", app.to_string()));
  REEL_TRY(c.wait(POLLOUT, deadline_ns, app));
  int err = 0;
  socklen_t el = sizeof err;
  ::getsockopt(c.fd_.get(), SOL_SOCKET, SO_ERROR, &err, &el);
  if (err) return fail_errno(fmt::format("cannot connect to the app at {}", app.to_string()), err);
  if (tls) REEL_TRY(c.handshake(app, host, deadline_ns, alpn));
  return c;
}

ssize_t Channel::write(std::string_view data, short& wait) {
  if (!ssl_) {
    ssize_t w = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EAGAIN) wait |= POLLOUT;
    return w;
  }
  std::size_t n = 0;
  NoSigpipe guard;
  ERR_clear_error();
  errno = 0;
  if (SSL_write_ex(ssl_.get(), data.data(), data.size(), &n) == 1) return static_cast<ssize_t>(n);
  return ssl_failed(-1, wait);
}

ssize_t Channel::read(char* buf, std::size_t size, short& wait) {
  if (!ssl_) {
    ssize_t r = ::recv(fd_.get(), buf, size, 0);
    if (r < 0 && errno == EAGAIN) wait |= POLLIN;
    return r;
  }
  std::size_t n = 0;
  NoSigpipe guard;  // reading may write too (a key update)
  ERR_clear_error();
  errno = 0;
  if (SSL_read_ex(ssl_.get(), buf, size, &n) == 1) return static_cast<ssize_t>(n);
  return ssl_failed(-1, wait);
}

Result<void> Channel::wait(short events, std::uint64_t deadline_ns, const Endpoint& app) {
  pollfd p{fd_.get(), events, 0};
  int ms = remaining_ms(deadline_ns);
  if (ms == 0 || ::poll(&p, 1, ms) == 0)
    return fail_msg("no answer from the app at {} within the timeout", app.to_string());
  return {};
}

// SSL_ERROR_WANT_* -> -1 and what to wait for; a clean close_notify or a bare EOF -> 0 (the
// protocol parser decides whether the answer was whole); anything else -> -1 with errno set.
ssize_t Channel::ssl_failed(ssize_t ret, short& wait) {
  switch (SSL_get_error(ssl_.get(), static_cast<int>(ret))) {
    case SSL_ERROR_WANT_READ:
      wait |= POLLIN;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      wait |= POLLOUT;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    case SSL_ERROR_SYSCALL:
      if (errno == 0) return 0;  // EOF without close_notify
      return -1;
    default:
      tls_error_ = tls::openssl_errors();
      errno = EPROTO;
      return -1;
  }
}

Result<void> Channel::handshake(const Endpoint& app, std::string_view host,
                                std::uint64_t deadline_ns, std::string_view alpn) {
  tls::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return fail_msg("TLS: {}", tls::openssl_errors());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  ssl_.reset(SSL_new(ctx.get()));
  if (!ssl_) return fail_msg("TLS: {}", tls::openssl_errors());
  SSL_set_fd(ssl_.get(), fd_.get());
  // SNI: the recorded URL's host name; none for an address ("[::1]:8443", "127.0.0.1:8443").
  std::string name(host.starts_with('[') ? std::string_view{}
                                         : host.substr(0, std::min(host.rfind(':'), host.size())));
  if (!name.empty() && !parse_ip(name)) SSL_set_tlsext_host_name(ssl_.get(), name.c_str());
  if (!alpn.empty()) {
    std::string wire(1, static_cast<char>(alpn.size()));
    wire += alpn;
    SSL_set_alpn_protos(ssl_.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  for (;;) {
    NoSigpipe guard;
    ERR_clear_error();
    errno = 0;
    int r = SSL_connect(ssl_.get());
    if (r == 1) break;
    short want = 0;
    if (ssl_failed(r, want) == 0 || want == 0)
      return fail_msg("TLS handshake with the app at {} failed: {}", app.to_string(),
                      tls_error_.empty() ? "the connection closed" : tls_error_);
    REEL_TRY(wait(want, deadline_ns, app));
  }
  if (alpn.empty()) return {};
  const unsigned char* chosen = nullptr;
  unsigned chosen_len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &chosen, &chosen_len);
  std::string_view got(reinterpret_cast<const char*>(chosen), chosen_len);
  if (got != alpn)
    return fail_msg("the app at {} did not agree to {} over TLS (ALPN offered {}, it chose {})",
                    app.to_string(), alpn, alpn, got.empty() ? "none" : fmt::format("'{}'", got));
  return {};
}

}  // namespace reel::replay
