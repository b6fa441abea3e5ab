// Starting the target command inside a cgroup from its first instruction.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/user.h"

namespace reel {

struct SpawnOptions {
  std::vector<std::string> argv;
  int cgroup_fd = -1;  // the child is born in this cgroup (clone3 CLONE_INTO_CGROUP)
  std::vector<std::string> extra_env;  // "NAME=value", added to reel's environment
  // Run as this account (groups, gid, uid dropped before exec; HOME/USER/LOGNAME set) while reel
  // keeps root. nullopt runs the target as reel's own user, i.e. root under sudo.
  std::optional<RunAs> user;
};

// Starts argv[0] (looked up in PATH) and returns its pid once exec succeeded. A command that
// cannot be executed is an Error naming it ("command not found: foo"), not a child that exits 127.
Result<pid_t> spawn(const SpawnOptions& opts);

// Waits for `pid`; returns its exit status in shell form (128+signal when killed).
Result<int> wait_exit(pid_t pid);

}  // namespace reel
