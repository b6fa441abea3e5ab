#include "capture/tls_probes.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <sstream>
#include <string_view>

#include <spdlog/spdlog.h>

#include "capture/elf_symbols.h"
#include "capture/uprobe_placement.h"
#include "kernel/bpf_diagnose.h"
#include "kernel/bpf_features.h"
#include "kernel/bpf_owners.h"
#include "tls.skel.h"
#include "tls_baseline.skel.h"

namespace reel::capture {

using TlsSkel = Skeleton<::tls, ::tls__destroy>;
// The baseline object opens as a ::tls (bpf/features.h): its globals must lie the same way.
static_assert(sizeof(*::tls::rodata) == sizeof(*::tls_baseline::rodata));

namespace {

// The functions the probes read; the data calls go through an internal function when the
// library's shape allows (see plan_probes).
constexpr std::string_view kGoRead = "crypto/tls.(*Conn).Read";
constexpr std::string_view kGoWrite = "crypto/tls.(*Conn).Write";
constexpr std::string_view kGoHandshake = "crypto/tls.(*Conn).handshakeContext";
constexpr std::string_view kGoMemmove = "runtime.memmove";
const std::string_view kFunctions[] = {"SSL_write",  "SSL_read",    "SSL_write_ex", "SSL_read_ex",
                                       "SSL_set_fd", "SSL_set_rfd", "SSL_set_wfd",  "SSL_free",
                                       kGoRead,      kGoWrite,      kGoHandshake,   kGoMemmove};


// The maps both groups use; the capture owns them.
const char* const kSharedMaps[] = {"scope_cgroups", "scope_tgids", "conns", "stashes", "tls_calls", "events"};

struct Probe {
  bpf_program* prog;
  std::uint64_t file_offset;
  bool retprobe;
  bool single_step;  // the kernel cannot emulate the instruction there: slow
  std::string what;
};

// Go's crypto/tls in an executable built with Go >= 1.17 for amd64: entry probes on Write (its
// plaintext), Read and the handshake, and for Read's plaintext a probe on its one call to
// runtime.memmove, or else on each of its RETs (single-stepped; never a uretprobe: Go moves
// stacks). Nothing when a function is missing or does not decode.
void plan_go_probes(::tls* skel, const ElfImage& elf, std::vector<Probe>& out) {
  auto& fns = elf.functions();
  auto read = fns.find(kGoRead);
  auto write = fns.find(kGoWrite);
  if (read == fns.end() || write == fns.end()) return;
  const ElfFunction& r = read->second;
  if (r.size == 0 || r.size > (1u << 20)) return;
  auto code = elf.bytes_at(r.file_offset, r.size);
  auto rets = ret_offsets(code);
  if (code.size() != r.size || rets.empty()) return;
  auto at_entry = [&](bpf_program* prog, std::string_view name, std::uint64_t file_offset) {
    auto entry = go_entry(elf.bytes_at(file_offset, 32));
    out.push_back({prog, file_offset + entry.value_or(0), false, !entry, std::string(name)});
  };
  at_entry(skel->progs.go_read_enter, kGoRead, r.file_offset);
  auto memmove = fns.find(kGoMemmove);
  auto copies = memmove == fns.end() ? std::vector<std::uint32_t>{}
                                     : call_sites(code, r.vaddr, memmove->second.vaddr);
  // REEL_GO_TLS_RET_PROBES=1 takes the fallback on purpose (tests/e2e/trace_go_tls.sh).
  const char* force_ret = std::getenv("REEL_GO_TLS_RET_PROBES");
  if (copies.size() == 1 && !(force_ret && std::string_view(force_ret) == "1")) {
    out.push_back({skel->progs.go_read_copy, r.file_offset + copies[0], false, false,
                   fmt::format("{}'s copy at +{:#x}", kGoRead, copies[0])});
  } else {
    for (auto ret : rets)
      out.push_back({skel->progs.go_read_return, r.file_offset + ret, false, true,
                     fmt::format("{} RET at +{:#x}", kGoRead, ret)});
  }
  at_entry(skel->progs.go_write_enter, kGoWrite, write->second.file_offset);
  if (auto it = fns.find(kGoHandshake); it != fns.end())
    at_entry(skel->progs.go_handshake_enter, kGoHandshake, it->second.file_offset);
}

// Where each program goes in one binary. Prefers places whose instruction the kernel emulates
// (see uprobe_placement.h): for the data calls, the internal function SSL_x and SSL_x_ex both
// call, with the _ex arguments (ssl, buf, num, size_t *bytes).
std::vector<Probe> plan_probes(::tls* skel, const ElfImage& elf) {
  std::vector<Probe> out;
  auto& fns = elf.functions();
  auto code = [&](std::uint64_t off) { return elf.bytes_at(off, 32); };
  auto at_entry = [&](bpf_program* prog, std::string_view name, bool with_return) {
    auto it = fns.find(name);
    if (it == fns.end()) return;
    auto pos = emulated_entry(code(it->second.file_offset));
    std::uint64_t off = it->second.file_offset + pos.value_or(0);
    out.push_back({prog, off, false, !pos, std::string(name)});
    if (with_return) out.push_back({skel->progs.ssl_call_return, off, true, !pos, std::string(name) + " return"});
  };
  struct DataCall {
    std::string_view plain, ex;
    bpf_program *plain_prog, *ex_prog;
  };
  const DataCall calls[] = {
      {"SSL_read", "SSL_read_ex", skel->progs.ssl_read_enter, skel->progs.ssl_read_ex_enter},
      {"SSL_write", "SSL_write_ex", skel->progs.ssl_write_enter, skel->progs.ssl_write_ex_enter}};
  for (auto& c : calls) {
    if (auto ex = fns.find(c.ex); ex != fns.end()) {
      auto callee = forwarded_callee(code(ex->second.file_offset), ex->second.vaddr);
      auto callee_off = callee ? elf.file_offset_of(*callee) : std::nullopt;
      auto pos = callee_off ? emulated_entry(code(*callee_off)) : std::nullopt;
      if (pos) {
        std::string what = fmt::format("{}'s callee", c.ex);
        out.push_back({c.ex_prog, *callee_off + *pos, false, false, what});
        out.push_back({skel->progs.ssl_call_return, *callee_off + *pos, true, false, what + " return"});
        continue;
      }
    }
    at_entry(c.plain_prog, c.plain, true);
    at_entry(c.ex_prog, c.ex, true);
  }
  for (auto name : {"SSL_set_fd", "SSL_set_rfd", "SSL_set_wfd"}) at_entry(skel->progs.ssl_set_fd, name, false);
  if (auto it = fns.find("SSL_free"); it != fns.end()) {
    auto bytes = code(it->second.file_offset);
    auto pos = emulated_entry(bytes);
    if (!pos) pos = past_null_check(bytes);
    out.push_back({skel->progs.ssl_free, it->second.file_offset + pos.value_or(0), false, !pos, "SSL_free"});
  }
  plan_go_probes(skel, elf, out);
  return out;
}

}  // namespace

struct TlsProbes::State {
  TlsSkel skel;
  std::vector<BpfLink> links;
  bool per_process = false;
  // Per file (device, inode): its probe plan, empty when it has no OpenSSL.
  std::map<std::pair<dev_t, ino_t>, std::vector<Probe>> plans;
  std::set<std::tuple<pid_t, dev_t, ino_t>> attached;
  std::vector<std::string> binaries;
};

TlsProbes::TlsProbes(std::unique_ptr<State> s) : s_(std::move(s)) {}
TlsProbes::~TlsProbes() = default;

Result<std::unique_ptr<TlsProbes>> TlsProbes::start(const TlsConfig& config) {
  BpfFeatures features = REEL_TRY(bpf_features());
  log_fallbacks_once(features);
  TlsSkel skel(open_skeleton<::tls>(tls__create_skeleton, tls__destroy, tls_baseline__elf_bytes, features));
  if (!skel) return fail_errno("cannot open the TLS BPF programs");
  skel->rodata->have_task_storage = features.task_storage;
  skel->rodata->have_bpf_loop = features.bpf_loop;
  REEL_TRY(adapt_thread_map(skel->maps.tls_calls, features));  // unless the capture's is reused
  skel->rodata->scope_mode = config.cgroup_scope ? 1 : 2;
  skel->rodata->max_bytes_per_call = config.max_bytes_per_call;
  skel->rodata->wakeup_bytes = config.wakeup_bytes;
  for (const char* name : kSharedMaps) {
    int fd = config.capture_map_fd ? config.capture_map_fd(name) : -1;
    if (fd < 0) {
      if (std::string_view(name) == "tls_calls") continue;  // then the TLS group keeps its own
      return fail_msg("internal: the capture has no map '{}' for the TLS probes", name);
    }
    bpf_map* m = bpf_object__find_map_by_name(skel->obj, name);
    if (!m || bpf_map__reuse_fd(m, fd) != 0)
      return fail_errno(fmt::format("cannot share the capture's map '{}' with the TLS probes", name));
  }
  LibbpfMessages said;
  if (int err = tls__load(skel.get()); err != 0)
    return fail_msg("{}", load_failure_message("TLS", said.messages(), -err, kTlsImpact,
                                               facts_of(skel->obj)));
  auto state = std::make_unique<State>();
  state->skel = std::move(skel);
  state->per_process = config.per_process;
  return std::unique_ptr<TlsProbes>(new TlsProbes(std::move(state)));
}

bool TlsProbes::attach_file(const std::string& path, pid_t pid) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  auto file = std::make_pair(st.st_dev, st.st_ino);
  if (!s_->plans.contains(file)) {
    auto elf = ElfImage::load(path, kFunctions);
    auto has = [&](std::string_view f) { return elf->functions().contains(f); };
    bool ssl = elf && ((has("SSL_read") && has("SSL_write")) || (has(kGoRead) && has(kGoWrite)));
    s_->plans[file] = ssl ? plan_probes(s_->skel.get(), *elf) : std::vector<Probe>{};
  }
  const auto& plan = s_->plans[file];
  if (plan.empty() || !s_->attached.insert({pid, st.st_dev, st.st_ino}).second) return false;
  int attached = 0, slow = 0;
  for (auto& p : plan) {
    LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = p.retprobe);
    BpfLink link(bpf_program__attach_uprobe_opts(p.prog, pid, path.c_str(), p.file_offset, &o));
    if (!link) {
      spdlog::warn("TLS: cannot attach to {} in {}: {}", p.what, path, std::strerror(errno));
      continue;
    }
    s_->links.push_back(std::move(link));
    attached++;
    slow += p.single_step;
  }
  if (attached == 0) return false;
  std::error_code ec;
  auto real = std::filesystem::canonical(path, ec);  // libssl.so -> libssl.so.3 in the log
  std::string name = ec ? path : real.string();
  if (std::find(s_->binaries.begin(), s_->binaries.end(), name) == s_->binaries.end())
    s_->binaries.push_back(name);
  if (pid < 0) spdlog::info("TLS: {} uprobes on {}", attached, name);
  else spdlog::debug("TLS: {} uprobes on {} for pid {}", attached, name, pid);
  if (slow)
    spdlog::warn("TLS: {} of them single-step (no emulated instruction to probe): each SSL call "
                 "there costs a debug trap", slow);
  return true;
}

