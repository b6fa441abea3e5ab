// How one scalar is written, yaml.v3's way. Internal to the emitter (yaml_emit.cc); split out
// because the rules are long and independent of document layout.
#pragma once

#include <string>
#include <string_view>

namespace reel::testset::yaml_detail {

inline constexpr int kIndentStep = 4;  // Keploy's encoder indent

enum class Form { kPlain, kSingle, kDouble, kLiteral };

struct Context {
  bool flow = false;  // inside [ ] or { }
  bool key = false;   // a mapping key
};

bool valid_utf8(std::string_view s);
// The style yaml.v3 gives `s`: `is_string` for strings (quoted when plain text would read back
// as another type), false for numbers, booleans and timestamps.
Form choose(std::string_view s, bool is_string, Context ctx);
void write_double(std::string_view s, std::string& out);
void write_single(std::string_view s, std::string& out);
// `indent`: column of the block's content lines. Always ends with a newline.
void write_literal(std::string_view s, int indent, std::string& out);
// yaml.v3's encodeBase64: lines of 70 characters, each ending in a newline once there are two.
std::string base64_lines(std::string_view bytes);

}  // namespace reel::testset::yaml_detail
