// Writes a Value as YAML laid out the way Keploy's files are: Go's gopkg.in/yaml.v3 encoder with
// a 4-space indent and no line wrapping. Matching it byte for byte is what makes `diff` between a
// reel file and a Keploy file show only real differences. yaml-cpp's emitter is not used: its
// indentation and quoting choices differ (it would write Content-Length: 50 where Go writes
// Content-Length: "50").
#pragma once

#include <string>
#include <string_view>

#include "testset/yaml_value.h"

namespace reel::testset {

// Appends one document (no "---" marker), ending in a newline.
void emit_yaml(const Value& doc, std::string& out);
std::string emit_yaml(const Value& doc);

// How Go's yaml.v3 would write `text` as a string scalar in block context, e.g. plain
// `application/json`, single-quoted '*/*', double-quoted "50". Exposed for tests.
std::string yaml_scalar(std::string_view text);

}  // namespace reel::testset
