#include "tls/bridge.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <system_error>
#include <vector>

namespace reel::tls {
namespace {

constexpr int kPollSliceMs = 200;
constexpr auto kWriteStall = std::chrono::seconds(30);
constexpr std::size_t kChunk = 16 * 1024;

int ms_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return int(std::clamp<std::int64_t>(left.count(), 0, kPollSliceMs));
}

// Waits for `events` on fd; false on deadline or stop.
bool wait_for(int fd, short events, Clock::time_point deadline, const std::atomic<bool>& stopping) {
  while (!stopping.load(std::memory_order_relaxed) && Clock::now() < deadline) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms_until(deadline));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
  return false;
}

int alpn_select(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  auto* want = static_cast<const std::string*>(SSL_get_app_data(ssl));
  if (!want || want->empty()) return SSL_TLSEXT_ERR_NOACK;
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == *want) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

enum class Io { kData, kAgain, kEof, kError };

struct ReadResult {
  Io io;
  std::size_t n = 0;
  short wait = POLLIN;  // what to poll for on kAgain
};

ReadResult read_end(End e, std::byte* buf, std::size_t cap) {
  if (!e.ssl) {
    ssize_t n = ::recv(e.fd, buf, cap, 0);
    if (n > 0) return {Io::kData, std::size_t(n)};
    if (n == 0) return {Io::kEof};
    return {errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Io::kAgain : Io::kError};
  }
  std::size_t n = 0;
  if (SSL_read_ex(e.ssl, buf, cap, &n) == 1) return {Io::kData, n};
  switch (SSL_get_error(e.ssl, 0)) {
    case SSL_ERROR_WANT_READ:
      return {Io::kAgain, 0, POLLIN};
    case SSL_ERROR_WANT_WRITE:
      return {Io::kAgain, 0, POLLOUT};
    case SSL_ERROR_ZERO_RETURN:
      return {Io::kEof};
    default:
      ERR_clear_error();
      return {Io::kError};
  }
}

bool write_end(End e, std::span<const std::byte> bytes, const std::atomic<bool>& stopping) {
  auto deadline = Clock::now() + kWriteStall;
  while (!bytes.empty()) {
    short wait = POLLOUT;
    if (!e.ssl) {
      ssize_t n = ::send(e.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes = bytes.subspan(std::size_t(n));
        deadline = Clock::now() + kWriteStall;
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    } else {
      std::size_t n = 0;
      if (SSL_write_ex(e.ssl, bytes.data(), bytes.size(), &n) == 1) {
        bytes = bytes.subspan(n);
        deadline = Clock::now() + kWriteStall;
        continue;
      }
      int err = SSL_get_error(e.ssl, 0);
      if (err == SSL_ERROR_WANT_READ)
        wait = POLLIN;
      else if (err != SSL_ERROR_WANT_WRITE)
        return ERR_clear_error(), false;
    }
    if (!wait_for(e.fd, wait, deadline, stopping)) return false;
  }
  return true;
}

void end_direction(End e) {
  if (e.ssl) SSL_shutdown(e.ssl);  // close_notify; the reply, if any, is read as usual
  ::shutdown(e.fd, SHUT_WR);
}

}  // namespace

bool BridgeThreads::spawn(std::function<void()> body) {
  std::lock_guard lock(mu_);
  for (auto it = bridges_.begin(); it != bridges_.end();) {
    if (it->done.load()) {
      it->thread.join();
      it = bridges_.erase(it);
    } else {
      ++it;
    }
  }
  Bridge& b = bridges_.emplace_back();
  try {
    b.thread = std::thread([&b, body = std::move(body)] {
      // SSL_write and SSL_shutdown reach the socket through write(), which has no MSG_NOSIGNAL:
      // a peer that closed first would kill reel with SIGPIPE. Blocked here, that SIGPIPE stays
      // pending on this thread (dropped when it ends) and the write fails with EPIPE instead.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      body();
      b.done.store(true);
    });
  } catch (const std::system_error& e) {
    spdlog::warn("tls: cannot start a bridge thread: {}", e.what());
    bridges_.pop_back();
    return false;
  }
  return true;
}

