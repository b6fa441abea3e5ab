// Keploy's `curl` field, written the way Keploy writes it so files diff cleanly.
#include <fmt/format.h>

#include "protocols/text.h"
#include "testset/codec.h"

namespace reel::testset {

namespace {

std::string single_quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Double quotes keep JSON bodies readable ("{\"a\": 1}"), as in Keploy's files.
std::string double_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool shell_safe(std::string_view s) {
  for (char c : s) {
    if (std::string_view(" \t\n'\"\\$`&;|<>()*?[]{}!#~").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return !s.empty();
}

}  // namespace

std::string make_curl(const HttpRequest& req) {
  std::string out = fmt::format("curl --request {} \\\n  --url {}", req.method,
                                shell_safe(req.url) ? req.url : single_quoted(req.url));
  for (const auto& [name, value] : req.header) {
    if (protocols::iequals(name, "Content-Length")) continue;  // curl computes it
    out += fmt::format(" \\\n  --header {}", single_quoted(name + ": " + value));
  }
  if (req.body.empty()) return out;
  if (!protocols::is_text(req.body)) {
    return out + fmt::format(" \\\n  --data-binary @body.bin  # {} bytes of binary body",
                             req.body.size());
  }
  return out + " \\\n  --data " + double_quoted(req.body);
}

}  // namespace reel::testset
