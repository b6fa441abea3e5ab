#include "capture/tls_scope.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace reel::capture {

namespace {

// The file `name` runs, as execvp would find it.
std::string executable_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string p = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

}  // namespace

std::unique_ptr<TlsScope> TlsScope::start(Capture& cap, const CaptureConfig& config,
                                          std::function<std::vector<pid_t>()> pids,
                                          const std::vector<std::string>& command) {
  TlsConfig tc;
  tc.cgroup_scope = !config.cgroup_ids.empty();
  // --pid: the processes run already and are scanned now, so the probes can be bound to them and
  // leave every other libssl user on the machine alone. A command reel starts may load libssl
  // at any moment (python's `import ssl`): there the files are probed for every process.
  tc.per_process = !tc.cgroup_scope;
  tc.max_bytes_per_call = config.max_bytes_per_call;
  tc.wakeup_bytes = config.ring_bytes / 4;  // as the capture ring (capture.cc)
  tc.capture_map_fd = [&cap](const char* name) { return cap.map_fd(name); };
  auto probes = TlsProbes::start(tc);
  if (!probes) {
    spdlog::warn("TLS traffic will show as ciphertext: {}", probes.error().message);
    return nullptr;
  }
  std::unique_ptr<TlsScope> s(new TlsScope(std::move(*probes), std::move(pids)));
  s->probes_->attach_system_libraries();
  if (!command.empty())
    if (std::string exe = executable_path(command[0]); !exe.empty()) s->probes_->attach_file(exe);
  for (pid_t p : s->pids_()) {
    s->seen_.insert(static_cast<std::uint32_t>(p));
    s->probes_->scan_process(p);
  }
  cap.set_tls_active();
  return s;
}

void TlsScope::on_event(const Event& e) {
  if (auto* o = std::get_if<OpenEvent>(&e))
    if (seen_.insert(o->key.tgid).second) probes_->scan_process(static_cast<pid_t>(o->key.tgid));
}

void TlsScope::tick(std::uint64_t now_ns) {
  if (now_ns - last_scan_ns_ < 1'000'000'000) return;
  last_scan_ns_ = now_ns;
  for (pid_t p : pids_()) {
    seen_.insert(static_cast<std::uint32_t>(p));
    probes_->scan_process(p);
  }
}

std::uint64_t TlsScope::ssl_calls() const { return probes_->counters().by_kind[TLS_CNT_CALLS]; }

void TlsScope::print_summary(std::FILE* out) const {
  auto c = probes_->counters();
  auto n = [&](int k) { return static_cast<unsigned long long>(c.by_kind[k]); };
  std::fprintf(out,
               "tls: %llu SSL calls in %zu %s, tied to their socket by SSL_set_fd %llu, by "
               "syscall %llu, by the thread's last fd %llu, by Go's net.Conn %llu; untied %llu "
               "(%llu bytes not shown); %llu plaintext events, %llu dropped (ring full)\n",
               n(TLS_CNT_CALLS), c.binaries, c.binaries == 1 ? "binary" : "binaries",
               n(TLS_CNT_BY_SET_FD), n(TLS_CNT_BY_SYSCALL), n(TLS_CNT_BY_LAST_FD),
               n(TLS_CNT_BY_GO_CONN), n(TLS_CNT_UNTIED),
               n(TLS_CNT_UNTIED_BYTES), n(TLS_CNT_EVENTS), n(TLS_CNT_LOST));
  // Where the probes sit: a container's library is named through its process's root
  // (/proc/PID/root/...), as the host has no such file.
  const auto& files = probes_->binaries();
  std::string list;
  for (std::size_t i = 0; i < files.size() && i < 4; ++i) list += (i ? ", " : "") + files[i];
  if (files.size() > 4) list += fmt::format(" and {} more", files.size() - 4);
  if (!list.empty()) std::fprintf(out, "tls: probes in %s\n", list.c_str());
}

}  // namespace reel::capture
