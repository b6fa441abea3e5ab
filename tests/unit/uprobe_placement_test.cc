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

}  // namespace
}  // namespace reel::capture
