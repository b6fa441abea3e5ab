// Why the kernel refused a group of BPF programs, as a sentence a user can act on: which
// program or map, which kernel feature it needed (and from which Linux version), read from what
// libbpf said while loading (its warnings and the verifier's log).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct bpf_object;

namespace reel {

// Collects libbpf's messages on this thread while alive (they still go to reel's debug log).
class LibbpfMessages {
 public:
  LibbpfMessages();
  ~LibbpfMessages();
  LibbpfMessages(const LibbpfMessages&) = delete;
  LibbpfMessages& operator=(const LibbpfMessages&) = delete;
  const std::vector<std::string>& messages() const { return messages_; }
  // Called by reel's libbpf print hook.
  static void record(std::string_view message);

 private:
  std::vector<std::string> messages_;
  LibbpfMessages* outer_;
};

// What the refused object says about its own maps and programs ("" where unknown).
struct ObjectFacts {
  std::function<std::string(std::string_view map)> map_type;  // as libbpf_bpf_map_type_str
  std::function<std::string(std::string_view prog)> section;  // "cgroup/getpeername4"
};

// What failed and why, e.g. "program on_exit_read needs the bpf_loop helper (Linux 5.17)" or
// "map stashes needs task storage maps (Linux 5.11)"; the verifier's own last word when no
// known feature explains it; "" when the messages name no failure.
std::string diagnose_load_failure(const std::vector<std::string>& libbpf_messages,
                                  const ObjectFacts& facts = {});

// The error for a group that did not load: "the kernel (RELEASE) refused the GROUP BPF programs:
// CAUSE. IMPACT". `err` is the load's errno, used when nothing better is known.
std::string load_failure_message(std::string_view group, const std::vector<std::string>& messages,
                                 int err, std::string_view impact, const ObjectFacts& facts = {});

// The facts of a libbpf object.
ObjectFacts facts_of(const bpf_object* obj);

// What each group's failure costs, for load_failure_message and `reel doctor`.
inline constexpr std::string_view kRedirectImpact =
    "redirect, record, test and mock need these programs; trace still works";
inline constexpr std::string_view kCaptureImpact =
    "trace and record need these programs; redirect still works";
inline constexpr std::string_view kTlsImpact =
    "trace and record still work, but show TLS traffic as ciphertext";

}  // namespace reel
