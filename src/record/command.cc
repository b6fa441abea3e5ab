#include "record/command.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "capture/capture.h"
#include "capture/tls_probes.h"
#include "capture/tls_scope.h"
#include "core/clock.h"
#include "core/process.h"
#include "core/signals.h"
#include "kernel/cgroup.h"
#include "kernel/privileges.h"
#include "proxy/relay.h"
#include "record/dns_forwarder.h"
#include "record/outbound.h"
#include "record/self_check.h"
#include "record/session.h"
#include "redirect/redirector.h"
#include "testset/config.h"
#include "testset/redact.h"
#include "testset/writer.h"
#include "tls/ca.h"
#include "tls/interceptor.h"

namespace reel::record {

namespace {

namespace fs = std::filesystem;

std::int32_t local_utc_offset_s() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  return static_cast<std::int32_t>(tm.tm_gmtoff);
}

// HOST, HOST:PORT, [V6]:PORT or CIDR, as `reel redirect --exclude` takes them.
Result<void> add_passthrough(const std::string& x, RedirectRules& rules) {
  bool has_port = x.starts_with('[') ||
                  (x.find(':') != x.npos && x.find(':') == x.rfind(':') && x.find('/') == x.npos);
  if (has_port) {
    rules.exclude_exact.push_back(REEL_TRY(with_context(parse_endpoint(x), "--passthrough")));
  } else {
    rules.exclude.push_back(REEL_TRY(with_context(parse_cidr(x), "--passthrough")));
  }
  return {};
}

std::string format_ms(std::uint64_t ns) { return fmt::format("{:.1f} ms", double(ns) / 1e6); }

std::string kinds_text(const std::map<std::string, std::uint64_t>& by_kind) {
  std::string out;
  for (auto& [kind, n] : by_kind) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", kind, n);
  return out;
}

void print_test(const WrittenTest& w, bool color) {
  std::string mocks;
  for (auto& [kind, n] : w.mocks_by_kind)
    mocks += fmt::format("{}{} {}", mocks.empty() ? "" : ", ", kind, n);
  const char* green = color ? "\033[32m" : "";
  const char* dim = color ? "\033[2m" : "";
  const char* reset = color ? "\033[0m" : "";
  std::fprintf(stderr, "%s%-8s%s %-6s %-40s %3d %10s  %smocks: %s%s\n", green, w.name.c_str(),
               reset, w.method.c_str(), w.target.substr(0, 40).c_str(), w.status,
               format_ms(w.latency_ns).c_str(), dim, mocks.empty() ? "none" : mocks.c_str(),
               reset);
}

// The recording read back and replayed to itself (self_check.h): the problems are what a
// replay would stumble on, named by test so that the user can record those again.
void print_check(const CheckReport& c) {
  std::fprintf(stderr, "self-check: %zu calls replayed to themselves, %zu answered by the protocol "
               "(start-up), %zu not replayable here; %zu problems\n",
               c.replayed, c.by_protocol, c.skipped, c.problems.size());
  if (c.over_budget)
    std::fprintf(stderr, "self-check: %zu more calls not replayed (a recording this large takes "
                 "too long to replay whole at exit)\n", c.over_budget);
  constexpr std::size_t kShown = 20;
  for (std::size_t i = 0; i < c.problems.size() && i < kShown; ++i) {
    const auto& p = c.problems[i];
    spdlog::warn("{} ({}): {}: {}", p.mock, p.test.empty() ? "session-wide" : p.test, p.summary,
                 p.what);
  }
  if (c.problems.size() > kShown) spdlog::warn("... and {} more", c.problems.size() - kShown);
  if (!c.problems.empty())
    spdlog::warn("this recording will not replay as recorded: the calls above will fail under "
                 "reel test / reel mock (--strict makes this exit 3)");
}

void print_tls_summary(const tls::InterceptStats& s) {
  if (s.intercepted + s.passed_through + s.failed + s.refused == 0) return;
  auto hosts = [](const std::map<std::string, std::string>& by_host) {
    std::map<std::string, std::string> by_why;  // reason -> "host, host"
    for (auto& [host, why] : by_host) by_why[why] += (by_why[why].empty() ? "" : ", ") + host;
    std::string out;
    for (auto& [why, list] : by_why) out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", why, list);
    return out;
  };
  std::fprintf(stderr, "tls: %llu connections intercepted\n", (unsigned long long)s.intercepted);
  if (s.passed_through)
    std::fprintf(stderr, "tls: passed through: %llu TLS connections (%s)\n",
                 (unsigned long long)s.passed_through, hosts(s.passed_hosts).c_str());
  if (s.refused)
    std::fprintf(stderr, "tls: the app refused reel's certificate on %llu connections (later ones "
                 "to the same name pass through)\n", (unsigned long long)s.refused);
  if (s.failed)
    std::fprintf(stderr, "tls: failed: %llu TLS connections (%s)\n",
                 (unsigned long long)s.failed, hosts(s.failed_hosts).c_str());
}

struct Kernel {
  std::unique_ptr<Redirector> redirector;
  std::unique_ptr<capture::Capture> capture;
  std::unique_ptr<capture::TlsScope> tls;  // HTTPS served by the app: plaintext by uprobes
};

Result<int> record(const RecordCommandOptions& o) {
  REEL_TRY(require_privileges("record"));
  if (o.command.empty()) return fail_msg("give the app to record: reel record -- CMD ARGS...");
  testset::ReelConfig config = REEL_TRY(testset::load_reel_config(o.config));

  // Created 0750 and, under sudo, given to the invoking user like everything inside it.
  REEL_TRY(create_dirs(o.dir, 0750));
  testset::WriterOptions wo{.file_mode = config.file_mode, .redactor = std::nullopt};
  if (config.redact.enabled)
    wo.redactor = REEL_TRY(testset::Redactor::for_recording(o.dir, config.redact));
  auto writer = REEL_TRY(testset::TestSetWriter::create_next(o.dir, wo));

  auto signal_fd = REEL_TRY(block_signals_to_fd({SIGINT, SIGTERM, SIGCHLD, SIGHUP}));
  sweep_stale_cgroups();

  mock::RecordOptions ro;
  ro.convert.clock_to_unix_ns = mono_to_real_offset_ns();
  ro.convert.utc_offset_s = local_utc_offset_s();
  ro.redactor = wo.redactor ? &*wo.redactor : nullptr;

  // Dependencies: every outbound TCP connection of the app through the relay, tapped.
  OutboundRecorder outbound(ro);
  RelayOptions relay_opts;
  relay_opts.listen = {REEL_TRY(parse_endpoint("127.0.0.1:0")), REEL_TRY(parse_endpoint("[::1]:0"))};
  relay_opts.tap = outbound.tap();
  // TLS dependencies: terminated with reel's CA, their plaintext recorded like clear traffic.
  std::unique_ptr<tls::CertAuthority> ca;
  std::unique_ptr<tls::Interceptor> interceptor;
  std::vector<std::string> app_env;
  if (!o.no_tls) {
    ca = REEL_TRY(with_context(tls::CertAuthority::open(tls::default_ca_dir()), "reel's CA"));
    interceptor = REEL_TRY(tls::Interceptor::create(
        *ca, {.verify_upstream = !o.insecure_upstream, .extra_cas = o.upstream_cas}));
    relay_opts.takeover =
        interceptor->takeover([&outbound](ConnId id) { outbound.mark_tls(id); });
    app_env = tls::trust_env(*ca);
  }
  auto relay = REEL_TRY(Relay::start(std::move(relay_opts)));

  RedirectConfig rc;
  for (const auto& ep : relay->listening()) (ep.ip.is_v4() ? rc.proxy4 : rc.proxy6) = ep;
  for (const auto& p : o.passthrough) REEL_TRY(add_passthrough(p, rc.rules));
  std::unique_ptr<DnsForwarder> dns;
  if (!o.no_dns) {
    Endpoint upstream = o.dns_upstream.empty()
                            ? REEL_TRY(system_resolver())
                            : REEL_TRY(with_context(parse_endpoint(o.dns_upstream), "--dns-upstream"));
    dns = REEL_TRY(DnsForwarder::start(REEL_TRY(parse_ip("127.0.0.1")), upstream, ro));
    rc.dns4 = dns->listening();
  }

  Kernel k;
  k.redirector = REEL_TRY(Redirector::load(rc));
  Cgroup self = REEL_TRY(Cgroup::of_pid(::getpid()));
  REEL_TRY(k.redirector->attach_proxy(self.fd()));
  REEL_TRY(k.redirector->skip_process(::getpid()));
  Cgroup target = REEL_TRY(Cgroup::create_child(fmt::format("{}-record", ::getpid())));
  REEL_TRY(k.redirector->attach_target(target.fd()));

  // Calls into the app: the capture engine on the same cgroup.
  capture::CaptureConfig cc;
  cc.cgroup_ids = {target.id()};
  cc.max_bytes_per_call = 4 << 20;  // whole request and response bodies, not a prefix
  cc.ring_bytes = 16u << 20;
  k.capture = REEL_TRY(capture::Capture::start(cc));
  if (!o.no_tls) {
    auto app_pids = [path = target.path()] { return capture::cgroup_tree_pids(path); };
    k.tls = capture::TlsScope::start(*k.capture, cc, app_pids, o.command);
  }

  SessionOptions so;
  so.app_port = o.app_port;
  so.convert = ro.convert;
  so.noise = config.noise;
  so.limits.max_body = 16 << 20;
  so.limits.max_frame = 32 << 20;
  RecordSession session(writer, so);

  pid_t child =
      REEL_TRY(spawn({.argv = o.command, .cgroup_fd = target.fd(), .extra_env = app_env, .user = o.user}));
  bool color = ::isatty(STDERR_FILENO);
  spdlog::info("recording {} (pid {}) into {}{}", o.command[0], child, writer.dir().string(),
               o.app_port ? fmt::format(", tests from port {}", o.app_port) : "");

  int exit_code = 0;
  bool stop_requested = false;
  std::uint64_t stop_deadline = 0;
  auto step = [&](int timeout_ms, bool flush) -> Result<void> {
    // Calls first, then the ring: the app's writes behind each call are then in the session
    // before the call looks for the thread that made it.
    auto calls = outbound.take();
    auto dns_calls = dns ? dns->take() : std::vector<mock::RecordedCall>{};
    REEL_TRY(k.capture->poll(timeout_ms, [&](const capture::Event& e) {
      if (k.tls) k.tls->on_event(e);
      session.on_capture_event(e);
    }));
    if (k.tls) k.tls->tick(monotonic_ns());
    for (auto& call : calls) session.on_outbound(std::move(call));
    for (auto& call : dns_calls) session.on_dns(std::move(call));
    for (auto& w : REEL_TRY(session.settle(monotonic_ns(), flush))) print_test(w, color);
    return {};
  };
  while (child) {
    REEL_TRY(step(20, false));
    while (int sig = read_signal(signal_fd.get())) {
      if (sig == SIGCHLD) continue;
      if (stop_requested) {
        spdlog::warn("second signal: ending the app now");
        (void)target.kill_all(std::chrono::seconds(2));
        continue;
      }
      stop_requested = true;
      stop_deadline = monotonic_ns() + 10'000'000'000ull;
      ::kill(child, sig == SIGHUP ? SIGTERM : sig);  // let the app shut down its own way
    }
    if (stop_deadline && monotonic_ns() > stop_deadline) {
      spdlog::warn("the app did not exit within 10 s of the signal: ending it");
      (void)target.kill_all(std::chrono::seconds(2));
      stop_deadline = 0;
    }
    int status;
    if (::waitpid(child, &status, WNOHANG) == child) {
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      child = 0;
    }
  }
  // The app is gone: what its connections still carried is in the relay and the ring.
  (void)target.kill_all(std::chrono::seconds(2));
  relay->stop(std::chrono::milliseconds(500));
  if (interceptor) interceptor->stop();
  if (dns) dns->stop();
  REEL_TRY(step(0, true));

  const auto& st = session.stats();
  const auto& at = session.attribution();
  auto counters = k.capture->counters();
  std::uint64_t lost = counters.by_kind[CAP_CNT_LOST];
  std::fprintf(stderr, "\nrecorded %s: %llu tests, %llu mocks (%s; %llu session-wide)\n",
               writer.dir().c_str(), (unsigned long long)st.tests, (unsigned long long)st.mocks,
               st.mocks_by_kind.empty() ? "none" : kinds_text(st.mocks_by_kind).c_str(),
               (unsigned long long)st.session_mocks);
  std::fprintf(stderr,
               "calls tied to tests: %llu by thread, %llu by time, %llu ambiguous (copied to each "
               "overlapping test); %llu outside any test\n",
               (unsigned long long)at.by_thread, (unsigned long long)at.by_window,
               (unsigned long long)at.ambiguous, (unsigned long long)at.session);
  auto& ts = session.tracker_stats();
  std::fprintf(stderr, "capture: %llu events lost, %llu bytes in gaps, %llu tests with gaps, "
               "%llu requests not recorded, %llu calls without an answer; %llu frames "
               "unparsable (%llu inbound, %llu in dependency calls)\n",
               (unsigned long long)lost, (unsigned long long)ts.bytes_lost,
               (unsigned long long)st.tests_with_gaps, (unsigned long long)st.not_converted,
               (unsigned long long)st.unanswered_calls,
               (unsigned long long)(ts.invalid_frames + outbound.invalid_frames()),
               (unsigned long long)ts.invalid_frames,
               (unsigned long long)outbound.invalid_frames());
  if (interceptor) print_tls_summary(interceptor->stats());
  if (k.tls && k.tls->ssl_calls()) k.tls->print_summary(stderr);  // the app used OpenSSL
  if (dns && dns->failed())
    std::fprintf(stderr, "dns: %llu queries got no answer from the resolver\n",
                 (unsigned long long)dns->failed());
  auto check = check_test_set(writer.dir());
  if (!check) {
    std::fprintf(stderr, "self-check: could not read the recording back: %s\n",
                 check.error().message.c_str());
    return 3;
  }
  print_check(*check);
  if (o.strict && !check->problems.empty()) return 3;
  return stop_requested ? 0 : exit_code;
}

}  // namespace

int run_record(const RecordCommandOptions& opts) {
  auto r = record(opts);
  if (!r) {
    std::fprintf(stderr, "reel record: %s\n", r.error().message.c_str());
    return 2;
  }
  return *r;
}

}  // namespace reel::record
