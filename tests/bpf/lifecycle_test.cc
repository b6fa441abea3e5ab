// The reel binary itself: nothing stays attached after SIGKILL, and errors a user can act on.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/process.h"
#include "harness.h"
#include "kernel/cgroup.h"
#include "kernel/mountinfo.h"

namespace reel {
namespace {

using namespace std::chrono_literals;

// Program ids attached to a cgroup, over every attach type the redirect group uses.
std::vector<std::uint32_t> attached_programs(int cgroup_fd) {
  std::vector<std::uint32_t> ids;
  for (auto type : {BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_SOCK_OPS,
                    BPF_CGROUP_INET4_GETPEERNAME, BPF_CGROUP_INET6_GETPEERNAME,
                    BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_UDP6_SENDMSG, BPF_CGROUP_UDP4_RECVMSG,
                    BPF_CGROUP_UDP6_RECVMSG, BPF_CGROUP_GETSOCKOPT}) {
    std::uint32_t buf[64], count = 64, flags = 0;
    if (bpf_prog_query(cgroup_fd, type, 0, &flags, buf, &count) == 0)
      ids.insert(ids.end(), buf, buf + count);
  }
  return ids;
}

bool program_exists(std::uint32_t id) {
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

struct Run {
  int exit_code;
  std::string output;
};

// Runs the reel binary with arguments, capturing stdout+stderr.
Run run_reel(std::vector<std::string> args, const std::string& as_user = "") {
  std::string cmd;
  if (!as_user.empty()) cmd = "setpriv --reuid=" + as_user + " --regid=" + as_user + " --clear-groups ";
  cmd += REEL_BINARY;
  for (auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

TEST(Lifecycle, NothingStaysAttachedAfterKill9) {
  auto proxy = testing::listen_tcp("127.0.0.1");
  auto pid = spawn({.argv = {REEL_BINARY, "redirect", "--to", proxy.ep.to_string(), "--", "sleep",
                             "60"}});
  ASSERT_TRUE(pid) << pid.error().message;
  std::string cg_path = *cgroup2_root() + fmt::format("/reel/{}-redirect", *pid);

  // Wait until reel has attached its programs and started the command.
  std::vector<std::uint32_t> before;
  std::optional<Cgroup> cg;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!cg) {
      auto c = Cgroup::open(cg_path);
      if (c) cg.emplace(std::move(*c));
    }
    if (cg && !cg->pids().value_or(std::vector<pid_t>{}).empty()) {
      before = attached_programs(cg->fd());
      if (before.size() >= 9) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(cg) << "reel never created " << cg_path;
  ASSERT_EQ(before.size(), 9u) << "connect4/6, sockops, getpeername4/6, sendmsg4/6, recvmsg4/6";

  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  ::waitpid(*pid, nullptr, 0);

  deadline = std::chrono::steady_clock::now() + 10s;
  while (!attached_programs(cg->fd()).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(attached_programs(cg->fd()).empty()) << "programs still attached to " << cg_path;
  for (auto id : before) {
    while (program_exists(id) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(program_exists(id)) << "program id " << id << " outlived reel";
  }
  // The getsockopt program went from the proxy's cgroup (this test's) as well.
  auto self = Cgroup::of_pid(::getpid());
  ASSERT_TRUE(self);
  for (auto id : attached_programs(self->fd()))
    EXPECT_EQ(std::count(before.begin(), before.end(), id), 0);

  // `sleep` outlives reel on purpose (a crashed reel must not take the app down); this test
  // started it, so it ends it and removes the cgroup.
  ASSERT_TRUE(cg->kill_all(5s));
  cg.reset();
  EXPECT_EQ(::rmdir(cg_path.c_str()), 0) << strerror(errno);
}

TEST(Lifecycle, ClearErrors) {
  auto missing = run_reel({"redirect", "--to", "builtin", "--", "no-such-command-xyz"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("command not found: no-such-command-xyz"), std::string::npos)
      << missing.output;

  auto not_cg2 = run_reel({"redirect", "--to", "builtin", "--cgroup", "/tmp"});
  EXPECT_EQ(not_cg2.exit_code, 2);
  EXPECT_NE(not_cg2.output.find("/tmp is not a cgroup v2 directory"), std::string::npos)
      << not_cg2.output;

  auto bad_port = run_reel({"redirect", "--to", "builtin", "--ports", "80-70", "--", "true"});
  EXPECT_EQ(bad_port.exit_code, 2);
  EXPECT_NE(bad_port.output.find("--ports"), std::string::npos) << bad_port.output;

  auto no_root = run_reel({"redirect", "--to", "builtin", "--", "true"}, "65534");
  EXPECT_EQ(no_root.exit_code, 2);
  EXPECT_NE(no_root.output.find("must run as root"), std::string::npos) << no_root.output;

  auto taken = testing::listen_tcp("127.0.0.1");
  auto in_use = run_reel({"relay", "--listen", taken.ep.to_string()});
  EXPECT_EQ(in_use.exit_code, 2);
  EXPECT_NE(in_use.output.find("already in use"), std::string::npos) << in_use.output;

  // A proxy that is not listening is a warning, not an error: the command still runs.
  auto closed = testing::listen_tcp("127.0.0.1");
  std::string port = std::to_string(closed.ep.port);
  closed.fd.reset();
  auto warned = run_reel({"redirect", "--to", "127.0.0.1:" + port, "--", "true"});
  EXPECT_EQ(warned.exit_code, 0) << warned.output;
  EXPECT_NE(warned.output.find("nothing is listening on 127.0.0.1:" + port), std::string::npos)
      << warned.output;
}

TEST(Lifecycle, ExitCodeOfTheCommandIsReelsExitCode) {
  EXPECT_EQ(run_reel({"redirect", "--to", "builtin", "--", "sh", "-c", "exit 7"}).exit_code, 7);
}

TEST(Lifecycle, DoctorReportsEveryCheckOk) {
  auto r = run_reel({"doctor"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* check : {"root / capabilities", "cgroup v2", "program type cgroup_sock_addr",
                            "program type sock_ops", "program type cgroup_sockopt",
                            "redirect programs load+attach", "map type sk_storage"})
    EXPECT_NE(r.output.find(check), std::string::npos) << check;
  EXPECT_EQ(r.output.find("FAIL"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace reel
