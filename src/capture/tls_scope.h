// TLS plaintext beside a capture (reel trace, reel record): starts the TLS probes and keeps them
// attached to every OpenSSL the captured processes use (system libraries up front, then each
// process's own mappings when it first shows a connection and once a second after).
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "capture/capture.h"
#include "capture/tls_probes.h"

namespace reel::capture {

class TlsScope {
 public:
  // Null, after a warning, when the probes cannot run: the trace goes on with ciphertext.
  // `pids` lists the traced processes now; `command` is what reel is about to start, if anything.
  static std::unique_ptr<TlsScope> start(Capture& cap, const CaptureConfig& config,
                                         std::function<std::vector<pid_t>()> pids,
                                         const std::vector<std::string>& command);
  // Looks at a process the first time one of its connections appears.
  void on_event(const Event& e);
  // Rescans the traced processes at most once a second (libraries loaded later).
  void tick(std::uint64_t now_ns);
  void print_summary(std::FILE* out) const;
  std::uint64_t ssl_calls() const;  // SSL reads and writes seen so far

 private:
  TlsScope(std::unique_ptr<TlsProbes> probes, std::function<std::vector<pid_t>()> pids)
      : probes_(std::move(probes)), pids_(std::move(pids)) {}
  std::unique_ptr<TlsProbes> probes_;
  std::function<std::vector<pid_t>()> pids_;
  std::set<std::uint32_t> seen_;
  std::uint64_t last_scan_ns_ = 0;
};

}  // namespace reel::capture
