// Helpers for kernel tests: sockets on loopback and a child process born inside a cgroup.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "core/net.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace reel::testing {

struct Listener {
  UniqueFd fd;
  Endpoint ep;
};

// A TCP listener on `ip` (e.g. "127.0.0.2", "::1"), port 0 unless given.
Listener listen_tcp(const std::string& ip, std::uint16_t port = 0);
// A UDP socket bound on `ip`, port 0 unless given.
Listener bind_udp(const std::string& ip, std::uint16_t port = 0);
// accept() with a deadline; empty fd on timeout.
UniqueFd accept_within(int listen_fd, std::chrono::milliseconds timeout);
// Reads exactly n bytes with a deadline; shorter on EOF/timeout.
std::string read_n(int fd, std::size_t n, std::chrono::milliseconds timeout);
bool write_all(int fd, std::string_view data);
// Blocking connect from the calling process; returns the fd or an error.
Result<UniqueFd> connect_tcp(const Endpoint& to, int family = 0);
// getpeername() as an Endpoint.
Result<Endpoint> peer_of(int fd);

// A function run in a child process that was born in a cgroup (clone3 CLONE_INTO_CGROUP). The
// function's return value travels back through a pipe.
class CgroupChild {
 public:
  static CgroupChild start(int cgroup_fd, const std::function<std::string()>& fn);
  CgroupChild(CgroupChild&& o) noexcept : pid_(std::exchange(o.pid_, -1)), out_(std::move(o.out_)) {}
  CgroupChild& operator=(CgroupChild&&) = delete;
  pid_t pid() const { return pid_; }
  ~CgroupChild();
  // Waits for the child to exit (with a deadline) and returns what the function returned.
  std::string finish(std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  CgroupChild(pid_t pid, UniqueFd out) : pid_(pid), out_(std::move(out)) {}
  pid_t pid_ = -1;
  UniqueFd out_;
};

// Runs `fn` in a child born in the cgroup and returns its result.
inline std::string run_in_cgroup(int cgroup_fd, const std::function<std::string()>& fn) {
  return CgroupChild::start(cgroup_fd, fn).finish();
}

}  // namespace reel::testing
