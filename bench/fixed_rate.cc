// An open-loop HTTP/1.1 load at a fixed rate, for what a tracer adds to latency and CPU while
// the server is not saturated (bench/trace_rate.sh). See bench/README.md.
//
//   bench_fixed_rate --url http://127.0.0.1:PORT/PATH --rate R [--connections 32] [--seconds 8]
//
// Request i is due at start + i/R whatever happened before it. One thread sends each due request
// on an idle keep-alive connection (requests queue while all connections wait for a response)
// and measures from when it was due to the last byte of its response, so a stall counts against
// every request that should have gone out during it (no coordinated omission). Prints
// {"rate","sent","completed","errors","p50_us","p90_us","p99_us","p999_us","max_us","achieved_rate"}
// where completed counts whole responses of any status, errors counts responses >= 400,
// requests lost with their connection and requests unanswered 2 s after the last was due, and
// achieved_rate is completed / max(seconds, time until the last response); then
// {"send_delay_p50_us","send_delay_p99_us"}: how late requests went out (the client's own wake-up
// and waiting for an idle connection), which every latency above includes.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net.h"
#include "core/unique_fd.h"

namespace reel {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDrain = std::chrono::seconds(2);

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_fixed_rate: %s\n", what.c_str());
  std::exit(1);
}

// `lower` is in lower case already.
bool iequals(std::string_view a, std::string_view lower) {
  return a.size() == lower.size() &&
         std::equal(a.begin(), a.end(), lower.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == y;
         });
}

// One response at the start of a connection's input: kMore until all of it has arrived.
struct Parsed {
  enum State { kMore, kDone, kBad } state = kMore;
  std::size_t size = 0;  // of the whole response, once kDone
  int status = 0;
  bool close = false;  // the server closes the connection after it
  std::string error;   // once kBad
};

Parsed bad(std::string why) { return {Parsed::kBad, 0, 0, false, std::move(why)}; }

Parsed parse_chunked(std::string_view in, std::size_t pos, Parsed p) {
  for (;;) {
    auto eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) return p;
    std::size_t size = 0;
    auto [end, ec] = std::from_chars(in.data() + pos, in.data() + eol, size, 16);
    if (ec != std::errc() || end == in.data() + pos || size > (1u << 30) ||
        (end != in.data() + eol && *end != ';'))
      return bad("bad chunk size line: " +
                 std::string(in.substr(pos, std::min<std::size_t>(eol - pos, 40))));
    pos = eol + 2;
    if (size == 0) {  // then trailer lines, up to an empty one
      if (in.size() < pos + 2) return p;
      auto blank = in.substr(pos, 2) == "\r\n" ? pos - 2 : in.find("\r\n\r\n", pos);
      if (blank == std::string_view::npos) return p;
      p.state = Parsed::kDone, p.size = blank + 4;
      return p;
    }
    if (in.size() < pos + size + 2) return p;
    if (in.substr(pos + size, 2) != "\r\n") return bad("chunk not followed by CRLF");
    pos += size + 2;
  }
}

Parsed parse_response(std::string_view in) {
  Parsed p;
  auto head_end = in.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return in.size() > 65536 ? bad("headers over 64 KiB") : p;
  auto line = in.substr(0, in.find("\r\n"));
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' ||
      std::from_chars(line.data() + 9, line.data() + 12, p.status).ptr != line.data() + 12)
    return bad("bad status line: " + std::string(line.substr(0, 80)));
  std::optional<std::size_t> length;
  bool chunked = false;
  p.close = line[7] == '0';  // HTTP/1.0 closes unless it says keep-alive
  for (auto pos = line.size() + 2; pos < head_end + 2;) {
    auto eol = in.find("\r\n", pos);
    auto header = in.substr(pos, eol - pos);
    pos = eol + 2;
    auto colon = header.find(':');
    if (colon == std::string_view::npos) return bad("bad header line: " + std::string(header));
    auto name = header.substr(0, colon), value = header.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    value = value.substr(0, value.find_last_not_of(" \t") + 1);
    if (iequals(name, "content-length")) {
      std::size_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n > (1u << 30))
        return bad("bad Content-Length: " + std::string(value));
      length = n;
    } else if (iequals(name, "transfer-encoding")) {
      chunked = iequals(value, "chunked");
    } else if (iequals(name, "connection")) {
      p.close = iequals(value, "close") || (p.close && !iequals(value, "keep-alive"));
    }
  }
  auto body = head_end + 4;
  if (p.status / 100 == 1) return bad("interim 1xx responses are not supported");
  if (chunked) return parse_chunked(in, body, p);
  if (p.status == 204 || p.status == 304) length = 0;
  if (!length) return bad("response with neither Content-Length nor chunked body (not supported)");
  if (in.size() < body + *length) return p;
  p.state = Parsed::kDone, p.size = body + *length;
  return p;
}

