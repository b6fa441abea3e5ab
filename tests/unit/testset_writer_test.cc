#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testset/atomic_file.h"
#include "testset/codec.h"
#include "testset/reader.h"
#include "testset/writer.h"

namespace reel::testset {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "reel-writer-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TestCase make_test(int i) {
  TestCase t;
  t.metadata["seq"] = std::to_string(i);
  t.req.method = "GET";
  t.req.url = fmt::format("http://localhost:8080/orders/{}", i);
  t.req.header = {{"Host", "localhost:8080"}};
  t.resp.status_code = 200;
  t.resp.header = {{"Content-Type", "application/json"}};
  t.resp.body = fmt::format(R"({{"id":{},"pad":"{}"}})", i, std::string(200, 'x'));
  return t;
}

Mock make_mock(int i, std::string_view test_name) {
  Mock m;
  m.kind = MockKind::kRedis;
  m.metadata = {{"type", "mocks"}, {"test", std::string(test_name)}};
  m.spec = PayloadMockSpec{{{"client", {{fmt::format("*2\r\n$3\r\nGET\r\n$1\r\n{}\r\n", i % 10)}}}},
                           {{"server", {{"$-1\r\n"}}}}};
  return m;
}

TEST(TestsetWriter, WritesNumberedFilesThatReadBack) {
  TempDir root;
  auto writer = TestSetWriter::create_next(root.path());
  ASSERT_TRUE(writer) << writer.error().message;
  EXPECT_EQ(writer->name(), "test-set-0");
  for (int i = 1; i <= 3; i++) {
    auto name = writer->record(make_test(i), {make_mock(i, fmt::format("test-{}", i))});
    ASSERT_TRUE(name) << name.error().message;
    EXPECT_EQ(*name, fmt::format("test-{}", i));
  }
  auto set = load_test_set(writer->dir());
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(set->tests.size(), 3u);
  ASSERT_EQ(set->mocks.size(), 3u);
  EXPECT_EQ(set->mocks[2].name, "mock-2");
  EXPECT_EQ(set->tests[0].curl, make_curl(set->tests[0].req));
  EXPECT_EQ(mode_of(writer->dir() / "tests" / "test-1.yaml"), 0640u);  // never world-readable
  EXPECT_EQ(mode_of(writer->dir()), 0750u);
  std::string mocks = slurp(writer->dir() / "mocks.yaml");
  EXPECT_TRUE(mocks.starts_with("version: api.keploy.io/v1beta1\nkind: Redis\nname: mock-0\n"));
  EXPECT_NE(mocks.find("\n---\nversion: api.keploy.io/v1beta1\nkind: Redis\nname: mock-1\n"),
            std::string::npos);

  // A second recording goes to a new set; reopening the first continues its numbering.
  auto next = TestSetWriter::create_next(root.path());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->name(), "test-set-1");
  auto reopened = TestSetWriter::open(root.path() / "test-set-0");
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto name = reopened->record(make_test(4), {make_mock(4, "test-4")});
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, "test-4");
  auto again = load_test_set(root.path() / "test-set-0");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->tests.size(), 4u);
  EXPECT_EQ(again->mocks.back().name, "mock-3");
}

TEST(TestsetWriter, PrivateModeAppliesToFilesAndDirectories) {
  TempDir root;
  auto writer = TestSetWriter::open(root.path() / "test-set-0", {0600, std::nullopt});
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->record(make_test(1), {make_mock(1, "test-1")}));
  EXPECT_EQ(mode_of(writer->dir()), 0700u);
  EXPECT_EQ(mode_of(writer->dir() / "tests" / "test-1.yaml"), 0600u);
  EXPECT_EQ(mode_of(writer->dir() / "mocks.yaml"), 0600u);
}

TEST(TestsetWriter, AtomicWriteReplacesWholeFiles) {
  TempDir dir;
  fs::path file = dir.path() / "f.yaml";
  ASSERT_TRUE(write_file_atomic(file, "one\n"));
  ASSERT_TRUE(write_file_atomic(file, "two\n", 0640));
  EXPECT_EQ(slurp(file), "two\n");
  EXPECT_EQ(mode_of(file), 0640u);
  std::size_t entries = std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator());
  EXPECT_EQ(entries, 1u);  // no temporaries left behind
  auto missing = write_file_atomic(dir.path() / "no" / "such" / "dir.yaml", "x");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no/such"), std::string::npos);
}

