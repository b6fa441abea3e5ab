// cgroup v2 directories: the scope every reel command works in.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"

namespace reel {

// A cgroup v2 directory held open. When reel created it (`create_child`), the destructor ends
// whatever is still inside (only processes reel started live there) and removes the directory.
class Cgroup {
 public:
  // An existing directory, checked to be on cgroup2.
  static Result<Cgroup> open(const std::string& path);
  // The cgroup `pid` is in (the "0::" line of /proc/PID/cgroup).
  static Result<Cgroup> of_pid(pid_t pid);
  // The cgroup2 root (where a program attached applies to every process).
  static Result<Cgroup> root();
  // A new directory `<cgroup2 root>/reel/<name>`, owned.
  static Result<Cgroup> create_child(const std::string& name);

  Cgroup(Cgroup&&) noexcept = default;
  Cgroup& operator=(Cgroup&&) noexcept;
  ~Cgroup();

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  // What bpf_get_current_cgroup_id() returns for tasks in it: the directory's inode number.
  std::uint64_t id() const { return id_; }
  bool owned() const { return owned_; }

  Result<std::vector<pid_t>> pids() const;
  // Ends every process inside (cgroup.kill, or SIGKILL one by one on older kernels) and waits up
  // to `timeout` for the cgroup to empty.
  Result<void> kill_all(std::chrono::milliseconds timeout);

 private:
  Cgroup(std::string path, UniqueFd fd, std::uint64_t id, bool owned)
      : path_(std::move(path)), fd_(std::move(fd)), id_(id), owned_(owned) {}
  void remove();

  std::string path_;
  UniqueFd fd_;
  std::uint64_t id_ = 0;
  bool owned_ = false;
};

// Removes empty `<root>/reel/*` directories left by a reel that was killed with SIGKILL.
void sweep_stale_cgroups();

// Parses /proc/PID/cgroup text; returns the cgroup v2 path (from the "0::" line).
Result<std::string> unified_path_from_proc(std::string_view proc_cgroup);

}  // namespace reel
