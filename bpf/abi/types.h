/* Fixed-width integer names shared by the BPF programs (vmlinux.h's __u8...) and C++ (<cstdint>),
 * so one struct definition serves both sides. Include inside the abi headers only. */
#ifndef REEL_BPF_ABI_TYPES_H
#define REEL_BPF_ABI_TYPES_H

#ifdef __cplusplus
#include <cstdint>
namespace reel::abi {
using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
}  // namespace reel::abi
#define REEL_ABI_BEGIN namespace reel::abi {
#define REEL_ABI_END }
#else
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
#define REEL_ABI_BEGIN
#define REEL_ABI_END
#endif

#endif
