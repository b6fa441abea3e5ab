// Text encodings for writing captured bytes into JSON, HAR and YAML.
#pragma once

#include <string>
#include <string_view>

namespace reel {

// Length (1-4) of the well-formed UTF-8 sequence starting at s[i], or 0 when it is not one
// (overlong forms, surrogates and values past U+10FFFF are not UTF-8).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

// True when `bytes` is well-formed UTF-8 with no NUL or other C0 controls but tab, CR and LF.
bool is_printable_utf8(std::string_view bytes);
std::string base64_encode(std::string_view bytes);

// Length of the longest prefix of `bytes` made of printable ASCII (0x20-0x7e); with
// `json_safe`, also without '"' and '\\'. Eight bytes at a time: bodies are mostly this.
std::size_t plain_ascii_prefix(std::string_view bytes, bool json_safe);

}  // namespace reel
