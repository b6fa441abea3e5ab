#include "trace/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <optional>
#include <sstream>

#include <spdlog/spdlog.h>

#include "capture/capture.h"
#include "capture/tracker.h"
#include "core/clock.h"
#include "core/process.h"
#include "core/signals.h"
#include "core/user.h"
#include "kernel/cgroup.h"
#include "kernel/privileges.h"
#include "trace/pipeline.h"
#include "capture/tls_scope.h"

namespace reel::trace {

std::vector<pid_t> process_tree(pid_t root) {
  std::vector<pid_t> out{root};
  for (std::size_t i = 0; i < out.size(); i++) {
    std::string dir = fmt::format("/proc/{}/task", out[i]);
    DIR* d = ::opendir(dir.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + e->d_name + "/children");
      pid_t child;
      while (in >> child) out.push_back(child);
    }
    ::closedir(d);
  }
  return out;
}

void cgroup_ids_below(const std::string& path, std::uint64_t id, std::vector<std::uint64_t>& out) {
  out.push_back(id);
  DIR* d = ::opendir(path.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    std::string sub = path + "/" + e->d_name;
    if (auto cg = Cgroup::open(sub)) cgroup_ids_below(sub, cg->id(), out);
  }
  ::closedir(d);
}

namespace {

// The ring is drained every kDrainMs, or sooner when the programs wake reel (a quarter of the ring
// pending). Each wake-up preempts nginx or its client on a busy machine: draining every 5 ms cost
// 8-10% of nginx's rate at its maximum (bench/trace.sh), for output a person reads no faster.
// While it drains, the capture yields the core now and then (Capture::poll).
constexpr int kDrainMs = 50;

struct Target {
  std::optional<Cgroup> cgroup;  // owned when reel starts the command
  capture::CaptureConfig config;
};

Result<Target> resolve_target(const TraceOptions& o) {
  int given = !o.command.empty() + !o.cgroup.empty() + (o.pid != 0);
  if (given != 1) return fail_msg("give exactly one target: -- CMD ARGS..., --cgroup PATH or --pid PID");
  Target t;
  if (o.pid != 0) {
    if (::kill(o.pid, 0) != 0) return fail_msg("no process with pid {}", o.pid);
    t.config.tgids = process_tree(o.pid);
    return t;
  }
  if (!o.cgroup.empty()) {
    Cgroup cg = REEL_TRY(Cgroup::open(o.cgroup));
    cgroup_ids_below(cg.path(), cg.id(), t.config.cgroup_ids);
    t.cgroup.emplace(std::move(cg));
    return t;
  }
  Cgroup cg = REEL_TRY(Cgroup::create_child(fmt::format("{}-trace", ::getpid())));
  t.config.cgroup_ids = {cg.id()};
  t.cgroup.emplace(std::move(cg));
  return t;
}

struct Output {
  std::FILE* file = stdout;
  bool owned = false;
  ~Output() {
    if (owned) std::fclose(file);
  }
};

Result<std::unique_ptr<Sink>> make_sink(const TraceOptions& o, Output& out) {
  if (!o.output.empty()) {
    // Exchanges carry whatever the app said, secrets included: 0640 and, under sudo, the
    // invoking user's, like recordings.
    int fd = ::open(o.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return fail_errno("cannot write " + o.output);
    if (auto r = own_fd(fd, o.output); !r) {
      ::close(fd);
      return fail(r.error());
    }
    out.file = ::fdopen(fd, "w");
    if (!out.file) {
      ::close(fd);
      return fail_errno("cannot write " + o.output);
    }
    out.owned = true;
  }
  // Fully buffered, flushed by the trace loop after each batch (a terminal's line buffering
  // would write once per exchange).
  std::setvbuf(out.file, nullptr, _IOFBF, 1 << 16);
  SinkOptions so;
  so.out = out.file;
  so.color = !out.owned && ::isatty(fileno(out.file));
  so.verbose = o.verbose;
  so.mono_to_real_ns = mono_to_real_offset_ns();
  if (o.format == "pretty") return make_pretty_sink(so);
  if (o.format == "json") return make_json_sink(so);
  if (o.format == "har") return make_har_sink(so);
  return fail_msg("--format: '{}' is not pretty, json or har", o.format);
}

Result<int> trace(const TraceOptions& o) {
  REEL_TRY(require_privileges("trace"));
  Filter filter = REEL_TRY(Filter::parse(o.filter));
  std::uint64_t max_body = REEL_TRY(with_context(parse_size(o.max_body), "--max-body"));
  std::uint64_t duration_ns = 0;
  if (!o.duration.empty()) duration_ns = REEL_TRY(with_context(parse_duration_ns(o.duration), "--duration"));
  Output out;
  auto sink = REEL_TRY(make_sink(o, out));
  auto signal_fd = REEL_TRY(block_signals_to_fd({SIGINT, SIGTERM, SIGCHLD, SIGHUP}));
  sweep_stale_cgroups();

  Target target = REEL_TRY(resolve_target(o));
  // Framing (chunked encoding, pipelined commands) needs every byte, not just the first
  // --max-body of them: copy generously per call, cap what is kept in user space.
  target.config.max_bytes_per_call = std::max<std::uint64_t>(256 * 1024, max_body + 16 * 1024);
  auto cap = REEL_TRY(capture::Capture::start(target.config));
  auto traced_pids = [&o, cgroup = target.cgroup ? target.cgroup->path() : std::string()] {
    return o.pid ? process_tree(o.pid) : capture::cgroup_tree_pids(cgroup);
  };
  auto tls = capture::TlsScope::start(*cap, target.config, traced_pids, o.command);
  Summary summary;
  Pipeline pipeline(tracker_options(o, max_body, summary), filter, *sink, summary, o.count);

  pid_t child = 0;
  if (!o.command.empty())
    child = REEL_TRY(spawn(
        {.argv = o.command, .cgroup_fd = target.cgroup->fd(), .extra_env = {}, .user = o.user}));
  spdlog::info("tracing {}", child ? fmt::format("{} (pid {})", o.command[0], child)
                             : o.pid ? fmt::format("pid {} and its children", o.pid)
                                     : target.cgroup->path());

  std::uint64_t start = monotonic_ns(), last_expiry = start;
  int exit_code = 0;
  bool done = false;
  // One write per poll (every few ms under load), not one per exchange: still live on a terminal
  // or a pipe, and the traced process does not pay for reel's own syscalls.
  auto emit = [&] {
    if (pipeline.emit()) std::fflush(out.file);
    if (pipeline.done()) done = true;
  };
  auto on_event = [&](const capture::Event& e) {
    if (tls) tls->on_event(e);
    pipeline.on_event(e);
  };
  while (!done) {
    REEL_TRY(cap->poll(kDrainMs, on_event));
    emit();
    std::uint64_t now = monotonic_ns();
    if (tls) tls->tick(now);
    if (now - last_expiry > 1'000'000'000) {
      pipeline.expire_idle(now);
      last_expiry = now;
    }
    if (duration_ns && now - start >= duration_ns) done = true;
    while (int sig = read_signal(signal_fd.get())) {
      if (sig == SIGCHLD) continue;
      if (child) ::kill(child, sig);
      else done = true;
    }
    int status;
    if (child && ::waitpid(child, &status, WNOHANG) == child) {
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      child = 0;
      done = true;
      (void)cap->poll(0, on_event);
    }
  }
  // Whatever the ring still holds happened before the stop: drain it, then flush.
  (void)cap->poll(0, on_event);
  pipeline.flush_all();
  emit();
  sink->finish();
  summary.print(stderr, cap->counters(), pipeline.tracker().stats());
  if (tls) tls->print_summary(stderr);
  if (child) {
    // Stopped by --duration or --count: like timeout(1), the command reel started ends with it
    // (SIGTERM first; the cgroup's removal ends whatever is left).
    ::kill(child, SIGTERM);
    for (int i = 0; i < 200 && ::waitpid(child, nullptr, WNOHANG) == 0; i++) ::poll(nullptr, 0, 10);
  }
  return exit_code;
}

}  // namespace

int run_trace(const TraceOptions& opts) {
  auto r = trace(opts);
  if (!r) {
    std::fprintf(stderr, "reel trace: %s\n", r.error().message.c_str());
    return 2;
  }
  return *r;
}

}  // namespace reel::trace
