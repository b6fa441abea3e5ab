// `reel redirect` and `reel relay`: wiring from options to the redirect engine and the relay.
#pragma once

#include <optional>

#include "core/user.h"
#include <sys/types.h>

#include <string>
#include <vector>

namespace reel {

struct RedirectOptions {
  std::vector<std::string> to;  // "builtin", or HOST:PORT (one IPv4 and/or one IPv6)
  std::vector<std::string> command;
  std::optional<RunAs> user;  // --user: the command runs as this account
  std::string cgroup;  // --cgroup PATH
  pid_t pid = 0;       // --pid PID
  std::string proxy_cgroup;  // --proxy-cgroup PATH: where SO_ORIGINAL_DST is answered
  std::string ports;
  std::vector<std::string> exclude;
  std::vector<std::string> include;
  std::string dns;
  bool events = false;
  bool json = false;
};

// Returns the process exit code (the command's own exit code when reel started it).
int run_redirect(const RedirectOptions& opts);

struct RelayCommandOptions {
  std::vector<std::string> listen;
  int threads = 0;
};

int run_relay(const RelayCommandOptions& opts);

}  // namespace reel
