// `reel record`: real traffic into a test set. Calls into the app become test cases, calls the
// app makes become mocks.
#pragma once

#include <optional>

#include "core/user.h"
#include <cstdint>
#include <string>
#include <vector>

namespace reel::record {

struct RecordCommandOptions {
  std::vector<std::string> command;
  std::optional<RunAs> user;  // --user: the command runs as this account
  std::string dir = "reel";               // -p: test sets go under it
  std::uint16_t app_port = 0;             // only requests to this port become tests
  std::vector<std::string> passthrough;   // HOST or HOST:PORT or CIDR: neither redirected nor recorded
  std::string config = "reel.yaml";       // noise, redaction, file mode
  std::string dns_upstream;               // default: /etc/resolv.conf
  bool no_dns = false;                    // leave DNS alone
  bool no_tls = false;                    // TLS as opaque bytes: no interception
  bool insecure_upstream = false;         // intercepted TLS: skip verifying the upstream
  std::vector<std::string> upstream_cas;  // intercepted TLS: more CAs to trust upstream
  bool strict = false;                    // exit 3 when the recording's self-check finds problems
};

int run_record(const RecordCommandOptions& opts);

}  // namespace reel::record
