// The audit trail of recordings: each `reel record` ends with one line in the system log
// (facility authpriv, where sudo and sshd write, tag "reel"), saying who recorded what, when, for
// how long and how much was kept. A recording holds what a service said, secrets redacted or
// not; whoever answers for the machine can see that it was made.
#pragma once

#include <cstdint>
#include <string>

namespace reel::record {

struct AuditRecord {
  std::string mode;    // "passive" (attached to what runs) or "active" (reel started the app)
  std::string target;  // "pid 1234 (python3)", "cgroup /sys/fs/cgroup/shop", "command app.py"
  std::string dir;     // the test set written
  std::uint64_t started_unix_ns = 0;
  std::uint64_t duration_ns = 0;
  std::uint64_t tests = 0, mocks = 0;
  std::uint64_t bytes = 0;  // on disk, in the test set
};

// The line, as logfmt: keys and values, a value quoted when it holds a space or a quote.
// The user is reel's (uid and name) and, under sudo, the one who ran sudo.
std::string audit_line(const AuditRecord& r);
// Bytes of the regular files under `dir` (0 when it cannot be read).
std::uint64_t bytes_under(const std::string& dir);
// Sends audit_line to syslog(3). Returns the line.
std::string write_audit(const AuditRecord& r);

}  // namespace reel::record
