// Reading the fields of Keploy's decoded mocks (no payload), for the PostgreSQL and MySQL
// rebuilders (postgres_keploy.cc, mysql_keploy.cc). Keploy writes them with Go's yaml.v3:
// numbers as plain scalars, []byte as a list of byte values or, where it kept text, a string.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "testset/yaml_value.h"

namespace reel::mock::keploy {

using testset::Value;

// A mapping's member; nullptr when `v` is not a mapping or has no such key.
const Value* member(const Value* v, std::string_view key);
// The first of `keys` that `v` has (Keploy's field names changed over time).
const Value* any(const Value* v, std::initializer_list<std::string_view> keys);
// A whole decimal scalar; a negative one as its two's complement. nullopt otherwise.
std::optional<std::uint64_t> number(const Value* v);
inline std::uint64_t int_of(const Value* v, std::uint64_t fallback = 0) {
  return number(v).value_or(fallback);
}
// A scalar's text, or a list of byte values; nullopt for anything else (null: SQL NULL).
std::optional<std::string> bytes_of(const Value* v);
inline std::string text_of(const Value* v) { return bytes_of(v).value_or(""); }

}  // namespace reel::mock::keploy
