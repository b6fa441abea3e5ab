// JSON bodies seen as Keploy sees them for noise: a set of field paths ("body.user.id",
// "body.items.0.price") with leaf values. Parsing never throws; nesting past a bound is refused
// so hostile bodies cannot exhaust the stack in the walkers.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reel::testset {

// ordered_json keeps key order, so a body we rewrite (redaction) keeps its shape.
using Json = nlohmann::ordered_json;

inline constexpr std::size_t kMaxJsonDepth = 128;

// The body as JSON, or nullopt when it is not JSON (or nested deeper than kMaxJsonDepth).
// Only objects and arrays count: a bare "123" body is text.
std::optional<Json> parse_json_body(std::string_view body);

struct JsonLeaf {
  std::string path;  // "body.a.0.b"
  std::string key;   // last object key on the way ("b"), for name-based rules
  const Json* value;
};

// Every scalar (and empty object/array) under `root`, prefixed with `prefix` ("body").
std::vector<JsonLeaf> json_leaves(const Json& root, std::string_view prefix);

// A leaf as text for messages and regexes: strings bare, everything else as JSON.
std::string leaf_text(const Json& value);

}  // namespace reel::testset