// What a crash mid-write leaves: temporaries holding half a document. They are invisible to the
// reader and cleaned up when the set is opened for writing again.
TEST(TestsetWriter, LeftoverTemporariesDoNotCorruptTheSet) {
  TempDir root;
  auto writer = TestSetWriter::open(root.path() / "test-set-0");
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->record(make_test(1), {make_mock(1, "test-1")}));
  fs::path dir = writer->dir();
  std::string half = encode_test_case(make_test(2)).substr(0, 100);
  std::ofstream(dir / "tests" / ".test-2.yaml.tmp-Ab12Cd") << half;
  std::ofstream(dir / ".mocks.yaml.tmp-Zx98Yw")
      << slurp(dir / "mocks.yaml") << "---\nversion: api.k";

  auto set = load_test_set(dir);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->tests.size(), 1u);
  EXPECT_EQ(set->mocks.size(), 1u);

  auto reopened = TestSetWriter::open(dir);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_FALSE(fs::exists(dir / "tests" / ".test-2.yaml.tmp-Ab12Cd"));
  EXPECT_FALSE(fs::exists(dir / ".mocks.yaml.tmp-Zx98Yw"));
  auto name = reopened->record(make_test(2), {make_mock(2, "test-2")});
  ASSERT_TRUE(name);
  EXPECT_EQ(*name, "test-2");
}

// A recorder killed with SIGKILL at an arbitrary moment: whatever is on disk loads, and every
// test on disk has its mocks.
TEST(TestsetWriter, KilledRecorderLeavesAConsistentSet) {
  for (int round = 0; round < 4; round++) {
    TempDir root;
    fs::path dir = root.path() / "test-set-0";
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(ready[0]);
      auto writer = TestSetWriter::open(dir);
      for (int i = 1; writer; i++) {
        std::string test = fmt::format("test-{}", i);
        if (!writer->record(make_test(i), {make_mock(2 * i, test), make_mock(2 * i + 1, test)}))
          break;
        if (::write(ready[1], "x", 1) != 1) break;
      }
      ::_exit(1);
    }
    ::close(ready[1]);
    char buf[1];
    for (int i = 0; i < 3 + 5 * round; i++) ASSERT_EQ(::read(ready[0], buf, 1), 1);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ::close(ready[0]);

    auto set = load_test_set(dir);
    ASSERT_TRUE(set) << set.error().message;
    ASSERT_GE(set->tests.size(), static_cast<std::size_t>(3 + 5 * round));
    for (const auto& t : set->tests) {
      std::size_t mocks = 0;
      for (const auto& m : set->mocks) mocks += m.metadata.at("test") == t.name;
      EXPECT_EQ(mocks, 2u) << t.name;
    }
  }
}

TEST(TestsetWriter, RejectsNamesThatAreNotPlainFiles) {
  TempDir root;
  auto writer = TestSetWriter::open(root.path() / "test-set-0");
  ASSERT_TRUE(writer);
  TestCase t = make_test(1);
  t.name = "../escape";
  EXPECT_FALSE(writer->write_test(t));
  t.name = ".hidden";
  EXPECT_FALSE(writer->write_test(t));
}

TEST(TestsetWriter, RefusesToAppendToACorruptMocksFile) {
  TempDir root;
  fs::create_directories(root.path() / "test-set-0");
  std::ofstream(root.path() / "test-set-0" / "mocks.yaml") << "version: x\nkind: [\n";
  auto writer = TestSetWriter::open(root.path() / "test-set-0");
  ASSERT_FALSE(writer);
  EXPECT_NE(writer.error().message.find("mocks.yaml:"), std::string::npos)
      << writer.error().message;
}

TEST(TestsetWriter, ATornLastMockIsDroppedAndAppendsContinueAfterIt) {
  TempDir root;
  fs::path dir = root.path() / "test-set-0";
  {
    auto writer = TestSetWriter::create_next(root.path());
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->record(make_test(1), {make_mock(1, "test-1"), make_mock(2, "test-1")}));
  }
  // A crash in the middle of the next append: half a document at the end.
  std::string whole = *read_file(dir / "mocks.yaml");
  std::ofstream(dir / "mocks.yaml", std::ios::app) << "---\nversion: api.keploy.io/v1beta1\nkind: Ht";
  auto loaded = load_test_set(dir);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->mocks.size(), 2u);

  auto reopened = TestSetWriter::open(dir);
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(*read_file(dir / "mocks.yaml"), whole);  // the torn tail is gone from disk
  ASSERT_TRUE(reopened->record(make_test(2), {make_mock(3, "test-2")}));
  auto again = load_test_set(dir);
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(again->mocks.size(), 3u);
  EXPECT_EQ(again->mocks[2].metadata.at("reel.test"), "test-2");
}

TEST(TestsetWriter, AppendsGrowTheFileLinearly) {
  TempDir root;
  auto writer = TestSetWriter::create_next(root.path());
  ASSERT_TRUE(writer);
  std::uintmax_t last = 0;
  for (int i = 1; i <= 5; i++) {
    ASSERT_TRUE(writer->record(make_test(i), {make_mock(i, fmt::format("test-{}", i))}));
    std::uintmax_t size = fs::file_size(writer->dir() / "mocks.yaml");
    EXPECT_GT(size, last);
    last = size;
  }
  auto loaded = load_test_set(writer->dir());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->mocks.size(), 5u);
  EXPECT_EQ(loaded->tests.size(), 5u);
}

}  // namespace
}  // namespace reel::testset
