// Typed reads out of a Value with errors a user can act on:
//   "test-set-0/tests/test-1.yaml:7: spec.req.header: expected a mapping of names to values,
//    found a sequence"
// Absent optional fields read as defaults; unknown fields are never looked at.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "testset/timestamp.h"
#include "testset/yaml_value.h"

namespace reel::testset {

class Decoder {
 public:
  explicit Decoder(std::string_view source) : source_(source) {}

  std::string_view source() const { return source_; }

  // "SOURCE:LINE: PATH: expected WHAT, found <description of v>".
  std::unexpected<Error> fail(const Value& v, std::string_view path, std::string_view what) const;

  // `map` must be a mapping (`path` names it); the member `key` must be present.
  Result<const Value*> member(const Value& map, std::string_view path, std::string_view key) const;
  // Absent member: nullptr. `map` that is not a mapping: error.
  Result<const Value*> optional(const Value& map, std::string_view path,
                                std::string_view key) const;

  // Scalars. Null reads as "" / 0 / false / unset.
  Result<std::string> text(const Value& v, std::string_view path) const;
  Result<std::int64_t> integer(const Value& v, std::string_view path, std::int64_t min,
                               std::int64_t max) const;
  Result<bool> boolean(const Value& v, std::string_view path) const;
  Result<Timestamp> timestamp(const Value& v, std::string_view path) const;

  // Mapping of scalar to scalar; null reads as empty.
  Result<std::map<std::string, std::string>> string_map(const Value& v,
                                                        std::string_view path) const;
  // Sequence of scalars; null reads as empty.
  Result<std::vector<std::string>> string_list(const Value& v, std::string_view path) const;

  // The same, reading member `key` of `map`, default when absent.
  Result<std::string> text_at(const Value& map, std::string_view path, std::string_view key) const;
  Result<std::int64_t> integer_at(const Value& map, std::string_view path, std::string_view key,
                                  std::int64_t min, std::int64_t max) const;
  Result<Timestamp> timestamp_at(const Value& map, std::string_view path,
                                 std::string_view key) const;
  Result<std::map<std::string, std::string>> string_map_at(const Value& map, std::string_view path,
                                                           std::string_view key) const;

 private:
  std::string source_;
};

// "spec" + "req" -> "spec.req"
std::string join_path(std::string_view path, std::string_view key);

}  // namespace reel::testset
