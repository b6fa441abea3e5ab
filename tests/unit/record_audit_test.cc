#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "record/audit.h"

namespace reel::record {
namespace {

TEST(Audit, LineSaysWhoWhatWhenHowLongHowMuch) {
  ::unsetenv("SUDO_USER");
  AuditRecord r{.mode = "passive",
                .target = "pid 1234 (app.py)",
                .dir = "/srv/rec/test-set-0",
                .started_unix_ns = 1'796'601'600'000'000'000,  // 2026-12-07T00:00:00Z
                .duration_ns = 12'340'000'000,
                .tests = 11,
                .mocks = 40,
                .bytes = 52'000};
  std::string line = audit_line(r);
  std::string uid = std::to_string(::getuid());
  EXPECT_TRUE(line.starts_with("reel record: mode=passive target=\"pid 1234 (app.py)\" user="))
      << line;
  EXPECT_NE(line.find(" uid=" + uid + " start=2026-12-07T00:00:00Z duration_s=12.3 tests=11 "
                      "mocks=40 bytes=52000 dir=/srv/rec/test-set-0"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find("sudo_user"), std::string::npos);
  ::setenv("SUDO_USER", "alice", 1);
  EXPECT_NE(audit_line(r).find(" sudo_user=alice "), std::string::npos);
  ::unsetenv("SUDO_USER");
}

TEST(Audit, ValuesThatCouldForgeAFieldAreQuoted) {
  AuditRecord r{.mode = "active", .target = "command evil\" user=root\nx", .dir = "a b"};
  std::string line = audit_line(r);
  EXPECT_NE(line.find("target=\"command evil\\\" user=root?x\""), std::string::npos) << line;
  EXPECT_NE(line.find("dir=\"a b\""), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(audit_line({.mode = "", .target = "x=y"}).find("mode=\"\" target=\"x=y\""),
            std::string::npos);
}

}  // namespace
}  // namespace reel::record
