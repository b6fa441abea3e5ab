#include "kernel/bpf_features.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <mutex>

#include <spdlog/spdlog.h>

namespace reel {

namespace {

bool helper_ok(bpf_prog_type type, bpf_func_id helper) {
  return libbpf_probe_bpf_helper(type, helper, nullptr) == 1;
}

// A fetching atomic add on the stack: the kernel refuses the instruction before 5.12.
bool fetch_atomics_ok() {
  const bpf_insn prog[] = {
      {.code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = 0, .off = -8, .imm = 0},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .src_reg = 0, .off = 0, .imm = 1},
      {.code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_1, .off = -8,
       .imm = BPF_ADD | BPF_FETCH},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
  };
  int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, nullptr, "GPL", prog, std::size(prog), nullptr);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

BpfFeatures probe() {
  BpfFeatures f;
  // The map type came in 5.11 for LSM programs; tracepoints and uprobes may use it from 5.12.
  f.task_storage = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, nullptr) == 1 &&
                   helper_ok(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_storage_get) &&
                   helper_ok(BPF_PROG_TYPE_KPROBE, BPF_FUNC_task_storage_get) &&
                   helper_ok(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_task_btf);
  f.bpf_loop = helper_ok(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop) &&
               helper_ok(BPF_PROG_TYPE_KPROBE, BPF_FUNC_loop);
  f.fetch_atomics = fetch_atomics_ok();
  return f;
}

}  // namespace

const std::array<BpfFeature, 3> kBpfFeatures = {{
    {"task_storage", &BpfFeatures::task_storage, "task storage", "trace, record",
     "no task storage for tracing programs (Linux 5.12): per-thread state in a hash by thread id "
     "(one hash lookup more per syscall)"},
    {"atomics", &BpfFeatures::fetch_atomics, "fetching atomics", "all",
     "no fetching atomics (Linux 5.12): byte positions by a read and an atomic add (two threads "
     "writing one socket at the same instant may share a position)"},
    {"bpf_loop", &BpfFeatures::bpf_loop, "bpf_loop", "trace, record",
     "no bpf_loop (Linux 5.17): a bounded loop copies at most 16 chunks (128 KiB) or 16 iovecs of "
     "one call; the rest is a counted gap"},
}};

Result<BpfFeatures> apply_forced_fallbacks(BpfFeatures f, std::string_view spec) {
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view name = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (name.empty()) continue;
    // "none": every feature, whatever the probes found (to see what fails); "all": none of them.
    bool none = name == "none", all = name == "all";
    bool known = none || all;
    for (const auto& feature : kBpfFeatures)
      if (none || all || name == feature.name) f.*feature.have = none, known = true;
    if (!known)
      return fail_msg("REEL_BPF_FALLBACKS: unknown fallback '{}' (all, none, task_storage, bpf_loop, atomics)", name);
    f.forced.emplace_back(name);
  }
  // The object without fetching atomics has no bpf_loop either (bpf/features.h).
  if (!f.fetch_atomics) f.bpf_loop = false;
  return f;
}

Result<BpfFeatures> bpf_features() {
  static const BpfFeatures probed = probe();
  const char* spec = std::getenv("REEL_BPF_FALLBACKS");
  return apply_forced_fallbacks(probed, spec ? spec : "");
}

std::vector<std::string> describe_fallbacks(const BpfFeatures& f) {
  std::vector<std::string> out;
  for (const auto& feature : kBpfFeatures)
    if (!(f.*feature.have)) out.emplace_back(feature.fallback);
  return out;
}

void log_fallbacks_once(const BpfFeatures& f) {
  static std::once_flag once;
  std::call_once(once, [&] {
    for (const auto& line : describe_fallbacks(f)) spdlog::info("kernel: {}", line);
  });
}

Result<void> adapt_thread_map(bpf_map* map, const BpfFeatures& f) {
  if (f.task_storage) return {};
  if (bpf_map__set_type(map, BPF_MAP_TYPE_LRU_HASH) != 0 || bpf_map__set_map_flags(map, 0) != 0 ||
      bpf_map__set_max_entries(map, 65536) != 0)
    return fail_errno(fmt::format("cannot make {} a hash by thread id", bpf_map__name(map)));
  return {};
}

}  // namespace reel
