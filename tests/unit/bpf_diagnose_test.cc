// Load failures named from what libbpf said: the messages here are what Debian's 5.10 kernel
// (5.10.223, booted by tests/kernels/boot.sh) answered to reel's programs before the fallbacks,
// trimmed to the lines that matter plus some of the noise around them.
#include <gtest/gtest.h>

#include "kernel/bpf_diagnose.h"
#include "kernel/bpf_features.h"

namespace reel {
namespace {

std::vector<std::string> prog_failure(const std::string& prog, const std::string& log) {
  return {"prog '" + prog + "': BPF program load failed: Invalid argument",
          "prog '" + prog + "': -- BEGIN PROG LOAD LOG --\n" + log + "-- END PROG LOAD LOG --",
          "prog '" + prog + "': failed to load: -22",
          "failed to load object 'capture'"};
}

TEST(BpfDiagnose, UnknownHelperIsNamedWithItsKernelVersion) {
  auto m = prog_failure("on_enter_read",
                        "Unrecognized arg#0 type PTR\n"
                        "; ENTER(read, CALL_READ, 3)\n"
                        "0: (bf) r6 = r1\n"
                        " R1_w=map_value(id=0,off=0,ks=4,vs=24,imm=0) R6_w=ctx(id=0,off=0,imm=0) R10=fp0\n"
                        "; struct stash *old = bpf_task_storage_get(&stashes, bpf_get_current_task_btf(), 0, 0);\n"
                        "36: (85) call unknown#158\n"
                        "invalid func unknown#158\n"
                        "processed 25 insns (limit 1000000) max_states_per_insn 0 total_states 2 peak_states 2 mark_read 1\n");
  EXPECT_EQ(diagnose_load_failure(m),
            "program on_enter_read needs the bpf_get_current_task_btf helper (Linux 5.11)");
}

TEST(BpfDiagnose, HelperNotAllowedForTheProgramType) {
  auto m = prog_failure("on_exit", "0: (85) call bpf_loop#181\nunknown func bpf_loop#181\nprocessed 1 insns\n");
  EXPECT_EQ(diagnose_load_failure(m),
            "program on_exit needs the bpf_loop helper (Linux 5.17) for this program type");
}

TEST(BpfDiagnose, FetchingAtomicsAndCallbacks) {
  auto atomics = prog_failure("reel_sockops",
                              "BPF_STX uses reserved fields\n"
                              "processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n");
  EXPECT_EQ(diagnose_load_failure(atomics),
            "program reel_sockops needs atomic instructions that return the old value (Linux 5.12)");
  auto callbacks = prog_failure("on_exit_read",
                                "unrecognized bpf_ld_imm64 insn\n"
                                "processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n");
  EXPECT_EQ(diagnose_load_failure(callbacks),
            "program on_exit_read needs callbacks, as bpf_loop takes (Linux 5.13)");
}

TEST(BpfDiagnose, MapThatCannotBeCreatedNamesItsType) {
  std::vector<std::string> m = {
      "Error in bpf_create_map_xattr(stashes):Invalid argument(-22). Retrying without BTF.",
      "map 'stashes': failed to create: Invalid argument(-22)",
      "failed to load object '/var/cache/reel-kernels/capture.bpf.o'"};
  ObjectFacts facts;
  facts.map_type = [](std::string_view name) { return name == "stashes" ? std::string("task_storage") : std::string(); };
  EXPECT_EQ(diagnose_load_failure(m, facts), "map stashes needs task storage maps (Linux 5.11)");
  EXPECT_EQ(diagnose_load_failure(m), "map stashes could not be created");
}

TEST(BpfDiagnose, HookRefusedBeforeVerificationIsNamedBySection) {
  // A kernel without the attach type refuses the load with EINVAL and an empty log.
  std::vector<std::string> m = {"prog 'reel_getpeername4': BPF program load failed: Invalid argument",
                                "prog 'reel_getpeername4': failed to load: -22"};
  ObjectFacts facts;
  facts.section = [](std::string_view) { return std::string("cgroup/getpeername4"); };
  EXPECT_EQ(diagnose_load_failure(m, facts),
            "program reel_getpeername4 needs cgroup getpeername hooks (Linux 5.8)");
  EXPECT_EQ(diagnose_load_failure(m), "program reel_getpeername4 was refused");
}

TEST(BpfDiagnose, UnknownCauseQuotesTheVerifiersLastWord) {
  auto m = prog_failure("on_exit_recvmmsg",
                        "10: (85) call bpf_probe_read_user#112\n"
                        " R0=inv(id=0) R10=fp0\n"
                        "BPF program is too large. Processed 1000001 insn\n"
                        "processed 1000001 insns (limit 1000000) max_states_per_insn 4 total_states 9000 peak_states 900 mark_read 9\n");
  EXPECT_EQ(diagnose_load_failure(m),
            "program on_exit_recvmmsg the verifier says \"BPF program is too large. Processed 1000001 insn\"");
}

TEST(BpfDiagnose, NoFailureInTheMessagesSaysNothing) {
  EXPECT_EQ(diagnose_load_failure({"skipping unrecognized data section(7) .rodata.str1.1"}), "");
  // The whole sentence falls back to errno then.
  std::string msg = load_failure_message("capture", {}, EINVAL, kCaptureImpact);
  EXPECT_NE(msg.find("refused the capture BPF programs: Invalid argument. trace and record need "
                     "these programs; redirect still works"),
            std::string::npos)
      << msg;
}

TEST(BpfDiagnose, SentenceNamesKernelGroupCauseAndWhatStillWorks) {
  auto m = prog_failure("reel_sockops", "BPF_STX uses reserved fields\nprocessed 0 insns\n");
  std::string msg = load_failure_message("redirect", m, EINVAL, kRedirectImpact);
  EXPECT_EQ(msg.rfind("the kernel (", 0), 0u) << msg;
  EXPECT_NE(msg.find(") refused the redirect BPF programs: program reel_sockops needs atomic "
                     "instructions that return the old value (Linux 5.12). redirect, record, test "
                     "and mock need these programs; trace still works"),
            std::string::npos)
      << msg;
}

TEST(BpfFeatures, ForcedFallbacks) {
  BpfFeatures all_there;
  auto none = apply_forced_fallbacks(all_there, "");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->task_storage && none->bpf_loop && none->fetch_atomics);
  EXPECT_TRUE(describe_fallbacks(*none).empty());

