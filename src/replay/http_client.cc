#include "replay/http_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/unique_fd.h"
#include "protocols/http1/parse.h"
#include "testset/model.h"
#include "tls/openssl_util.h"

namespace reel::replay {

namespace {

bool is_framing(std::string_view name) {
  auto eq = [&](std::string_view other) {
    return name.size() == other.size() &&
           std::equal(name.begin(), name.end(), other.begin(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  };
  return eq("Content-Length") || eq("Transfer-Encoding") || eq("Connection") || eq("Keep-Alive");
}

std::string build_request(const testset::HttpRequest& req) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\n", req.method.empty() ? "GET" : req.method,
                                request_target(req.url));
  bool has_host = false;
  for (const auto& [name, value] : req.header) {
    if (is_framing(name)) continue;
    if (name.size() == 4 && strncasecmp(name.c_str(), "host", 4) == 0) has_host = true;
    out += fmt::format("{}: {}\r\n", name, value);
  }
  if (!has_host) {
    std::string_view url = req.url;
    auto scheme = url.find("://");
    std::string_view rest = scheme == url.npos ? url : url.substr(scheme + 3);
    out += fmt::format("Host: {}\r\n", rest.substr(0, rest.find('/')));
  }
  // The body is sent whole with its length, whatever framing the recording used.
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")
    out += fmt::format("Content-Length: {}\r\n", req.body.size());
  out += "Connection: close\r\n\r\n";
  out += req.body;
  return out;
}

int remaining_ms(std::uint64_t deadline_ns) {
  std::uint64_t now = monotonic_ns();
  return now >= deadline_ns ? 0 : static_cast<int>((deadline_ns - now) / 1'000'000) + 1;
}

}  // namespace

std::string request_target(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == url.npos) return std::string(url.empty() ? "/" : url);
  auto slash = url.find('/', scheme + 3);
  return slash == url.npos ? "/" : std::string(url.substr(slash));
}

namespace {

// One connection to the app, clear or TLS, non-blocking: read/write return the bytes moved, 0 at
// end of stream, or -1 with `wait` set to the poll events that would let them go on.
class Channel {
 public:
  static Result<Channel> open(const Endpoint& app, bool tls, std::string_view host,
                              std::uint64_t deadline) {
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
    REEL_TRY(c.wait(POLLOUT, deadline, app));
    int err = 0;
    socklen_t el = sizeof err;
    ::getsockopt(c.fd_.get(), SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) return fail_errno(fmt::format("cannot connect to the app at {}", app.to_string()), err);
    if (tls) REEL_TRY(c.handshake(app, host, deadline));
    return c;
  }

  int fd() const { return fd_.get(); }
  const std::string& tls_error() const { return tls_error_; }  // what OpenSSL said, if it failed

  ssize_t write(std::string_view data, short& wait) {
    if (!ssl_) {
      ssize_t w = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (w < 0 && errno == EAGAIN) wait |= POLLOUT;
      return w;
    }
    std::size_t n = 0;
    ERR_clear_error();
    errno = 0;
    if (SSL_write_ex(ssl_.get(), data.data(), data.size(), &n) == 1) return static_cast<ssize_t>(n);
    return ssl_failed(-1, wait);
  }

  ssize_t read(char* buf, std::size_t size, short& wait) {
    if (!ssl_) {
      ssize_t r = ::recv(fd_.get(), buf, size, 0);
      if (r < 0 && errno == EAGAIN) wait |= POLLIN;
      return r;
    }
    std::size_t n = 0;
    ERR_clear_error();
    errno = 0;
    if (SSL_read_ex(ssl_.get(), buf, size, &n) == 1) return static_cast<ssize_t>(n);
    return ssl_failed(-1, wait);
  }

  Result<void> wait(short events, std::uint64_t deadline, const Endpoint& app) {
    pollfd p{fd_.get(), events, 0};
    int ms = remaining_ms(deadline);
    if (ms == 0 || ::poll(&p, 1, ms) == 0)
      return fail_msg("no answer from the app at {} within the timeout", app.to_string());
    return {};
  }

 private:
  // SSL_ERROR_WANT_* -> -1 and what to wait for; a clean close_notify or a bare EOF -> 0 (the
  // HTTP parser decides whether the answer was whole); anything else -> -1 with errno set.
  ssize_t ssl_failed(ssize_t ret, short& wait) {
    switch (SSL_get_error(ssl_.get(), static_cast<int>(ret))) {
      case SSL_ERROR_WANT_READ: wait |= POLLIN; errno = EAGAIN; return -1;
      case SSL_ERROR_WANT_WRITE: wait |= POLLOUT; errno = EAGAIN; return -1;
      case SSL_ERROR_ZERO_RETURN: return 0;
      case SSL_ERROR_SYSCALL:
        if (errno == 0) return 0;  // EOF without close_notify
        return -1;
      default:
        tls_error_ = tls::openssl_errors();
        errno = EPROTO;
        return -1;
    }
  }

