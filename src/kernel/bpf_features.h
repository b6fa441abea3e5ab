// The BPF features reel's programs use where the kernel has them, and the fallbacks they use
// where it does not (bpf/features.h is the programs' side). Probed once per process.
#pragma once

#include <bpf/libbpf.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/result.h"

namespace reel {

struct BpfFeatures {
  bool task_storage = true;   // task storage for tracing programs (Linux 5.11/5.12)
  bool bpf_loop = true;       // the bpf_loop helper (5.17)
  bool fetch_atomics = true;  // atomics that return the old value (5.12)
  std::vector<std::string> forced;  // fallbacks REEL_BPF_FALLBACKS forced on this kernel
};

// One feature the programs prefer: its name in REEL_BPF_FALLBACKS, its flag in BpfFeatures,
// what `reel doctor` calls it and which commands it serves, and what runs without it.
struct BpfFeature {
  const char* name;
  bool BpfFeatures::*have;
  const char* label;
  const char* needed_by;
  const char* fallback;
};

// In the order reel reports them: task_storage, atomics, bpf_loop.
extern const std::array<BpfFeature, 3> kBpfFeatures;

// REEL_BPF_FALLBACKS: empty, "all", or a comma list of task_storage, bpf_loop, atomics. Those
// named are treated as missing whatever the kernel has (how tests cover every fallback here).
// "none" uses every feature whatever the kernel has (how tests see an old kernel refuse them).
Result<BpfFeatures> apply_forced_fallbacks(BpfFeatures probed, std::string_view spec);

// This kernel's features, less any REEL_BPF_FALLBACKS names (an unknown name is an error).
Result<BpfFeatures> bpf_features();

// One line per fallback in use, each naming the missing feature, its kernel version, what is
// used instead and what that costs. Empty when the kernel has everything.
std::vector<std::string> describe_fallbacks(const BpfFeatures& f);

// Says once per process, at info level, which fallbacks the programs load with.
void log_fallbacks_once(const BpfFeatures& f);

// Makes a per-thread map (declared as task storage) loadable without task storage: an LRU hash
// keyed by thread id. Does nothing when the kernel has task storage.
Result<void> adapt_thread_map(bpf_map* map, const BpfFeatures& f);

// Opens skeleton `Skel` from its own object, or where the kernel lacks fetching atomics from
// `baseline` (NAME_baseline__elf_bytes: the same source built with REEL_BPF_BASELINE, so the
// same maps, programs and globals). NULL with errno set on failure.
template <typename Skel>
Skel* open_skeleton(int (*create)(Skel*), void (*destroy)(Skel*),
                    const void* (*baseline)(std::size_t*), const BpfFeatures& f) {
  auto* obj = static_cast<Skel*>(std::calloc(1, sizeof(Skel)));
  if (!obj) {
    errno = ENOMEM;
    return nullptr;
  }
  int err = create(obj);
  if (err == 0 && !f.fetch_atomics) obj->skeleton->data = const_cast<void*>(baseline(&obj->skeleton->data_sz));
  if (err == 0) err = bpf_object__open_skeleton(obj->skeleton, nullptr);
  if (err != 0) {
    destroy(obj);
    errno = -err;
    return nullptr;
  }
  return obj;
}

}  // namespace reel
