// tracefs is found, or mounted when missing (fresh machines here have none), and then works.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "kernel/mountinfo.h"

namespace reel {
namespace {

TEST(Tracefs, FoundOrMountedAndUsable) {
  bool mounted_now = false;
  auto path = ensure_tracefs(&mounted_now);
  ASSERT_TRUE(path) << path.error().message;
  std::printf("tracefs at %s (%s)\n", path->c_str(), mounted_now ? "mounted by reel" : "found");
  auto id = read_file(*path + "/events/syscalls/sys_enter_write/id");
  EXPECT_TRUE(id) << "syscall tracepoints are not visible under " << *path;
  if (id) {
    EXPECT_GT(std::atoi(id->c_str()), 0);
  }
  // A second call finds the same mount instead of mounting again.
  bool again = true;
  auto second = ensure_tracefs(&again);
  ASSERT_TRUE(second);
  EXPECT_FALSE(again);
  EXPECT_EQ(*second, *path);
  if (mounted_now) {
    EXPECT_EQ(::umount(path->c_str()), 0);  // leave the machine as we found it
  }
}

}  // namespace
}  // namespace reel