  auto one = apply_forced_fallbacks(all_there, "bpf_loop");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->task_storage && one->fetch_atomics);
  EXPECT_FALSE(one->bpf_loop);
  ASSERT_EQ(describe_fallbacks(*one).size(), 1u);
  EXPECT_NE(describe_fallbacks(*one)[0].find("no bpf_loop (Linux 5.17)"), std::string::npos);

  // The object without fetching atomics has no bpf_loop either.
  auto atomics = apply_forced_fallbacks(all_there, "atomics");
  ASSERT_TRUE(atomics);
  EXPECT_FALSE(atomics->fetch_atomics);
  EXPECT_FALSE(atomics->bpf_loop);
  EXPECT_TRUE(atomics->task_storage);

  auto all = apply_forced_fallbacks(all_there, "all");
  ASSERT_TRUE(all);
  EXPECT_EQ(describe_fallbacks(*all).size(), 3u);
  EXPECT_EQ(all->forced, std::vector<std::string>{"all"});

  BpfFeatures old_kernel{.task_storage = false, .bpf_loop = false, .fetch_atomics = false, .forced = {}};
  auto forced_on = apply_forced_fallbacks(old_kernel, "none");
  ASSERT_TRUE(forced_on);
  EXPECT_TRUE(forced_on->task_storage && forced_on->bpf_loop && forced_on->fetch_atomics);

  auto bad = apply_forced_fallbacks(all_there, "task_storage,loops");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "REEL_BPF_FALLBACKS: unknown fallback 'loops' (all, none, task_storage, bpf_loop, atomics)");
}

}  // namespace
}  // namespace reel