  Result<void> handshake(const Endpoint& app, std::string_view host, std::uint64_t deadline) {
    // The app under test is not verified: its certificate is whatever it was given to serve.
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
    for (;;) {
      ERR_clear_error();
      errno = 0;
      int r = SSL_connect(ssl_.get());
      if (r == 1) return {};
      short want = 0;
      if (ssl_failed(r, want) == 0 || want == 0)
        return fail_msg("TLS handshake with the app at {} failed: {}", app.to_string(),
                        tls_error_.empty() ? "the connection closed" : tls_error_);
      REEL_TRY(wait(want, deadline, app));
    }
  }

  UniqueFd fd_;
  tls::SslPtr ssl_;
  std::string tls_error_;
};

std::string_view url_host(std::string_view url) {
  auto scheme = url.find("://");
  std::string_view rest = scheme == url.npos ? url : url.substr(scheme + 3);
  return rest.substr(0, rest.find('/'));
}

}  // namespace

Result<testset::HttpResponse> send_request(const Endpoint& app, const testset::HttpRequest& req,
                                           std::chrono::milliseconds timeout) {
  std::uint64_t deadline =
      monotonic_ns() + static_cast<std::uint64_t>(timeout.count()) * 1'000'000ull;
  bool tls = req.url.starts_with("https://");
  Channel ch = REEL_TRY(Channel::open(app, tls, url_host(req.url), deadline));

  std::string out = build_request(req);
  std::size_t sent = 0;
  protocols::http1::State state;
  state.in_flight.push_back({req.method == "HEAD" ? std::uint8_t(HTTP_HEAD) : std::uint8_t(HTTP_GET)});
  protocols::http1::Message msg;
  protocols::Limits limits;
  limits.max_body = 64u << 20;
  limits.max_frame = 64u << 20;
  std::string in;
  char buf[64 * 1024];
  bool closed = false;
  for (;;) {
    short wait = 0;
    bool moved = false;
    if (sent < out.size()) {
      ssize_t w = ch.write(std::string_view(out).substr(sent), wait);
      if (w < 0 && errno != EAGAIN)
        return fail_errno(fmt::format("sending the request to {}{}", app.to_string(),
                                      ch.tls_error().empty() ? "" : " (" + ch.tls_error() + ")"));
      if (w > 0) sent += static_cast<std::size_t>(w), moved = true;
    }
    if (!closed) {
      ssize_t r = ch.read(buf, sizeof buf, wait);
      if (r < 0 && errno != EAGAIN)
        return fail_errno(fmt::format("reading the app's response{}",
                                      ch.tls_error().empty() ? "" : " (" + ch.tls_error() + ")"));
      if (r == 0) closed = true;
      if (r > 0) in.append(buf, static_cast<std::size_t>(r)), moved = true;
    }
    auto bytes = protocols::as_bytes(in);
    auto res = protocols::http1::parse_frame(protocols::MessageType::kResponse, bytes, msg, state, limits);
    if (res.state == protocols::ParseState::kInvalid)
      return fail_msg("the app's response is not valid HTTP/1.x");
    // A 1xx before the real answer: drop it and read on.
    if (res.state == protocols::ParseState::kParsed && msg.status >= 100 && msg.status < 200 &&
        msg.status != 101) {
      in.erase(0, std::min<std::size_t>(res.consumed, in.size()));
      msg = {};
      state.in_flight.push_back({HTTP_GET});
      continue;
    }
    if (res.state == protocols::ParseState::kNeedsMore) in.erase(0, std::min<std::size_t>(res.consumed, in.size()));
    if (res.state != protocols::ParseState::kParsed && closed) {
      res = protocols::http1::finish_frame(protocols::MessageType::kResponse, msg, state, limits);
      if (res.state != protocols::ParseState::kParsed)
        return fail_msg("the app closed the connection before answering");
    }
    if (res.state == protocols::ParseState::kParsed) {
      testset::HttpResponse resp;
      resp.status_code = msg.status;
      resp.status_message = msg.reason;
      resp.proto_major = msg.version_major;
      resp.proto_minor = msg.version_minor;
      for (auto& [name, value] : msg.headers) {
        auto [it, fresh] = resp.header.emplace(name, value);
        if (!fresh) it->second += ", " + value;
      }
      resp.body = std::move(msg.body.data);
      return resp;
    }
    if (!moved && wait) {
      pollfd p{ch.fd(), wait, 0};
      int ms = remaining_ms(deadline);
      if (ms == 0 || ::poll(&p, 1, ms) == 0)
        return fail_msg("no response from the app at {} within {} ms", app.to_string(),
                        timeout.count());
    }
  }
}

}  // namespace reel::replay
