// What to tell a user whose app refused reel's certificate: which program it was (found from the
// app's end of the loopback connection) and, for the runtimes reel knows, how that runtime is
// made to trust reel's CA.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "tls/ca.h"

namespace reel::tls {

enum class Runtime { kUnknown, kJvm, kNode, kPython, kCurl, kGo, kRuby, kDotnet };

struct AppProcess {
  pid_t pid = 0;
  std::string exe;  // /proc/PID/exe
};

// The local process holding the other end of `fd`, a TCP connection accepted from an app on this
// machine; nullopt when it cannot be found (not local, or closed already: a client that refuses a
// certificate closes at once, so ask before the handshake). It walks /proc: not for every
// connection.
std::optional<AppProcess> process_at_other_end(int fd);

// From the executable: its name, or for Go, the build info section Go writes into every binary.
Runtime runtime_of(const std::string& exe);

// A plain sentence: what makes `runtime` trust reel's CA, with the paths of `ca`.
std::string trust_advice(Runtime runtime, const CertAuthority& ca);

// "<exe> is <runtime> (pid N): <advice>", or the generic advice when the app is not known.
std::string refusal_hint(const std::optional<AppProcess>& app, const CertAuthority& ca);

}  // namespace reel::tls
