#include "kernel/bpf_diagnose.h"

#include <bpf/libbpf.h>
#include <sys/utsname.h>

#include <cstring>
#include <optional>
#include <regex>

#include <fmt/format.h>

namespace reel {

namespace {

thread_local LibbpfMessages* current = nullptr;

struct Since {
  int id;
  const char* name;
  const char* version;
};

// The helpers reel's programs call that a kernel may lack, and the release that added them (to
// tracing programs where that came later).
constexpr Since kHelpers[] = {
    {59, "bpf_sock_ops_cb_flags_set", "4.16"}, {80, "bpf_get_current_cgroup_id", "4.18"},
    {107, "bpf_sk_storage_get", "5.2"},        {108, "bpf_sk_storage_delete", "5.2"},
    {112, "bpf_probe_read_user", "5.5"},       {113, "bpf_probe_read_kernel", "5.5"},
    {130, "bpf_ringbuf_output", "5.8"},        {134, "bpf_ringbuf_query", "5.8"},
    {156, "bpf_task_storage_get", "5.12"},     {158, "bpf_get_current_task_btf", "5.11"},
    {181, "bpf_loop", "5.17"},
};

// A kernel feature named by a key (a map type as libbpf_bpf_map_type_str names it, or the start
// of a program's section) and the release that added it.
struct FeatureSince {
  const char* key;
  const char* what;
  const char* version;
};

constexpr FeatureSince kMaps[] = {
    {"task_storage", "task storage maps", "5.11"},
    {"ringbuf", "ring buffer maps", "5.8"},
    {"sk_storage", "socket storage maps", "5.2"},
    {"lru_hash", "LRU hash maps", "4.10"},
    {"percpu_array", "per-CPU array maps", "4.6"},
};

constexpr FeatureSince kHooks[] = {
    {"cgroup/getpeername", "cgroup getpeername hooks", "5.8"},
    {"cgroup/getsockopt", "cgroup getsockopt hooks", "5.3"},
    {"cgroup/recvmsg", "cgroup recvmsg hooks", "5.2"},
    {"cgroup/sendmsg", "cgroup sendmsg hooks", "4.18"},
    {"cgroup/connect", "cgroup connect hooks", "4.17"},
    {"sockops", "sock_ops programs", "4.13"},
    {"tp_btf/", "BTF tracepoints", "5.5"},
};

std::string helper_cause(int id, std::string_view name) {
  for (const auto& h : kHelpers)
    if (h.id == id || (!name.empty() && name == h.name))
      return fmt::format("needs the {} helper (Linux {})", h.name, h.version);
  if (!name.empty()) return fmt::format("needs the {} helper, which this kernel lacks", name);
  return fmt::format("needs BPF helper #{}, which this kernel does not know", id);
}

// The verifier's verdict: the last line of its log that is not a statistic, an instruction,
// register state or a source line (the log runs in execution order and stops where it failed).
std::string last_word(const std::vector<std::string>& log) {
  static const std::regex noise(
      R"(^\s*$|^processed \d+ insns|^\d+: |^; |^\s*R\d|^from \d+ to \d+|^last_idx|^regs=|^parent |^func#|^verification time|^stack depth|^mark_precise|^\s*frame\d|^-- (BEGIN|END) )");
  for (auto it = log.rbegin(); it != log.rend(); ++it)
    if (!std::regex_search(*it, noise)) return *it;
  return {};
}

std::string cause_from_log(const std::vector<std::string>& log) {
  static const std::regex invalid_func(R"(invalid func unknown#(\d+))");
  static const std::regex unknown_func(R"(unknown func (\w+)#(\d+))");
  std::smatch m;
  // 0xbad2310 is libbpf's mark on an instruction whose CO-RE relocation found no field.
  for (const auto& line : log) {
    if (std::regex_search(line, m, invalid_func)) {
      if (m[1] == "195896080") continue;
      return helper_cause(std::stoi(m[1]), "");
    }
    if (std::regex_search(line, m, unknown_func))
      return helper_cause(std::stoi(m[2]), m[1].str()) + " for this program type";
    if (line.find("BPF_STX uses reserved fields") != std::string::npos ||
        line.find("BPF_XADD uses reserved fields") != std::string::npos)
      return "needs atomic instructions that return the old value (Linux 5.12)";
    if (line.find("unrecognized bpf_ld_imm64 insn") != std::string::npos)
      return "needs callbacks, as bpf_loop takes (Linux 5.13)";
  }
  std::string word = last_word(log);
  return word.empty() ? std::string{} : fmt::format("the verifier says \"{}\"", word);
}

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto nl = s.find('\n');
    out.emplace_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

std::string describe_map_type(std::string_view libbpf_type_name) {
  for (const auto& t : kMaps)
    if (libbpf_type_name == t.key) return fmt::format("{} (Linux {})", t.what, t.version);
  return fmt::format("{} maps, which this kernel lacks", libbpf_type_name);
}

}  // namespace

LibbpfMessages::LibbpfMessages() : outer_(current) { current = this; }
LibbpfMessages::~LibbpfMessages() { current = outer_; }

void LibbpfMessages::record(std::string_view message) {
  if (current) current->messages_.emplace_back(message);
}

std::string diagnose_load_failure(const std::vector<std::string>& messages, const ObjectFacts& facts) {
  static const std::regex prog_failed(R"(prog '([^']+)': (BPF program load failed|failed to load))");
  static const std::regex map_failed(R"(map '([^']+)': failed to create)");
  static const std::regex btf_missing(R"(failed to find kernel BTF type ID of '([^']+)')");
  static const std::regex core_failed(R"(failed to resolve CO-RE relocation (.*))");
  std::smatch m;
  std::string program, map;
  std::vector<std::string> log;
  bool in_log = false;
  for (const auto& msg : messages) {
    for (const auto& line : split_lines(msg)) {
      if (line.find("-- BEGIN PROG LOAD LOG --") != std::string::npos) {
        in_log = true;
        log.clear();
        continue;
      }
      if (line.find("-- END PROG LOAD LOG --") != std::string::npos) {
        in_log = false;
        continue;
      }
      if (in_log) {
        log.push_back(line);
        continue;
      }
      if (std::regex_search(line, m, core_failed))
        return fmt::format("program {} reads a kernel field this kernel's BTF lacks: {}",
                           program.empty() ? "?" : program, m[1].str());
      if (std::regex_search(line, m, btf_missing))
        return fmt::format("{}its attach point {} is not in this kernel's BTF",
                           program.empty() ? "" : "program " + program + ": ", m[1].str());
      if (program.empty() && std::regex_search(line, m, prog_failed)) program = m[1];
      if (map.empty() && std::regex_search(line, m, map_failed)) map = m[1];
    }
  }
  if (!map.empty()) {
    std::string type = facts.map_type ? facts.map_type(map) : std::string{};
    return type.empty() ? fmt::format("map {} could not be created", map)
                        : fmt::format("map {} needs {}", map, describe_map_type(type));
  }
  if (program.empty()) return {};
  std::string cause = cause_from_log(log);
  if (!cause.empty()) return fmt::format("program {} {}", program, cause);
  // Refused before the verifier ran: most often a hook this kernel does not have.
  std::string section = facts.section ? facts.section(program) : std::string{};
  for (const auto& h : kHooks)
    if (section.starts_with(h.key))
      return fmt::format("program {} needs {} (Linux {})", program, h.what, h.version);
  return fmt::format("program {} was refused", program);
}

std::string load_failure_message(std::string_view group, const std::vector<std::string>& messages,
                                 int err, std::string_view impact, const ObjectFacts& facts) {
  struct utsname u{};
  ::uname(&u);
  std::string cause = diagnose_load_failure(messages, facts);
  if (cause.empty()) cause = std::strerror(err);
  return fmt::format("the kernel ({}) refused the {} BPF programs: {}. {}", u.release, group, cause,
                     impact);
}

}  // namespace reel

namespace reel {

ObjectFacts facts_of(const bpf_object* obj) {
  ObjectFacts f;
  f.map_type = [obj](std::string_view name) -> std::string {
    const bpf_map* m = bpf_object__find_map_by_name(obj, std::string(name).c_str());
    const char* type = m ? libbpf_bpf_map_type_str(bpf_map__type(m)) : nullptr;
    return type ? type : "";
  };
  f.section = [obj](std::string_view name) -> std::string {
    const bpf_program* p = bpf_object__find_program_by_name(obj, std::string(name).c_str());
    const char* sec = p ? bpf_program__section_name(p) : nullptr;
    return sec ? sec : "";
  };
  return f;
}

}  // namespace reel
