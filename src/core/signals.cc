#include "core/signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace reel {

Result<UniqueFd> block_signals_to_fd(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return fail_errno("sigprocmask");
  UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd) return fail_errno("signalfd");
  return fd;
}

int read_signal(int signal_fd) {
  signalfd_siginfo info;
  if (::read(signal_fd, &info, sizeof info) != sizeof info) return 0;
  return static_cast<int>(info.ssi_signo);
}

}  // namespace reel
