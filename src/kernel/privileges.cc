#include "kernel/privileges.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace reel {

const std::vector<Capability>& needed_capabilities() {
  static const std::vector<Capability> caps = {
      {CAP_BPF, "CAP_BPF", "load BPF programs and maps"},
      {CAP_NET_ADMIN, "CAP_NET_ADMIN", "attach cgroup socket programs"},
      {CAP_PERFMON, "CAP_PERFMON", "tracepoints and uprobes (trace, record)"},
      {CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "mount tracefs/cgroup2, create cgroups, sk_storage"},
  };
  return caps;
}

std::vector<std::string> missing_capabilities() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  std::vector<std::string> missing;
  if (::syscall(SYS_capget, &hdr, data) != 0) {
    for (auto& c : needed_capabilities()) missing.push_back(c.name);
    return missing;
  }
  for (auto& c : needed_capabilities()) {
    unsigned word = static_cast<unsigned>(c.number) / 32, bit = static_cast<unsigned>(c.number) % 32;
    if (!(data[word].effective & (1u << bit))) missing.push_back(c.name);
  }
  return missing;
}

Result<void> require_privileges(const std::string& command) {
  auto missing = missing_capabilities();
  if (missing.empty()) return {};
  std::string list;
  for (auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  if (::geteuid() != 0)
    return fail(Error::msg(fmt::format("reel {} must run as root (it loads eBPF programs): try "
                                       "`sudo reel {} ...`",
                                       command, command),
                           EPERM));
  return fail(Error::msg(
      fmt::format("reel {} is running as root but lacks {}; run it outside restricted containers "
                  "or grant these capabilities",
                  command, list),
      EPERM));
}

}  // namespace reel
