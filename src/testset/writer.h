// Writes one test set as tests complete, so a crash loses at most the test in flight.
//
// Test files are replaced atomically (temporary in the same directory, fsync, rename, fsync of
// the directory). mocks.yaml is appended to, each append fdatasynced, so recording stays linear
// in the size of the set (rewriting it whole per test, as an earlier version did, wrote 145 MB
// for a 1.5 MB set of 300 tests). A test's mocks are appended before the test file is written,
// so an append cut short by a crash or a full disk belongs to no test on disk: a full disk cuts
// the file back at once, and a crash's torn tail is dropped, with a warning, by the next reader
// or writer (parse_mocks_recovering).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "testset/model.h"
#include "testset/redact.h"

namespace reel::testset {

struct WriterOptions {
  // Recordings hold what the app said (redacted or not): never world-readable by default.
  // Directories get the same bits plus search (0640 -> 0750). 0600 keeps them to their owner.
  mode_t file_mode = 0640;
  // Applied to every test and mock before it is serialised; nullopt writes secrets as captured.
  std::optional<Redactor> redactor;
};

// Thread-safe: tests finishing on several threads may call it concurrently.
class TestSetWriter {
 public:
  // Opens (creating if needed) the test set directory `dir`. Tests and mocks already there are
  // kept and numbering continues after them; temporaries left by a crash are removed.
  static Result<TestSetWriter> open(const std::filesystem::path& dir, WriterOptions options = {});
  // Creates ROOT/test-set-N, N one past the highest test set under ROOT (0 for the first).
  static Result<TestSetWriter> create_next(const std::filesystem::path& root,
                                           WriterOptions options = {});

  // The mocks of one test, then the test: a crash in between leaves mocks no test uses, never a
  // test without its mocks. Each mock is stamped with metadata reel.test = the test's name, so
  // replay ties it to its test even when tests ran concurrently. Returns the test's name.
  Result<std::string> record(TestCase test, std::vector<Mock> mocks);
  // Names an unnamed test "test-K" (K one past the highest so far). Returns the name.
  Result<std::string> write_test(TestCase test);
  // Names unnamed mocks "mock-N", N counting across the whole mocks.yaml.
  Result<void> append_mocks(std::vector<Mock> mocks);

  const std::filesystem::path& dir() const { return dir_; }
  std::string name() const { return dir_.filename().string(); }
  std::size_t tests_written() const;
  std::size_t mocks_written() const;

 private:
  TestSetWriter(std::filesystem::path dir, WriterOptions options);
  Result<void> load_existing();
  Result<void> append_locked(std::vector<Mock>& mocks);
  Result<std::string> write_test_locked(TestCase& test);

  std::filesystem::path dir_;
  WriterOptions options_;
  std::unique_ptr<std::mutex> mutex_;
  std::uint64_t mocks_size_ = 0;   // bytes of mocks.yaml known whole
  bool mocks_end_newline_ = true;  // it ends with a newline (or is empty)
  std::size_t next_test_ = 1;
  std::size_t next_mock_ = 0;
  std::size_t tests_written_ = 0;
  std::size_t mocks_written_ = 0;
};

}  // namespace reel::testset
