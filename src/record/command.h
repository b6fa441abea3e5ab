// `reel record`: real traffic into a test set. Calls into the app become test cases, calls the
// app makes become mocks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/user.h"

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

  // Passive: attach to what runs (--pid, --cgroup) or to a command started as is (--passive),
  // and record from the capture alone: no redirect, no relay, no CA, nothing in the app's path.
  pid_t pid = 0;
  std::string cgroup;
  bool passive = false;
  std::string duration;              // stop after this long ("" = until Ctrl-C or the app ends)
  std::uint64_t max_tests = 0;       // stop after this many tests
  double sample = 1.0;               // share of each endpoint's requests kept
  std::uint64_t max_per_endpoint = 0;
  std::string max_body = "1m";       // bytes per message captured; a longer one is kept cut
};

int run_record(const RecordCommandOptions& opts);

}  // namespace reel::record
