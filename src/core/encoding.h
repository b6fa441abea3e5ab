// Text encodings for writing captured bytes into JSON, HAR and YAML.
#pragma once

#include <string>
#include <string_view>

namespace reel {

// True when `bytes` is well-formed UTF-8 with no NUL or other C0 controls but tab, CR and LF.
bool is_printable_utf8(std::string_view bytes);
std::string base64_encode(std::string_view bytes);

}  // namespace reel
