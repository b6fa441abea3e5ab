#include "replay/http_client.h"

#include <poll.h>
#include <strings.h>

#include <fmt/format.h>

#include "core/clock.h"
#include "protocols/http1/parse.h"
#include "replay/channel.h"
#include "testset/model.h"

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

}  // namespace

std::string request_target(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == url.npos) return std::string(url.empty() ? "/" : url);
  auto slash = url.find('/', scheme + 3);
  return slash == url.npos ? "/" : std::string(url.substr(slash));
}

std::string_view url_host(std::string_view url) {
  auto scheme = url.find("://");
  std::string_view rest = scheme == url.npos ? url : url.substr(scheme + 3);
  return rest.substr(0, rest.find('/'));
}

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
