// Uprobe placement over real instruction bytes (OpenSSL 3.0 as Debian 12 builds it, and the
// shapes other builds use): emulated instructions are found, anything else is refused.
#include "capture/uprobe_placement.h"

#include <gtest/gtest.h>

#include <vector>

namespace reel::capture {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(UprobePlacement, PushOrNopAtEntryIsEmulated) {
  EXPECT_EQ(emulated_entry(Bytes{0x41, 0x55, 0x41, 0x54}), 0u);  // push %r13 (ssl_read_internal)
  EXPECT_EQ(emulated_entry(Bytes{0x55, 0x48, 0x89, 0xe5}), 0u);  // push %rbp
  EXPECT_EQ(emulated_entry(Bytes{0x90, 0xc3}), 0u);
  // endbr64 (CET builds), then push %rbp: probe after the endbr64, the stack is untouched.
  EXPECT_EQ(emulated_entry(Bytes{0xf3, 0x0f, 0x1e, 0xfa, 0x55}), 4u);
}

TEST(UprobePlacement, OtherFirstInstructionsAreRefused) {
  EXPECT_FALSE(emulated_entry(Bytes{0x48, 0x83, 0xec, 0x18}));  // sub $0x18,%rsp (SSL_read)
  EXPECT_FALSE(emulated_entry(Bytes{0x48, 0x85, 0xff}));        // test %rdi,%rdi (SSL_free)
  EXPECT_FALSE(emulated_entry(Bytes{0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83}));
  EXPECT_FALSE(emulated_entry(Bytes{0x41}));  // cut short
  EXPECT_FALSE(emulated_entry(Bytes{}));
}

TEST(UprobePlacement, ForwarderGivesItsCallee) {
  // SSL_read_ex at 0x354c0: sub $0x8,%rsp; call 0x35290
  Bytes code{0x48, 0x83, 0xec, 0x08, 0xe8, 0xc7, 0xfd, 0xff, 0xff, 0x31, 0xd2};
  EXPECT_EQ(forwarded_callee(code, 0x354c0), 0x35290u);
  // SSL_read does more before its call: not a forwarder.
  Bytes read{0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0};
  EXPECT_FALSE(forwarded_callee(read, 0x35430));
  // Forward call behind an endbr64.
  Bytes cet{0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xec, 0x08, 0xe8, 0x10, 0x00, 0x00, 0x00};
  EXPECT_EQ(forwarded_callee(cet, 0x1000), 0x1000u + 13 + 0x10);
  EXPECT_FALSE(forwarded_callee(Bytes{0x48, 0x83, 0xec, 0x08, 0xe8}, 0x1000));  // cut short
}

TEST(UprobePlacement, PastTheNullCheckOfSslFree) {
  // SSL_free: test %rdi,%rdi; je rel32; push %r13
  EXPECT_EQ(past_null_check(Bytes{0x48, 0x85, 0xff, 0x0f, 0x84, 0x97, 0x03, 0, 0, 0x41, 0x55}), 9u);
  EXPECT_EQ(past_null_check(Bytes{0x48, 0x85, 0xff, 0x74, 0x20, 0x55}), 5u);  // je rel8
  EXPECT_FALSE(past_null_check(Bytes{0x48, 0x85, 0xff, 0x74, 0x20, 0x48, 0x8b}));
  EXPECT_FALSE(past_null_check(Bytes{0x48, 0x85, 0xf6, 0x74, 0x20, 0x55}));  // test %rsi
}

TEST(UprobePlacement, GoEntryIsTheStackCheckBranch) {
  // crypto/tls.(*Conn).Read, Go 1.19: cmp 0x10(%r14),%rsp; jbe rel32; sub $0x68,%rsp
  Bytes read{0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0xc2, 0x03, 0x00, 0x00, 0x48, 0x83, 0xec, 0x68};
  EXPECT_EQ(go_entry(read), 4u);
  // A big frame: lea -0x128(%rsp),%r12; cmp 0x10(%r14),%r12; jbe rel8
  Bytes big{0x4c, 0x8d, 0xa4, 0x24, 0xd8, 0xfe, 0xff, 0xff, 0x4d, 0x3b, 0x66, 0x10, 0x76, 0x40};
  EXPECT_EQ(go_entry(big), 12u);
  // No stack check (a C function, or a Go leaf): refused.
  EXPECT_FALSE(go_entry(Bytes{0x55, 0x48, 0x89, 0xe5, 0x76, 0x10}));
  EXPECT_FALSE(go_entry(Bytes{0x49, 0x3b, 0x66}));  // cut short
  EXPECT_FALSE(go_entry(Bytes{}));
}

TEST(UprobePlacement, CallSitesOfOneCallee) {
  // At 0x1000: call 0x2000; nop; call 0x3000; call 0x2000
  Bytes code{0xe8, 0xfb, 0x0f, 0x00, 0x00,  // 0x1000: call 0x2000 (0x1005 + 0xffb)
             0x90,                          // 0x1005: nop
             0xe8, 0xf5, 0x1f, 0x00, 0x00,  // 0x1006: call 0x3000 (0x100b + 0x1ff5)
             0xe8, 0xf0, 0x0f, 0x00, 0x00}; // 0x100b: call 0x2000 (0x1010 + 0xff0)
  EXPECT_EQ(call_sites(code, 0x1000, 0x2000), (std::vector<std::uint32_t>{0, 11}));
  EXPECT_EQ(call_sites(code, 0x1000, 0x3000), (std::vector<std::uint32_t>{6}));
  EXPECT_TRUE(call_sites(code, 0x1000, 0x4000).empty());
}

TEST(UprobePlacement, RetOffsetsAreWholeInstructionsOnly) {
  Bytes code{
      0xb8, 0xc3, 0xc3, 0xc3, 0xc3,  // 0: mov $0xc3c3c3c3,%eax (C3 bytes, no RET)
      0x48, 0x85, 0xc0,              // 5: test %rax,%rax
      0x74, 0x01,                    // 8: je +1
      0xc3,                          // 10: ret
      0x48, 0x83, 0xc4, 0x68,        // 11: add $0x68,%rsp
      0x5d,                          // 15: pop %rbp
      0xc3,                          // 16: ret
      0xcc, 0xcc,                    // 17: int3 padding
  };
  EXPECT_EQ(ret_offsets(code), (std::vector<std::uint32_t>{10, 16}));
  EXPECT_TRUE(ret_offsets(Bytes{0xb8, 0xc3}).empty());  // cut inside an instruction: nothing
  EXPECT_TRUE(ret_offsets(Bytes{}).empty());
}

}  // namespace
}  // namespace reel::capture
