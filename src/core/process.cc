#include "core/process.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "core/unique_fd.h"

extern char** environ;

namespace reel {

Result<pid_t> spawn(const SpawnOptions& opts) {
  if (opts.argv.empty()) return fail_msg("no command given");
  std::vector<char*> argv;
  for (auto& a : opts.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> extra = opts.extra_env;
  if (opts.user) {
    auto user_env = opts.user->env();
    extra.insert(extra.end(), user_env.begin(), user_env.end());
  }
  std::vector<char*> envp;
  // extra_env wins over a variable of the same name that reel itself has.
  auto overridden = [&](std::string_view entry) {
    auto eq = entry.find('=');
    if (eq == entry.npos) return false;
    auto name = entry.substr(0, eq + 1);
    for (auto& e : extra) {
      if (e.starts_with(name)) return true;
    }
    return false;
  };
  for (char** e = environ; *e; e++) {
    if (!overridden(*e)) envp.push_back(*e);
  }
  for (auto& e : extra) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  // The child reports a failed exec through this pipe; a successful exec closes it (CLOEXEC).
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail_errno("pipe");
  UniqueFd rd(p[0]), wr(p[1]);

  clone_args args{};
  args.exit_signal = SIGCHLD;
  if (opts.cgroup_fd >= 0) {
    args.flags = CLONE_INTO_CGROUP;
    args.cgroup = static_cast<__u64>(opts.cgroup_fd);
  }
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return fail_errno("cannot start " + opts.argv[0] + " in its cgroup (clone3)");
  if (pid == 0) {
    rd.reset();
    // Undo reel's signal handling for the child.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    // {stage, errno}: stage 1 is dropping to opts.user, 2 is exec.
    int report[2] = {1, 0};
    if (opts.user) report[1] = drop_to(*opts.user);
    if (report[1] == 0) {
      ::execvpe(argv[0], argv.data(), envp.data());
      report[0] = 2;
      report[1] = errno;
    }
    (void)!::write(wr.get(), report, sizeof report);
    ::_exit(127);
  }
  wr.reset();
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(rd.get(), report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof report) {
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    int err = report[1];
    if (report[0] == 1) {
      return fail_errno(fmt::format("cannot run {} as user {} (uid {}, gid {})", opts.argv[0],
                                    opts.user->name, opts.user->uid, opts.user->gid),
                        err);
    }
    if (err == ENOENT) return fail(Error::msg("command not found: " + opts.argv[0], err));
    if (err == EACCES && opts.user) {
      return fail_errno(fmt::format("cannot execute {} as user {}", opts.argv[0], opts.user->name),
                        err);
    }
    return fail_errno("cannot execute " + opts.argv[0], err);
  }
  return static_cast<pid_t>(pid);
}

Result<int> wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno("waitpid");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace reel
