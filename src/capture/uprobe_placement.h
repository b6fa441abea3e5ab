// Where to put a uprobe so that the kernel emulates the probed instruction instead of
// single-stepping a copy of it. A single-step costs a debug trap: about 30 us per hit on our VMs
// (Firecracker), against about 1 us for an emulated push or nop, so it decides whether tracing
// an HTTPS server at full rate is affordable. x86-64 only; pure functions over code bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace reel::capture {

// Offset into a function whose instruction there the kernel emulates and where the entry state
// (argument registers, return address at the stack top) is still intact: 0 when the first
// instruction is a push or nop, 4 after an endbr64 followed by one. nullopt otherwise.
std::optional<std::uint32_t> emulated_entry(std::span<const std::uint8_t> code);

// A function that only forwards to another: `sub $imm8,%rsp; call rel32` (OpenSSL 3's
// SSL_read_ex and SSL_write_ex over ssl_read_internal/ssl_write_internal, with the same
// arguments). Returns the callee's address given the function's address `vaddr`.
std::optional<std::uint64_t> forwarded_callee(std::span<const std::uint8_t> code, std::uint64_t vaddr);

// For an entry-only probe that reads the first argument: past a leading `test %rdi,%rdi; je` (the
// NULL check of SSL_free), at an emulated instruction. nullopt when the shape differs.
std::optional<std::uint32_t> past_null_check(std::span<const std::uint8_t> code);

// Go functions open with a stack check, `[lea -N(%rsp),%r12;] cmp 0x10(%r14),%rsp|%r12; jbe
// morestack`. The offset of that jbe: a branch the kernel emulates, with the arguments (RAX, RBX,
// RCX...) and the goroutine (R14) untouched. nullopt when the function opens otherwise.
std::optional<std::uint32_t> go_entry(std::span<const std::uint8_t> code);

// The offsets of the `call rel32` instructions in a function at `vaddr` whose target is `callee`.
// Empty when the code does not decode.
std::vector<std::uint32_t> call_sites(std::span<const std::uint8_t> code, std::uint64_t vaddr,
                                      std::uint64_t callee);

// The offsets of every RET instruction in a whole function's code (instruction by instruction,
// so a C3 byte inside another instruction does not count). Empty when the code does not decode.
std::vector<std::uint32_t> ret_offsets(std::span<const std::uint8_t> code);

}  // namespace reel::capture
