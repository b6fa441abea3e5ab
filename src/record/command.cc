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
#include "record/audit.h"
#include "record/dns_forwarder.h"
#include "record/outbound.h"
#include "record/passive.h"
#include "record/progress.h"
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
  std::uint64_t started = monotonic_ns();
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

  print_session_summary(writer.dir(), session, k.capture->counters().by_kind[CAP_CNT_LOST],
                        outbound.invalid_frames());
  if (interceptor) print_tls_summary(interceptor->stats());
  if (k.tls && k.tls->ssl_calls()) k.tls->print_summary(stderr);  // the app used OpenSSL
  if (dns && dns->failed())
    std::fprintf(stderr, "dns: %llu queries got no answer from the resolver\n",
                 (unsigned long long)dns->failed());
  const auto& st = session.stats();
  return finish_recording({.mode = "active",
                           .target = "command " + o.command[0],
                           .dir = writer.dir().string(),
                           .started_unix_ns = started + ro.convert.clock_to_unix_ns,
                           .duration_ns = monotonic_ns() - started,
                           .tests = st.tests,
                           .mocks = st.mocks,
                           .bytes = bytes_under(writer.dir().string())},
                          o.strict, stop_requested ? 0 : exit_code);
}

}  // namespace

int run_record(const RecordCommandOptions& opts) {
  bool passive = opts.passive || opts.pid != 0 || !opts.cgroup.empty();
  auto r = passive ? record_passive(opts) : record(opts);
  if (!r) {
    std::fprintf(stderr, "reel record: %s\n", r.error().message.c_str());
    return 2;
  }
  return *r;
}

}  // namespace reel::record
