// A YAML document held as plain data, and the one place yaml-cpp is called to read one.
//
// Values are built from yaml-cpp's parse events, not its node API: nodes throw from accessors,
// share aliased children (a "billion laughs" file expands when walked), do not record whether a
// scalar was quoted, and YAML::LoadAll can loop forever on some invalid input. A Value is
// inert, bounded when built, remembers each node's line for error messages,
// and remembers how a scalar and a collection were written so files we did not model
// (Postgres packets, unknown mock kinds) are written back as they were read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace reel::testset {

struct Value {
  enum class Type : std::uint8_t { kNull, kScalar, kSequence, kMapping };
  // How a scalar goes back to text. kString: quoted when plain text would read back as a
  // number, boolean, null or date. kPlain: as is (numbers, booleans, timestamps, and scalars
  // that were plain in the file). kBinary: `text` holds raw bytes, written "!!binary <base64>".
  enum class Style : std::uint8_t { kString, kPlain, kBinary };

  Type type = Type::kNull;
  Style style = Style::kString;
  bool flow = false;  // collection written inline: [a, b] or {k: v}
  int line = 0;       // 1-based line in the source file; 0 when built in memory
  std::string text;   // scalar content
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;  // mapping, in file order

  // Declared so that clang (16) does not instantiate pair<string, Value> while checking
  // Value's implicit default constructor, which it cannot while Value is incomplete.
  Value() = default;

  static Value null() { return {}; }
  static Value string(std::string s);
  static Value plain(std::string s);
  static Value integer(std::int64_t v);
  static Value boolean(bool v);
  static Value binary(std::string bytes);
  static Value sequence(bool flow = false);
  static Value mapping(bool flow = false);

  bool is_null() const { return type == Type::kNull; }
  bool is_scalar() const { return type == Type::kScalar; }
  bool is_sequence() const { return type == Type::kSequence; }
  bool is_mapping() const { return type == Type::kMapping; }

  // Appends to a sequence.
  Value& push(Value v);
  // Appends a member to a mapping (callers keep keys unique); returns the new value.
  Value& add(std::string key, Value v);
  // First member whose key equals `key` ignoring ASCII case: Keploy's Go structs write some
  // keys lower-case (genericrequests) and others camel-case (reqTimestampMock); both are read.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);

  // Structural equality: types, scalar text, items and members; style, flow and line ignored.
  friend bool operator==(const Value& a, const Value& b);
};

// Caps on what one parse may build, so hostile input costs bounded memory and stack.
struct ParseLimits {
  std::size_t max_nodes = 4'000'000;  // also at most twice the input size
  std::size_t max_depth = 256;
  // Scalar bytes built, counting each alias expansion again.
  std::size_t max_bytes = 512u << 20;  // also at most twice the input size
};

// Every document in `text`. `source` names the text in errors: "SOURCE:LINE:COL: ...".
// Never throws and never aborts on any input.
Result<std::vector<Value>> parse_yaml(std::string_view text, std::string_view source,
                                      const ParseLimits& limits = {});

// Standard base64 (RFC 4648) decode; whitespace is skipped, as in YAML !!binary blocks.
// False on any other byte outside the alphabet or on bad padding.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace reel::testset