void BridgeThreads::stop() {
  stopping_.store(true);
  std::lock_guard lock(mu_);
  for (auto& b : bridges_) {
    if (b.thread.joinable()) b.thread.join();
  }
  bridges_.clear();
}

Result<ClientHello> peek_client_hello(int fd, Clock::time_point deadline,
                                      const std::atomic<bool>& stopping) {
  std::vector<std::byte> buf(16384 + 2048 + 5);
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return fail_msg("the client closed before its TLS hello was complete");
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return fail_errno("reading the TLS hello");
    if (n > 0) {
      ClientHello hello = parse_client_hello(std::span(buf.data(), std::size_t(n)));
      if (hello.status == ClientHello::Status::kParsed) return hello;
      if (hello.status == ClientHello::Status::kInvalid)
        return fail_msg("the client's first bytes are not a TLS ClientHello reel can read");
      if (std::size_t(n) == buf.size()) return fail_msg("TLS ClientHello too large");
    }
    // More of the record is on its way; a peek cannot wait for more than is already there.
    if (Clock::now() >= deadline || stopping.load())
      return fail_msg("timed out reading the TLS hello");
    ::poll(nullptr, 0, 2);
  }
}

Result<void> handshake(SSL* ssl, int fd, bool accept, Clock::time_point deadline,
                       const std::atomic<bool>& stopping) {
  for (;;) {
    int r = accept ? SSL_accept(ssl) : SSL_connect(ssl);
    if (r == 1) return {};
    int err = SSL_get_error(ssl, r);
    short wait = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!wait) {
      std::string why = openssl_errors();
      if (why.empty()) why = err == SSL_ERROR_SYSCALL ? "the peer closed the connection" : "failed";
      return fail_msg("{}", why);
    }
    if (!wait_for(fd, wait, deadline, stopping)) return fail_msg("TLS handshake timed out");
  }
}

bool pump(End a, End b, const std::atomic<bool>& stopping,
          const std::function<void(bool, std::span<const std::byte>)>& seen) {
  std::vector<std::byte> buf(kChunk);
  End from[2] = {a, b}, to[2] = {b, a};
  bool open[2] = {true, true};
  short wait[2] = {POLLIN, POLLIN};
  while (open[0] || open[1]) {
    if (stopping.load(std::memory_order_relaxed)) return false;
    bool progress = false;
    for (int d = 0; d < 2; d++) {
      if (!open[d]) continue;
      ReadResult r = read_end(from[d], buf.data(), buf.size());
      switch (r.io) {
        case Io::kData: {
          std::span<const std::byte> bytes(buf.data(), r.n);
          if (seen) seen(d == 0, bytes);
          if (!write_end(to[d], bytes, stopping)) return false;
          progress = true;
          break;
        }
        case Io::kEof:
          if (seen) seen(d == 0, {});
          end_direction(to[d]);
          open[d] = false;
          progress = true;
          break;
        case Io::kAgain:
          wait[d] = r.wait;
          break;
        case Io::kError:
          return false;
      }
    }
    if (progress) continue;
    pollfd p[2];
    int n = 0;
    for (int d = 0; d < 2; d++) {
      if (open[d]) p[n++] = pollfd{from[d].fd, wait[d], 0};
    }
    if (::poll(p, nfds_t(n), kPollSliceMs) < 0 && errno != EINTR) return false;
  }
  return true;
}

Result<SslCtxPtr> server_context(const Leaf& leaf) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx || SSL_CTX_use_certificate(ctx.get(), leaf.cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), leaf.key.get()) != 1) {
    return fail_msg("cannot set up a TLS server context: {}", openssl_errors());
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
  SSL_CTX_set_alpn_select_cb(ctx.get(), alpn_select, nullptr);
  return ctx;
}

void reset_both(int a, int b) {
  linger lg{1, 0};
  for (int fd : {a, b}) {
    if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
}

Result<void> set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return fail_errno("fcntl");
  return {};
}

}  // namespace reel::tls
