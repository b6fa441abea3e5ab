// The TLS program group: uprobes on OpenSSL's SSL_read/SSL_write(_ex), SSL_set_fd and SSL_free,
// and on Go's crypto/tls (*Conn).Read/Write (bpf/tls.bpf.c), attached once per library or
// executable that carries them and filtered to the capture's scope in the kernel. Plaintext arrives in the capture's ring buffer as data events
// flagged CAP_F_TLS; this class only finds the binaries, attaches and counts.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bpf/abi/tls.h"
#include "core/result.h"

namespace reel::capture {

struct TlsConfig {
  bool cgroup_scope = true;  // else: the capture's tgid scope
  std::uint64_t max_bytes_per_call = 64 * 1024;
  std::uint64_t wakeup_bytes = 4u << 20;
  // Attach to each traced process's mappings only (uprobes bound to the pid), not to the files
  // for every process on the machine: other programs using the same libssl (a load generator)
  // then pay nothing. Needs every traced process to be scanned (scan_process) before its first
  // SSL call, so it suits --pid targets that are already running.
  bool per_process = false;
  // The capture's map fds by name (scope maps, conns, stashes, tls_calls, events): the two groups
  // share them. Returns -1 for a map the capture does not have.
  std::function<int(const char* name)> capture_map_fd;
};

struct TlsCounters {
  std::array<std::uint64_t, TLS_CNT__COUNT> by_kind{};
  std::size_t binaries = 0;  // libraries/executables with probes attached
};

class TlsProbes {
 public:
  static Result<std::unique_ptr<TlsProbes>> start(const TlsConfig& config);
  ~TlsProbes();

  // Attaches to `path` (for process `pid` only, or -1: every process) if it defines SSL_read and
  // SSL_write; each file (by device and inode) is examined once, and attached once per pid.
  // Returns whether probes were attached now.
  bool attach_file(const std::string& path, pid_t pid = -1);
  // OpenSSL where the system keeps its libraries: covers processes that load it later (dlopen).
  void attach_system_libraries();
  // Every executable mapping of `pid` (its libraries and the executable itself, for a static
  // OpenSSL); only files not examined before cost anything.
  void scan_process(pid_t pid);
  TlsCounters counters() const;
  const std::vector<std::string>& binaries() const;

  struct State;

 private:
  explicit TlsProbes(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

// The processes in a cgroup and all cgroups below it.
std::vector<pid_t> cgroup_tree_pids(const std::string& cgroup_path);

}  // namespace reel::capture