struct Options {
  Endpoint to;
  std::string host, path;  // for the request line and Host
  double rate = 0, seconds = 8;
  std::size_t connections = 32;
};

struct Conn {
  UniqueFd fd;
  std::string in;                        // the response so far
  std::optional<Clock::time_point> due;  // of the request awaiting its response
};

class Load {
 public:
  explicit Load(const Options& o)
      : o_(o), ep_(::epoll_create1(EPOLL_CLOEXEC)), conns_(o.connections) {
    if (!ep_) die(std::string("epoll_create1: ") + std::strerror(errno));
    request_ = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + "\r\n\r\n";
    for (std::size_t i = 0; i < conns_.size(); i++) connect(i), idle_.push_back(i);
  }

  void run() {
    auto total = static_cast<long>(std::llround(o_.rate * o_.seconds));
    ns_.reserve(static_cast<std::size_t>(std::min(total, 10'000'000L)));
    delay_ns_.reserve(ns_.capacity());
    start_ = Clock::now();
    auto due = [&](long i) {
      return start_ +
             std::chrono::nanoseconds(std::llround(static_cast<double>(i) * 1e9 / o_.rate));
    };
    auto deadline = start_ + std::chrono::duration<double>(o_.seconds) + kDrain;
    long next = 0;  // the next request to fall due
    for (;;) {
      auto now = Clock::now();
      for (; next < total && due(next) <= now; next++) queued_.push_back(due(next));
      dispatch();
      if (next == total && ((queued_.empty() && outstanding_ == 0) || now >= deadline)) break;
      auto wait = next < total ? due(next) - now : std::chrono::milliseconds(10);
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
      timespec ts{ns / 1'000'000'000, ns % 1'000'000'000};
      epoll_event events[64];
      int n = ::epoll_pwait2(ep_.get(), events, 64, &ts, nullptr);
      if (n < 0 && errno != EINTR) die(std::string("epoll_pwait2: ") + std::strerror(errno));
      for (int k = 0; k < n; k++) receive(static_cast<std::size_t>(events[k].data.u64));
    }
    if (auto left = queued_.size() + outstanding_; left > 0) {
      std::fprintf(stderr, "bench_fixed_rate: %zu requests unanswered 2 s after the last was due\n",
                   left);
      errors_ += static_cast<long>(left);
    }
  }

  int report() {
    std::sort(ns_.begin(), ns_.end());
    std::sort(delay_ns_.begin(), delay_ns_.end());
    auto us = [](const std::vector<std::int64_t>& v, double p) {
      if (v.empty()) return 0.0;
      auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
      return static_cast<double>(v[std::clamp<std::size_t>(rank, 1, v.size()) - 1]) / 1000;
    };
    double secs = std::max(o_.seconds, std::chrono::duration<double>(last_done_ - start_).count());
    std::printf(
        "{\"rate\":%g,\"sent\":%ld,\"completed\":%zu,\"errors\":%ld,\"p50_us\":%.1f,"
        "\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"achieved_rate\":%.1f,"
        "\"send_delay_p50_us\":%.1f,\"send_delay_p99_us\":%.1f}\n",
        o_.rate, sent_, ns_.size(), errors_, us(ns_, 0.5), us(ns_, 0.9), us(ns_, 0.99),
        us(ns_, 0.999), us(ns_, 1), static_cast<double>(ns_.size()) / secs, us(delay_ns_, 0.5),
        us(delay_ns_, 0.99));
    return ns_.empty() ? 1 : 0;
  }

