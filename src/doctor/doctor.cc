#include "doctor/doctor.h"

#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "capture/capture.h"
#include "capture/tls_probes.h"
#include "kernel/bpf_features.h"
#include "kernel/cgroup.h"
#include "kernel/libbpf_log.h"
#include "kernel/mountinfo.h"
#include "kernel/privileges.h"
#include "redirect/redirector.h"

namespace reel {

namespace {

CheckResult ok(std::string name, std::string detail, std::string needed_by) {
  return {std::move(name), CheckStatus::kOk, std::move(detail), "", std::move(needed_by)};
}
CheckResult bad(std::string name, std::string detail, std::string fix, std::string needed_by,
                CheckStatus s = CheckStatus::kFail) {
  return {std::move(name), s, std::move(detail), std::move(fix), std::move(needed_by)};
}

CheckResult check_privileges() {
  auto missing = missing_capabilities();
  if (missing.empty()) return ok("root / capabilities", "effective: CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_SYS_ADMIN", "all");
  std::string list;
  for (auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return bad("root / capabilities", "missing " + list,
             ::geteuid() == 0 ? "run outside a restricted container, or grant these capabilities"
                              : "run as root: sudo reel ...",
             "all");
}

CheckResult check_btf() {
  struct stat st;
  if (::stat("/sys/kernel/btf/vmlinux", &st) == 0)
    return ok("kernel BTF", fmt::format("/sys/kernel/btf/vmlinux ({} KiB)", st.st_size / 1024), "trace, record (CO-RE)");
  return bad("kernel BTF", "/sys/kernel/btf/vmlinux is missing",
             "use a kernel built with CONFIG_DEBUG_INFO_BTF=y", "trace, record (CO-RE)");
}

CheckResult check_cgroup2() {
  auto info = read_file("/proc/self/mountinfo");
  if (info)
    if (auto m = find_mount(*info, "cgroup2")) return ok("cgroup v2", "mounted at " + *m, "all");
  return bad("cgroup v2", "not mounted; reel will mount it at /run/reel/cgroup2",
             "or mount it yourself: mount -t cgroup2 none /sys/fs/cgroup/unified", "all",
             CheckStatus::kWarn);
}

CheckResult check_tracefs() {
  auto info = read_file("/proc/self/mountinfo");
  if (info)
    if (auto m = find_mount(*info, "tracefs")) return ok("tracefs", "mounted at " + *m, "trace, record");
  return bad("tracefs", "not mounted; reel mounts it at /sys/kernel/tracing when it needs it",
             "or: mount -t tracefs nodev /sys/kernel/tracing", "trace, record", CheckStatus::kWarn);
}

CheckResult probe_prog(const char* name, bpf_prog_type type, const char* needed_by) {
  int r = libbpf_probe_bpf_prog_type(type, nullptr);
  if (r == 1) return ok(fmt::format("program type {}", name), "loads", needed_by);
  return bad(fmt::format("program type {}", name),
             r == 0 ? "not supported by this kernel" : fmt::format("probe failed: {}", strerror(-r)),
             "use a kernel with this BPF program type enabled (5.10+ recommended)", needed_by);
}

CheckResult probe_map(const char* name, bpf_map_type type, const char* needed_by) {
  int r = libbpf_probe_bpf_map_type(type, nullptr);
  if (r == 1) return ok(fmt::format("map type {}", name), "creates", needed_by);
  return bad(fmt::format("map type {}", name),
             r == 0 ? "not supported by this kernel" : fmt::format("probe failed: {}", strerror(-r)),
             "use a kernel with this BPF map type", needed_by);
}

// The real thing: load the redirect programs and attach them to a scratch cgroup.
CheckResult check_redirect_group() {
  const char* name = "redirect programs load+attach";
  RedirectConfig c;
  c.proxy4 = Endpoint{IpAddr::from_v4(htonl(0x7f000001)), 1};
  auto r = Redirector::load(c);
  if (!r) return bad(name, r.error().message, "a kernel with what is named", "redirect, record, test");
  auto cg = Cgroup::create_child(fmt::format("{}-doctor", ::getpid()));
  if (!cg) return bad(name, cg.error().message, "check cgroup v2 above", "redirect, record, test");
  if (auto a = (*r)->attach_target(cg->fd()); !a)
    return bad(name, a.error().message, "see the failing program type above", "redirect, record, test");
  if (auto a = (*r)->attach_proxy(cg->fd()); !a)
    return bad(name, a.error().message, "see the failing program type above", "redirect, record, test");
  return ok(name, "connect4/6, sockops, getsockopt, getpeername4/6, sendmsg/recvmsg4/6", "redirect, record, test");
}

// Each feature the programs prefer: present, or the fallback they load with instead.
std::vector<CheckResult> check_features() {
  auto f = bpf_features();
  if (!f) return {bad("BPF features", f.error().message, "unset REEL_BPF_FALLBACKS or fix it", "all")};
  std::string forced = f->forced.empty() ? "" : " [REEL_BPF_FALLBACKS]";
  std::vector<CheckResult> out;
  for (const auto& feature : kBpfFeatures) {
    if ((*f).*feature.have)
      out.push_back(ok(feature.label, "yes", feature.needed_by));
    else
      out.push_back(bad(feature.label, feature.fallback + forced,
                        "none needed: the fallback works; a newer kernel is faster", feature.needed_by,
                        CheckStatus::kWarn));
  }
  return out;
}

// The real thing: load the capture programs and attach them, scoped to this process; then the
// TLS programs over the capture's maps (loaded, not attached: that needs a libssl to probe).
std::vector<CheckResult> check_capture_groups() {
  const char* name = "capture programs load+attach";
  capture::CaptureConfig c;
  c.tgids = {::getpid()};
  c.ring_bytes = 1u << 16;
  auto cap = capture::Capture::start(c);
  if (!cap)
    return {bad(name, cap.error().message, "a kernel with what is named, or the commands it leaves",
                "trace, record")};
  std::vector<CheckResult> out{ok(name, "syscall tracepoints, sched fork/exit", "trace, record")};
  capture::TlsConfig t;
  t.cgroup_scope = false;
  t.capture_map_fd = [&](const char* map) { return (*cap)->map_fd(map); };
  const char* tls = "TLS programs load";
  if (auto probes = capture::TlsProbes::start(t); !probes)
    out.push_back(bad(tls, probes.error().message, "a kernel with what is named", "trace, record (TLS)"));
  else
    out.push_back(ok(tls, "OpenSSL and Go crypto/tls uprobes", "trace, record (TLS)"));
  return out;
}

CheckResult check_kprobes() {
  struct stat st;
  bool have = ::stat("/sys/kernel/tracing/kprobe_events", &st) == 0 ||
              ::stat("/sys/kernel/debug/tracing/kprobe_events", &st) == 0;
  return ok("kprobes", have ? "present (reel does not use them)"
                            : "absent (fine: reel uses tracepoints and uprobes only)", "none");
}

const char* status_text(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk: return "ok";
    case CheckStatus::kWarn: return "warn";
    case CheckStatus::kFail: return "FAIL";
  }
  return "?";
}

}  // namespace

std::vector<CheckResult> run_checks() {
  route_libbpf_logs();
  std::vector<CheckResult> out;
  out.push_back(check_privileges());
  out.push_back(check_btf());
  out.push_back(check_cgroup2());
  out.push_back(check_tracefs());
  out.push_back(probe_prog("cgroup_sock_addr", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "redirect"));
  out.push_back(probe_prog("sock_ops", BPF_PROG_TYPE_SOCK_OPS, "redirect"));
  out.push_back(probe_prog("cgroup_sockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, "redirect"));
  out.push_back(probe_prog("tracepoint", BPF_PROG_TYPE_TRACEPOINT, "trace, record"));
  out.push_back(probe_prog("kprobe/uprobe", BPF_PROG_TYPE_KPROBE, "trace (TLS uprobes)"));
  out.push_back(probe_map("ringbuf", BPF_MAP_TYPE_RINGBUF, "all"));
  out.push_back(probe_map("sk_storage", BPF_MAP_TYPE_SK_STORAGE, "redirect"));
  out.push_back(probe_map("lru_hash", BPF_MAP_TYPE_LRU_HASH, "all"));
  out.push_back(probe_map("lpm_trie", BPF_MAP_TYPE_LPM_TRIE, "redirect"));
  out.push_back(probe_map("percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, "all"));
  for (auto& c : check_features()) out.push_back(std::move(c));
  if (out[0].status == CheckStatus::kOk) {
    out.push_back(check_redirect_group());
    for (auto& c : check_capture_groups()) out.push_back(std::move(c));
  }
  out.push_back(check_kprobes());
  return out;
}

int run_doctor(bool json) {
  auto checks = run_checks();
  int failed = 0;
  for (auto& c : checks) failed += c.status == CheckStatus::kFail;
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (auto& c : checks)
      arr.push_back({{"check", c.name}, {"status", status_text(c.status)}, {"detail", c.detail},
                     {"fix", c.fix}, {"needed_by", c.needed_by}});
    std::printf("%s\n", arr.dump(2).c_str());
    return failed ? 1 : 0;
  }
  std::printf("%-32s %-5s %-24s %s\n", "CHECK", "", "NEEDED BY", "DETAIL");
  for (auto& c : checks) {
    std::printf("%-32s %-5s %-24s %s\n", c.name.c_str(), status_text(c.status), c.needed_by.c_str(),
                c.detail.c_str());
    if (!c.fix.empty()) std::printf("%-32s %-5s %-24s fix: %s\n", "", "", "", c.fix.c_str());
  }
  std::printf("\n%zu checks: %zu ok, %d failed\n", checks.size(),
              checks.size() - static_cast<size_t>(failed) -
                  static_cast<size_t>(std::count_if(checks.begin(), checks.end(), [](auto& c) {
                    return c.status == CheckStatus::kWarn;
                  })),
              failed);
  return failed ? 1 : 0;
}

}  // namespace reel
