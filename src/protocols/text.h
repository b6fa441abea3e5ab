// Small string helpers the parsers share: bounded appends, case folding, strict integer parsing,
// and rendering of binary values for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reel::protocols {

// Appends as much of `bytes` as keeps `out` within `cap` bytes.
void append_capped(std::string& out, std::string_view bytes, std::size_t cap);
// The first `cap` bytes of `text`.
std::string capped(std::string_view text, std::size_t cap);

bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);
std::string to_upper(std::string_view text);
std::string to_lower(std::string_view text);

// Decimal with optional leading '-'; no spaces, no '+', no overflow. False otherwise.
bool parse_int64(std::string_view text, std::int64_t& out);

// True for printable ASCII, tab, CR, LF and well-formed multi-byte UTF-8.
bool is_text(std::string_view bytes);
// Lower-case hex of `bytes`, at most `cap` output bytes.
std::string to_hex(std::string_view bytes, std::size_t cap);
// `bytes` as is when is_text(), otherwise "\x" + lower-case hex; at most `cap` output bytes.
std::string render_value(std::string_view bytes, std::size_t cap);

}  // namespace reel::protocols