void TlsProbes::attach_system_libraries() {
  if (s_->per_process) return;
  static const char* const dirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                                     "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                                     "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
                                     "/usr/local/lib64"};
  for (const char* dir : dirs) {
    DIR* d = ::opendir(dir);
    if (!d) continue;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string_view n(e->d_name);
      // libssl.so.3, libssl.so.1.1, libssl.so.48 (LibreSSL); BoringSSL builds name it libssl too.
      if (n.starts_with("libssl.so")) names.emplace_back(n);
    }
    ::closedir(d);
    for (auto& n : names) attach_file(std::string(dir) + "/" + n);
  }
}

void TlsProbes::scan_process(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  std::set<std::string> seen;
  while (std::getline(maps, line)) {
    // address perms offset dev inode path
    std::istringstream in(line);
    std::string addr, perms, offset, dev, inode, path;
    if (!(in >> addr >> perms >> offset >> dev >> inode) || perms.size() < 3 || perms[2] != 'x')
      continue;
    std::getline(in >> std::ws, path);
    if (path.empty() || path[0] != '/' || path.ends_with(" (deleted)")) continue;
    if (!seen.insert(path).second) continue;
    // The file as the process sees it: through its root, in case it lives in another mount
    // namespace (a container).
    std::string own = fmt::format("/proc/{}/root{}", pid, path);
    struct stat a, b;
    bool same = ::stat(path.c_str(), &a) == 0 && ::stat(own.c_str(), &b) == 0 &&
                a.st_dev == b.st_dev && a.st_ino == b.st_ino;
    attach_file(same ? path : own, s_->per_process ? pid : -1);
  }
}

TlsCounters TlsProbes::counters() const {
  TlsCounters out;
  out.binaries = s_->binaries.size();
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return out;
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(ncpu));
  for (std::uint32_t k = 0; k < TLS_CNT__COUNT; k++) {
    if (bpf_map__lookup_elem(s_->skel->maps.tls_counters, &k, sizeof k, per_cpu.data(),
                             per_cpu.size() * sizeof(std::uint64_t), 0) != 0)
      continue;
    for (auto v : per_cpu) out.by_kind[k] += v;
  }
  return out;
}

const std::vector<std::string>& TlsProbes::binaries() const { return s_->binaries; }

std::vector<pid_t> cgroup_tree_pids(const std::string& cgroup_path) {
  std::vector<pid_t> out;
  std::vector<std::string> dirs{cgroup_path};
  for (std::size_t i = 0; i < dirs.size(); i++) {
    std::ifstream procs(dirs[i] + "/cgroup.procs");
    pid_t p;
    while (procs >> p) out.push_back(p);
    DIR* d = ::opendir(dirs[i].c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') dirs.push_back(dirs[i] + "/" + e->d_name);
    ::closedir(d);
  }
  return out;
}

}  // namespace reel::capture
