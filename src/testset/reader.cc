#include "testset/reader.h"

#include <algorithm>
#include <charconv>
#include <system_error>

#include <spdlog/spdlog.h>

#include "testset/atomic_file.h"
#include "testset/codec.h"

namespace reel::testset {

namespace fs = std::filesystem;

namespace {

// The number after the last '-' of `name`, or -1.
long long trailing_number(std::string_view name) {
  std::size_t dash = name.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == name.size()) return -1;
  long long n = -1;
  auto [p, ec] = std::from_chars(name.data() + dash + 1, name.data() + name.size(), n);
  return ec == std::errc() && p == name.data() + name.size() ? n : -1;
}

bool is_yaml(const fs::path& p) {
  std::string name = p.filename().string();
  return !name.starts_with('.') && (p.extension() == ".yaml" || p.extension() == ".yml");
}

// Reads one test file; a test of a kind reel does not replay (not Http or gRPC) is reported in
// `skipped` instead.
Result<void> load_test(const fs::path& file, TestSet& set) {
  std::string text = REEL_TRY(read_file(file));
  std::string source = file.string();
  std::vector<Value> docs = REEL_TRY(parse_yaml(text, source));
  if (docs.size() == 1 && docs[0].is_mapping()) {
    const Value* kind = docs[0].find("kind");
    if (kind != nullptr && kind->is_scalar() && kind->text != "Http" && kind->text != "gRPC") {
      set.skipped_tests.push_back({source, kind->text});
      return {};
    }
  }
  if (docs.size() != 1) {
    return fail_msg("{}: expected exactly one YAML document (a test case), found {}", source,
                    docs.size());
  }
  set.tests.push_back(REEL_TRY(test_case_from_value(docs[0], Decoder(source))));
  return {};
}

}  // namespace

bool numbered_less(const std::string& a, const std::string& b) {
  long long na = trailing_number(a), nb = trailing_number(b);
  if (na != nb) return na < nb;
  return a < b;
}

std::size_t TestSet::unknown_mock_count() const {
  std::size_t n = 0;
  for (const auto& [kind, count] : unknown_mock_kinds) n += count;
  return n;
}

Result<std::vector<std::string>> list_test_sets(const fs::path& root) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with("test-set-") || !it->is_directory()) continue;
    if (fs::exists(it->path() / "tests") || fs::exists(it->path() / "mocks.yaml")) {
      names.push_back(name);
    }
  }
  if (ec) return fail_msg("list test sets in {}: {}", root.string(), ec.message());
  std::sort(names.begin(), names.end(), numbered_less);
  return names;
}

Result<TestSet> load_test_set(const fs::path& dir) {
  TestSet set;
  set.dir = dir;
  set.name = dir.filename().string();
  if (set.name.empty()) set.name = dir.parent_path().filename().string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail_msg("{}: no such test set directory", dir.string());
  std::vector<fs::path> files;
  if (fs::is_directory(dir / "tests", ec)) {
    for (fs::directory_iterator it(dir / "tests", ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file() && is_yaml(it->path())) files.push_back(it->path());
    }
    if (ec) return fail_msg("list {}: {}", (dir / "tests").string(), ec.message());
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    return numbered_less(a.stem().string(), b.stem().string());
  });
  for (const auto& file : files) REEL_TRY(load_test(file, set));
  fs::path mocks = dir / "mocks.yaml";
  if (fs::exists(mocks, ec)) {
    std::string text = REEL_TRY(read_file(mocks));
    RecoveredMocks recovered = REEL_TRY(parse_mocks_recovering(text, mocks.string()));
    if (!recovered.warning.empty()) spdlog::warn("{}", recovered.warning);
    set.mocks = std::move(recovered.file.mocks);
    set.unknown_mock_kinds = std::move(recovered.file.unknown_kinds);
  }
  return set;
}

}  // namespace reel::testset