 private:
  void connect(std::size_t i) {
    UniqueFd fd(::socket(o_.to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t len = o_.to.to_sockaddr(ss);
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
      die("connect " + o_.to.to_string() + ": " + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
    epoll_event ev{EPOLLIN, {.u64 = i}};
    if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0)
      die(std::string("epoll_ctl: ") + std::strerror(errno));
    conns_[i] = Conn{std::move(fd), {}, {}};
  }

  void dispatch() {
    while (!queued_.empty() && !idle_.empty()) {
      auto i = idle_.front();  // the longest idle: requests spread over all connections
      idle_.pop_front();
      conns_[i].due = queued_.front();
      queued_.pop_front();
      outstanding_++, sent_++;
      send_request(i);
    }
  }

  // The previous request on the connection was answered, so its send buffer is empty and takes
  // the whole request (a few dozen bytes) at once.
  void send_request(std::size_t i) {
    delay_ns_.push_back(std::chrono::nanoseconds(Clock::now() - *conns_[i].due).count());
    ssize_t n = ::send(conns_[i].fd.get(), request_.data(), request_.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(request_.size()))
      lost(i, n < 0 ? std::strerror(errno) : "short send");
  }

  void receive(std::size_t i) {
    auto& c = conns_[i];
    char buf[16384];
    bool eof = false;
    for (;;) {
      ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
      if (n > 0) c.in.append(buf, static_cast<std::size_t>(n));
      if (n == 0) eof = true;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) return lost(i, std::strerror(errno));
      if (n != static_cast<ssize_t>(sizeof buf)) break;  // drained for now
    }
    auto now = Clock::now();
    auto p = parse_response(c.in);
    if (p.state == Parsed::kBad) die("response from " + o_.to.to_string() + ": " + p.error);
    if (p.state == Parsed::kMore) return eof ? lost(i, "closed by the server") : void();
    if (!c.due || p.size != c.in.size()) die("response bytes from the server without a request");
    ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(now - *c.due).count());
    errors_ += p.status >= 400;
    last_done_ = now;
    outstanding_--;
    if (p.close || eof)
      connect(i);
    else
      c.in.clear(), c.due.reset();
    idle_.push_back(i);
  }

  // The connection broke: its outstanding request is an error, and it is opened again.
  void lost(std::size_t i, const char* why) {
    std::fprintf(stderr, "bench_fixed_rate: connection %zu lost (%s), reconnecting\n", i, why);
    bool busy = conns_[i].due.has_value();
    connect(i);
    if (busy) errors_++, outstanding_--, idle_.push_back(i);
  }

  Options o_;
  UniqueFd ep_;
  std::vector<Conn> conns_;
  std::deque<std::size_t> idle_;          // connections with no request outstanding
  std::deque<Clock::time_point> queued_;  // due requests waiting for an idle connection
  std::string request_;
  std::vector<std::int64_t> ns_;        // latency of each completed request
  std::vector<std::int64_t> delay_ns_;  // from when each request was due to when it was sent
  long sent_ = 0, errors_ = 0;
  std::size_t outstanding_ = 0;
  Clock::time_point start_, last_done_;
};

int usage() {
  std::fputs(
      "usage: bench_fixed_rate --url http://ADDR[:PORT]/PATH --rate REQ_PER_S "
      "[--connections 32] [--seconds 8]\n",
      stderr);
  return 2;
}

}  // namespace
}  // namespace reel

int main(int argc, char** argv) {
  using namespace reel;
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 == argc || std::strncmp(argv[i], "--", 2) != 0) return usage();
    flags[argv[i] + 2] = argv[i + 1];
  }
  auto number = [&](const std::string& name, double dflt) {
    if (!flags.count(name)) return dflt;
    char* end = nullptr;
    double v = std::strtod(flags[name].c_str(), &end);
    if (flags[name].empty() || *end != '\0' || !std::isfinite(v) || v <= 0)
      die("--" + name + " is not a positive number: " + flags[name]);
    return v;
  };
  Options o;
  o.rate = number("rate", 0);
  o.seconds = number("seconds", 8);
  double conns = number("connections", 32);
  if (conns != std::floor(conns) || conns > 10000) die("--connections is not a count up to 10000");
  o.connections = static_cast<std::size_t>(conns);
  for (auto& [name, value] : flags)
    if (name != "url" && name != "rate" && name != "seconds" && name != "connections")
      return std::fprintf(stderr, "unknown option --%s\n", name.c_str()), usage();
  std::string url = flags["url"];
  if (url.empty() || o.rate == 0) return usage();
  if (url.rfind("http://", 0) != 0) die("only http:// URLs: " + url);
  auto slash = url.find('/', 7);
  o.host = url.substr(7, slash - 7);
  o.path = slash == std::string::npos ? "/" : url.substr(slash);
  bool has_port = o.host.find(':') != std::string::npos && o.host.back() != ']';
  auto to = parse_endpoint(has_port ? o.host : o.host + ":80");
  if (!to) die("--url " + url + ": " + to.error().message);
  o.to = *to;
  ::prctl(PR_SET_TIMERSLACK, 1UL);  // wake when a request falls due, not up to 50 µs later
  Load load(o);
  load.run();
  return load.report();
}
