// `reel trace`: live L7 view of a process, no change to it.
#pragma once

#include <optional>

#include "core/user.h"
#include <sys/types.h>

#include <string>
#include <vector>

#include "trace/filter.h"

namespace reel::trace {

struct TraceOptions {
  std::vector<std::string> command;
  std::optional<RunAs> user;  // --user: the command runs as this account
  std::string cgroup;
  pid_t pid = 0;
  FilterOptions filter;
  std::string max_body = "64k";
  std::string format = "pretty";  // pretty | json | har
  std::string output;             // -o FILE
  std::string duration;           // --duration 30s
  std::uint64_t count = 0;        // --count N
  bool verbose = false;
};

int run_trace(const TraceOptions& opts);

// The pid and every descendant alive now (from /proc/PID/task/*/children).
std::vector<pid_t> process_tree(pid_t root);
// The cgroup at `path` (whose id is `id`) and every cgroup below it, as ids, into `out`.
void cgroup_ids_below(const std::string& path, std::uint64_t id, std::vector<std::uint64_t>& out);

}  // namespace reel::trace
