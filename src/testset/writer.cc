#include "testset/writer.h"

#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <system_error>

#include "core/user.h"
#include "testset/atomic_file.h"
#include "testset/codec.h"
#include "testset/reader.h"

namespace reel::testset {

namespace fs = std::filesystem;

namespace {

std::size_t number_after_dash(std::string_view name) {
  std::size_t dash = name.rfind('-');
  std::size_t n = 0;
  if (dash == std::string_view::npos) return 0;
  auto [p, ec] = std::from_chars(name.data() + dash + 1, name.data() + name.size(), n);
  return ec == std::errc() && p == name.data() + name.size() ? n : 0;
}

// Directories get the file mode plus search permission where it grants read.
mode_t dir_mode(mode_t file_mode) { return file_mode | ((file_mode & 0444) >> 2); }

Result<void> make_dir(const fs::path& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) == 0) return own_path(dir);
  if (errno == EEXIST) return {};
  return fail_errno(fmt::format("create directory {}", dir.string()));
}

// A test name becomes a file name: no path separators, no hidden or temporary names.
Result<void> check_name(std::string_view name) {
  if (name.empty() || name.starts_with('.') || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    return fail_msg("'{}' cannot be a test name (it must be a plain file name)", name);
  }
  return {};
}

}  // namespace

TestSetWriter::TestSetWriter(fs::path dir, WriterOptions options)
    : dir_(std::move(dir)), options_(std::move(options)), mutex_(std::make_unique<std::mutex>()) {}

Result<TestSetWriter> TestSetWriter::open(const fs::path& dir, WriterOptions options) {
  mode_t mode = dir_mode(options.file_mode);
  REEL_TRY(create_dirs(dir.parent_path(), mode));
  REEL_TRY(make_dir(dir, mode));
  REEL_TRY(make_dir(dir / "tests", mode));
  TestSetWriter writer(dir, std::move(options));
  REEL_TRY(writer.load_existing());
  return writer;
}

Result<TestSetWriter> TestSetWriter::create_next(const fs::path& root, WriterOptions options) {
  REEL_TRY(create_dirs(root, dir_mode(options.file_mode)));
  std::error_code ec;
  std::size_t next = 0;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with("test-set-")) next = std::max(next, number_after_dash(name) + 1);
  }
  if (ec) return fail_msg("list {}: {}", root.string(), ec.message());
  // mkdir decides races with another recorder: whoever creates the directory owns it.
  for (int attempt = 0; attempt < 1000; attempt++, next++) {
    fs::path dir = root / fmt::format("test-set-{}", next);
    if (::mkdir(dir.c_str(), dir_mode(options.file_mode)) == 0) {
      REEL_TRY(own_path(dir));
      return open(dir, std::move(options));
    }
    if (errno != EEXIST) return fail_errno(fmt::format("create directory {}", dir.string()));
  }
  return fail_msg("{}: could not create a new test-set directory", root.string());
}

Result<void> TestSetWriter::load_existing() {
  REEL_TRY(remove_stale_temps(dir_));
  REEL_TRY(remove_stale_temps(dir_ / "tests"));
  std::error_code ec;
  for (fs::directory_iterator it(dir_ / "tests", ec), end; !ec && it != end; it.increment(ec)) {
    next_test_ = std::max(next_test_, number_after_dash(it->path().stem().string()) + 1);
  }
  fs::path mocks = dir_ / "mocks.yaml";
  if (!fs::exists(mocks, ec)) return {};
  std::string text = REEL_TRY(read_file(mocks));
  // Refuse to append to a file we cannot read back: the append would hide the damage. A last
  // mock cut short by a crash belongs to no test: cut it off, then append after what is whole.
  RecoveredMocks recovered = REEL_TRY(parse_mocks_recovering(text, mocks.string()));
  if (!recovered.warning.empty()) {
    spdlog::warn("{}", recovered.warning);
    REEL_TRY(truncate_file(mocks, recovered.good_bytes));
  }
  mocks_size_ = recovered.good_bytes;
  mocks_end_newline_ = mocks_size_ == 0 || text[mocks_size_ - 1] == '\n';
  next_mock_ = recovered.file.mocks.size();
  for (const auto& m : recovered.file.mocks)
    next_mock_ = std::max(next_mock_, number_after_dash(m.name) + 1);
  return {};
}

Result<std::string> TestSetWriter::record(TestCase test, std::vector<Mock> mocks) {
  std::lock_guard lock(*mutex_);
  if (test.name.empty()) test.name = fmt::format("test-{}", next_test_);
  for (auto& m : mocks) m.metadata["reel.test"] = test.name;
  REEL_TRY(append_locked(mocks));
  return write_test_locked(test);
}

Result<std::string> TestSetWriter::write_test(TestCase test) {
  std::lock_guard lock(*mutex_);
  return write_test_locked(test);
}

Result<void> TestSetWriter::append_mocks(std::vector<Mock> mocks) {
  std::lock_guard lock(*mutex_);
  return append_locked(mocks);
}

Result<std::string> TestSetWriter::write_test_locked(TestCase& test) {
  if (test.name.empty()) test.name = fmt::format("test-{}", next_test_);
  REEL_TRY(check_name(test.name));
  if (options_.redactor) options_.redactor->redact(test);
  if (test.curl.empty() && test.kind == TestKind::kHttp) test.curl = make_curl(test.req);
  fs::path file = dir_ / "tests" / (test.name + ".yaml");
  REEL_TRY(write_file_atomic(file, encode_test_case(test), options_.file_mode));
  next_test_ = std::max(next_test_, number_after_dash(test.name) + 1);
  tests_written_++;
  return test.name;
}

Result<void> TestSetWriter::append_locked(std::vector<Mock>& mocks) {
  if (mocks.empty()) return {};
  std::string text;
  std::size_t next = next_mock_;
  bool at_start = mocks_size_ == 0;
  bool newline = mocks_end_newline_;
  for (Mock& mock : mocks) {
    if (mock.name.empty()) mock.name = fmt::format("mock-{}", next);
    next = std::max(next, number_after_dash(mock.name)) + 1;
    if (options_.redactor) options_.redactor->redact(mock);
    if (!at_start) {
      if (!newline) text += '\n';
      text += "---\n";
    }
    text += encode_mock(mock);
    at_start = false;
    newline = text.back() == '\n';
  }
  REEL_TRY(append_file_durable(dir_ / "mocks.yaml", text, mocks_size_, options_.file_mode));
  mocks_size_ += text.size();
  mocks_end_newline_ = newline;
  next_mock_ = next;
  mocks_written_ += mocks.size();
  return {};
}

std::size_t TestSetWriter::tests_written() const {
  std::lock_guard lock(*mutex_);
  return tests_written_;
}

std::size_t TestSetWriter::mocks_written() const {
  std::lock_guard lock(*mutex_);
  return mocks_written_;
}

}  // namespace reel::testset
