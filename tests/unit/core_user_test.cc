// --user (RunAs) and the owner of the files reel writes under sudo (FileOwner).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/process.h"
#include "core/user.h"
#include "testset/atomic_file.h"

namespace fs = std::filesystem;
using namespace reel;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "reel-user-XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() {
    set_file_owner(std::nullopt);
    fs::remove_all(path_);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct stat stat_of(const fs::path& p) {
  struct stat st{};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

}  // namespace

TEST(RunAs, ResolvesByNameAndByUid) {
  auto root = resolve_user("root");
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->gid, 0u);
  EXPECT_FALSE(root->groups.empty());  // at least the primary group
  auto by_uid = resolve_user("0");
  ASSERT_TRUE(by_uid);
  EXPECT_EQ(by_uid->name, "root");
  auto env = root->env();
  EXPECT_NE(std::find(env.begin(), env.end(), "USER=root"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "LOGNAME=root"), env.end());
}

TEST(RunAs, UnknownUserIsAClearError) {
  auto r = resolve_user("no-such-user-reel-test");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unknown user 'no-such-user-reel-test'"), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(resolve_user(""));
}

TEST(RunAs, SpawnedCommandRunsAsTheUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to change user";
  auto nobody = resolve_user("nobody");
  ASSERT_TRUE(nobody) << "Debian always has the user nobody";
  TempDir dir;
  ::chmod(dir.path().c_str(), 0777);
  fs::path out = dir.path() / "id";
  std::string script = "echo $(id -u) $(id -g) $HOME $USER > " + out.string();
  auto pid =
      spawn({.argv = {"sh", "-c", script}, .cgroup_fd = -1, .extra_env = {}, .user = *nobody});
  ASSERT_TRUE(pid) << pid.error().message;
  ASSERT_EQ(wait_exit(*pid).value_or(-1), 0);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, fmt::format("{} {} {} nobody", nobody->uid, nobody->gid, nobody->home));
}

TEST(FileOwner, FromSudoOnlyWhenRootAndWellFormed) {
  auto o = sudo_owner("1000", "1001", 0);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->uid, 1000u);
  EXPECT_EQ(o->gid, 1001u);
  EXPECT_FALSE(sudo_owner("1000", "1001", 1000));  // not root: files are ours anyway
  EXPECT_FALSE(sudo_owner(nullptr, "1001", 0));
  EXPECT_FALSE(sudo_owner("1000", nullptr, 0));
  EXPECT_FALSE(sudo_owner("10x", "1001", 0));
  EXPECT_FALSE(sudo_owner("", "1001", 0));
  EXPECT_FALSE(sudo_owner("4294967295", "1", 0));  // -1 would mean "leave unchanged"
}

TEST(FileOwner, CreatedDirectoriesGetModeAndOwner) {
  TempDir dir;
  // Giving files to ourselves needs no privilege, and shows the owner is applied.
  set_file_owner(FileOwner{::geteuid(), ::getegid()});
  fs::path deep = dir.path() / "a" / "b" / "c";
  ASSERT_TRUE(create_dirs(deep, 0750));
  for (fs::path p : {dir.path() / "a", dir.path() / "a" / "b", deep}) {
    auto st = stat_of(p);
    EXPECT_EQ(st.st_mode & 07777, 0750u) << p;
    EXPECT_EQ(st.st_uid, ::geteuid());
  }
  ASSERT_TRUE(create_dirs(deep, 0700));  // existing: left alone
  EXPECT_EQ(stat_of(deep).st_mode & 07777, 0750u);
  ASSERT_TRUE(testset::write_file_atomic(deep / "f", "x", 0640));
  EXPECT_EQ(stat_of(deep / "f").st_mode & 07777, 0640u);
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_FALSE(create_dirs(dir.path() / "file", 0750));
}

TEST(FileOwner, FilesGoToTheSudoUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give files away";
  TempDir dir;
  set_file_owner(FileOwner{65534, 65534});
  ASSERT_TRUE(create_dirs(dir.path() / "set", 0750));
  ASSERT_TRUE(testset::write_file_atomic(dir.path() / "set" / "t.yaml", "x", 0640));
  ASSERT_TRUE(testset::append_file_durable(dir.path() / "set" / "m.yaml", "y", 0, 0600));
  for (auto p : {fs::path("set"), fs::path("set/t.yaml"), fs::path("set/m.yaml")}) {
    auto st = stat_of(dir.path() / p);
    EXPECT_EQ(st.st_uid, 65534u) << p;
    EXPECT_EQ(st.st_gid, 65534u) << p;
    EXPECT_EQ(st.st_mode & 0007, 0u) << p;
  }
}
