// Parsing of kernel-provided text: mountinfo, /proc/PID/cgroup, /proc/net/tcp.
#include <gtest/gtest.h>

#include "kernel/cgroup.h"
#include "kernel/mountinfo.h"
#include "kernel/proc_net.h"

namespace reel {
namespace {

constexpr const char* kHybrid =
    "23 1 0:21 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr const char* kUnified =
    "25 1 0:23 / / rw - ext4 /dev/sda1 rw\n"
    "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate\n"
    "40 25 0:12 / /sys/kernel/tracing rw,nosuid shared:9 - tracefs tracefs rw\n";

TEST(FindMount, HybridLayoutFindsUnified) {
  EXPECT_EQ(find_mount(kHybrid, "cgroup2").value_or(""), "/sys/fs/cgroup/unified");
  EXPECT_FALSE(find_mount(kHybrid, "tracefs"));
}

TEST(FindMount, UnifiedLayoutWithOptionalFields) {
  EXPECT_EQ(find_mount(kUnified, "cgroup2").value_or(""), "/sys/fs/cgroup");
  EXPECT_EQ(find_mount(kUnified, "tracefs").value_or(""), "/sys/kernel/tracing");
}

TEST(FindMount, EscapedPathsAndGarbage) {
  EXPECT_EQ(find_mount("1 2 0:1 / /mnt/a\\040b rw - cgroup2 none rw\n", "cgroup2").value_or(""),
            "/mnt/a b");
  EXPECT_FALSE(find_mount("garbage\n\n- cgroup2\n1 2 3\n", "cgroup2"));
}

TEST(ProcCgroup, PicksTheUnifiedLine) {
  auto p = unified_path_from_proc("12:pids:/user.slice\n1:name=systemd:/x\n0::/user.slice/a.scope\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "/user.slice/a.scope");
  EXPECT_FALSE(unified_path_from_proc("12:pids:/\n"));
}

TEST(ProcNetTcp, ParsesListenersBothFamilies) {
  const char* v4 =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:3A99 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 123456 1 0000000000000000 100 0 0 10 0\n";
  auto e = parse_proc_net_tcp(v4);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].local.to_string(), "127.0.0.1:15001");
  EXPECT_EQ(e[0].state, 10);
  EXPECT_EQ(e[0].inode, 123456u);

  const char* v6 =
      "  sl  local_address                         remote_address                        st\n"
      "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0\n";
  auto f = parse_proc_net_tcp(v6);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].local.to_string(), "[::1]:8080");
  EXPECT_EQ(f[0].inode, 777u);

  EXPECT_TRUE(parse_proc_net_tcp("   0: zz:zz yy 0A\nnot a line\n").empty());
}

}  // namespace
}  // namespace reel
