// `reel record --pid | --cgroup | --passive -- CMD`: a recording made from the capture alone.
// Nothing is put in the app's path: no cgroup change, no redirect, no relay, no CA. Calls into
// the app and the calls it makes (pooled connections opened long before included) are read from
// the syscalls and, for TLS, from the uprobes' plaintext; detaching leaves the app as it was.
#include "record/passive.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
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
#include "record/audit.h"
#include "record/progress.h"
#include "record/session.h"
#include "testset/config.h"
#include "testset/redact.h"
#include "testset/writer.h"
#include "trace/command.h"
#include "trace/filter.h"

namespace reel::record {

namespace {

struct Target {
  capture::CaptureConfig config;
  std::optional<Cgroup> cgroup;  // --cgroup, or the one reel makes for --passive -- CMD
  std::string text;              // for logs and the audit line
  std::function<std::vector<pid_t>()> pids;
};

Result<Target> resolve_target(const RecordCommandOptions& o) {
  int given = !o.command.empty() + !o.cgroup.empty() + (o.pid != 0);
  if (given != 1)
    return fail_msg(
        "give exactly one target: --pid PID, --cgroup PATH or --passive -- CMD ARGS...");
  Target t;
  if (o.pid != 0) {
    if (::kill(o.pid, 0) != 0) return fail_msg("no process with pid {}", o.pid);
    t.config.tgids = trace::process_tree(o.pid);
    std::string comm;
    std::ifstream(fmt::format("/proc/{}/comm", o.pid)) >> comm;
    t.text = fmt::format("pid {} ({})", o.pid, comm);
    t.pids = [pid = o.pid] { return trace::process_tree(pid); };
    return t;
  }
  if (!o.cgroup.empty()) {
    t.cgroup.emplace(REEL_TRY(Cgroup::open(o.cgroup)));
    t.text = "cgroup " + t.cgroup->path();
  } else {
    t.cgroup.emplace(REEL_TRY(Cgroup::create_child(fmt::format("{}-record", ::getpid()))));
    t.text = "command " + o.command[0];
  }
  trace::cgroup_ids_below(t.cgroup->path(), t.cgroup->id(), t.config.cgroup_ids);
  t.pids = [path = t.cgroup->path()] { return capture::cgroup_tree_pids(path); };
  return t;
}

}  // namespace

Result<int> record_passive(const RecordCommandOptions& o) {
  REEL_TRY(require_privileges("record"));
  if (!(o.sample > 0 && o.sample <= 1))
    return fail_msg("--sample: {} is not a share of requests in (0, 1], e.g. 0.1", o.sample);
  std::uint64_t duration_ns = 0;
  if (!o.duration.empty())
    duration_ns = REEL_TRY(with_context(trace::parse_duration_ns(o.duration), "--duration"));
  std::uint64_t max_body = REEL_TRY(with_context(trace::parse_size(o.max_body), "--max-body"));
  testset::ReelConfig config = REEL_TRY(testset::load_reel_config(o.config));
  auto signal_fd = REEL_TRY(block_signals_to_fd({SIGINT, SIGTERM, SIGCHLD, SIGHUP}));
  sweep_stale_cgroups();
  Target target = REEL_TRY(resolve_target(o));

  REEL_TRY(create_dirs(o.dir, 0750));
  testset::WriterOptions wo{.file_mode = config.file_mode, .redactor = std::nullopt};
  if (config.redact.enabled)
    wo.redactor = REEL_TRY(testset::Redactor::for_recording(o.dir, config.redact));
  auto writer = REEL_TRY(testset::TestSetWriter::create_next(o.dir, wo));

  // Framing needs every byte of a message; past --max-body the kernel sends lengths only and
  // the message is kept cut (marked, never replayed as whole).
  target.config.max_bytes_per_call = max_body + 16 * 1024;
  target.config.ring_bytes = 16u << 20;
  auto cap = REEL_TRY(capture::Capture::start(target.config));
  std::unique_ptr<capture::TlsScope> tls;
  if (!o.no_tls) tls = capture::TlsScope::start(*cap, target.config, target.pids, o.command);

  SessionOptions so;
  so.app_port = o.app_port;
  so.convert.clock_to_unix_ns = mono_to_real_offset_ns();
  so.convert.utc_offset_s = local_utc_offset_s();
  so.noise = config.noise;
  so.limits.max_body = max_body;
  so.limits.max_frame = max_body + 16 * 1024;
  so.passive = true;
  so.tls_plaintext = tls != nullptr;
  so.calls.convert = so.convert;
  so.calls.redactor = wo.redactor ? &*wo.redactor : nullptr;
  so.calls.max_message = max_body;
  so.sample = o.sample;
  so.max_tests = o.max_tests;
  so.max_per_endpoint = o.max_per_endpoint;
  RecordSession session(writer, so);

  pid_t child = 0;
  if (!o.command.empty())
    child = REEL_TRY(spawn({.argv = o.command, .cgroup_fd = target.cgroup->fd(), .extra_env = {},
                            .user = o.user}));
  std::uint64_t start = monotonic_ns();
  std::uint64_t start_unix_ns = start + so.convert.clock_to_unix_ns;
  spdlog::info("recording {} passively into {}{}{}",
               child ? fmt::format("{} (pid {})", o.command[0], child) : target.text,
               writer.dir().string(), duration_ns ? fmt::format(" for {}", o.duration) : "",
               o.app_port ? fmt::format(", tests from port {}", o.app_port) : "");

  bool color = ::isatty(STDERR_FILENO);
  auto step = [&](int timeout_ms, bool flush) -> Result<void> {
    REEL_TRY(cap->poll(timeout_ms, [&](const capture::Event& e) {
      if (tls) tls->on_event(e);
      session.on_capture_event(e);
    }));
    if (tls) tls->tick(monotonic_ns());
    for (auto& w : REEL_TRY(session.settle(monotonic_ns(), flush))) print_test(w, color);
    return {};
  };
  int exit_code = 0;
  std::string why;
  while (why.empty()) {
    REEL_TRY(step(20, false));
    std::uint64_t now = monotonic_ns();
    if (duration_ns && now - start >= duration_ns) why = "--duration reached";
    if (o.max_tests && session.stats().tests >= o.max_tests) why = "--max-tests reached";
    while (int sig = read_signal(signal_fd.get())) {
      if (sig == SIGCHLD) continue;
      why = "stopped by a signal";
      if (child) ::kill(child, sig == SIGHUP ? SIGTERM : sig);  // reel's own app ends with it
    }
    if (o.pid && ::kill(o.pid, 0) != 0) why = fmt::format("pid {} ended", o.pid);
    int status;
    if (child && ::waitpid(child, &status, WNOHANG) == child) {
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      child = 0;
      why = "the app ended";
    }
  }
  // What the ring holds happened before the stop. The app attached to goes on untouched.
  REEL_TRY(step(0, true));
  std::uint64_t duration = monotonic_ns() - start;
  if (child) {
    // --passive -- CMD stopped by a bound: like timeout(1), the command ends with reel.
    ::kill(child, SIGTERM);
    for (int i = 0; i < 200 && ::waitpid(child, nullptr, WNOHANG) == 0; i++) ::poll(nullptr, 0, 10);
  }
  spdlog::info("{}: detached after {:.1f} s", why, double(duration) / 1e9);

  print_session_summary(writer.dir(), session, cap->counters().by_kind[CAP_CNT_LOST], 0);
  if (tls && tls->ssl_calls()) tls->print_summary(stderr);
  const auto& st = session.stats();
  return finish_recording({.mode = "passive",
                           .target = target.text,
                           .dir = writer.dir().string(),
                           .started_unix_ns = start_unix_ns,
                           .duration_ns = duration,
                           .tests = st.tests,
                           .mocks = st.mocks,
                           .bytes = bytes_under(writer.dir().string())},
                          o.strict, exit_code);
}

}  // namespace reel::record
