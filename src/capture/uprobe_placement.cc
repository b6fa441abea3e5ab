#include "capture/uprobe_placement.h"

#include <capstone/capstone.h>

#include <memory>

namespace reel::capture {

namespace {

// Walks x86-64 instructions from the start of `code`; `visit(id, offset)` returns false to stop.
// False when capstone cannot start or an instruction does not decode before the end.
template <typename Visit>
bool each_instruction(std::span<const std::uint8_t> code, Visit visit) {
  csh handle;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return false;
  std::unique_ptr<csh, void (*)(csh*)> closer(&handle, [](csh* h) { cs_close(h); });
  std::unique_ptr<cs_insn, void (*)(cs_insn*)> insn(cs_malloc(handle),
                                                     [](cs_insn* i) { cs_free(i, 1); });
  if (!insn) return false;
  const std::uint8_t* at = code.data();
  std::size_t left = code.size();
  std::uint64_t address = 0;
  while (left > 0) {
    std::uint64_t offset = address;
    if (!cs_disasm_iter(handle, &at, &left, &address, insn.get())) return false;
    if (!visit(insn->id, static_cast<std::uint32_t>(offset))) return true;
  }
  return true;
}

// push %r64 (50-57), push %r8-15 (41 50-57), nop (90): the instructions x86 uprobes emulate
// among those that open functions.
bool emulated_at(std::span<const std::uint8_t> c, std::size_t i) {
  if (i >= c.size()) return false;
  if (c[i] == 0x90 || (c[i] >= 0x50 && c[i] <= 0x57)) return true;
  return c[i] == 0x41 && i + 1 < c.size() && c[i + 1] >= 0x50 && c[i + 1] <= 0x57;
}

bool endbr64_at(std::span<const std::uint8_t> c, std::size_t i) {
  return i + 4 <= c.size() && c[i] == 0xf3 && c[i + 1] == 0x0f && c[i + 2] == 0x1e && c[i + 3] == 0xfa;
}

}  // namespace

std::optional<std::uint32_t> emulated_entry(std::span<const std::uint8_t> code) {
  if (emulated_at(code, 0)) return 0;
  if (endbr64_at(code, 0) && emulated_at(code, 4)) return 4;
  return std::nullopt;
}

std::optional<std::uint64_t> forwarded_callee(std::span<const std::uint8_t> code, std::uint64_t vaddr) {
  std::size_t i = endbr64_at(code, 0) ? 4 : 0;
  // sub $imm8,%rsp = 48 83 ec XX; call rel32 = e8 XX XX XX XX
  if (i + 9 > code.size() || code[i] != 0x48 || code[i + 1] != 0x83 || code[i + 2] != 0xec ||
      code[i + 4] != 0xe8)
    return std::nullopt;
  std::int32_t rel = static_cast<std::int32_t>(std::uint32_t(code[i + 5]) | std::uint32_t(code[i + 6]) << 8 |
                                               std::uint32_t(code[i + 7]) << 16 |
                                               std::uint32_t(code[i + 8]) << 24);
  return vaddr + i + 9 + static_cast<std::int64_t>(rel);
}

std::optional<std::uint32_t> go_entry(std::span<const std::uint8_t> code) {
  std::optional<std::uint32_t> found;
  int seen = 0;
  each_instruction(code.first(std::min<std::size_t>(code.size(), 32)),
                   [&](unsigned id, std::uint32_t offset) {
                     if (id == X86_INS_JBE) found = offset;
                     // Only the check's own instructions may come before the jbe.
                     return !found && (id == X86_INS_CMP || id == X86_INS_LEA) && ++seen < 3;
                   });
  return found;
}

std::vector<std::uint32_t> call_sites(std::span<const std::uint8_t> code, std::uint64_t vaddr,
                                      std::uint64_t callee) {
  std::vector<std::uint32_t> out;
  bool whole = each_instruction(code, [&](unsigned id, std::uint32_t offset) {
    if (id != X86_INS_CALL || code[offset] != 0xe8 || offset + 5 > code.size()) return true;
    auto rel = static_cast<std::int32_t>(std::uint32_t(code[offset + 1]) |
                                         std::uint32_t(code[offset + 2]) << 8 |
                                         std::uint32_t(code[offset + 3]) << 16 |
                                         std::uint32_t(code[offset + 4]) << 24);
    if (vaddr + offset + 5 + static_cast<std::int64_t>(rel) == callee) out.push_back(offset);
    return true;
  });
  if (!whole) out.clear();
  return out;
}

std::vector<std::uint32_t> ret_offsets(std::span<const std::uint8_t> code) {
  std::vector<std::uint32_t> out;
  bool whole = each_instruction(code, [&](unsigned id, std::uint32_t offset) {
    if (id == X86_INS_RET) out.push_back(offset);
    return true;
  });
  if (!whole) out.clear();
  return out;
}

std::optional<std::uint32_t> past_null_check(std::span<const std::uint8_t> code) {
  std::size_t i = endbr64_at(code, 0) ? 4 : 0;
  // test %rdi,%rdi = 48 85 ff; je rel32 = 0f 84 XX XX XX XX, or je rel8 = 74 XX
  if (i + 3 > code.size() || code[i] != 0x48 || code[i + 1] != 0x85 || code[i + 2] != 0xff)
    return std::nullopt;
  i += 3;
  if (i + 2 <= code.size() && code[i] == 0x0f && code[i + 1] == 0x84) i += 6;
  else if (i + 1 <= code.size() && code[i] == 0x74) i += 2;
  else return std::nullopt;
  if (!emulated_at(code, i)) return std::nullopt;
  return static_cast<std::uint32_t>(i);
}

}  // namespace reel::capture
