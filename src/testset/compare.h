// Replay verdicts: the recorded response against the one the new build gave, noise ignored.
//
//  - status: must be equal;
//  - headers: each recorded header must be present with the same value (names case-insensitive);
//    extra headers in the new response are not failures; framing headers (Content-Length,
//    Transfer-Encoding, Connection, Keep-Alive) are skipped: the body comparison covers them;
//  - body: JSON-aware when the recorded body is a JSON object or array (key order ignored, noise
//    paths ignored, numbers compared by value); otherwise the exact bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "testset/model.h"
#include "testset/noise.h"

namespace reel::testset {

struct FieldDiff {
  enum class Kind : std::uint8_t { kChanged, kMissing, kUnexpected };
  Kind kind = Kind::kChanged;
  std::string path;      // "header.Content-Type", "body.items.2.price", "body"
  std::string expected;  // JSON text for JSON values; empty for kUnexpected
  std::string actual;    // empty for kMissing
};

struct ResponseDiff {
  int expected_status = 0;
  int actual_status = 0;
  std::vector<FieldDiff> headers;
  bool body_json = false;       // compared as JSON
  std::vector<FieldDiff> body;  // JSON: one per path; otherwise at most one, path "body"
  // Kept for the text rendering of a non-JSON body difference.
  std::string expected_body;
  std::string actual_body;

  bool status_ok() const { return expected_status == actual_status; }
  bool passed() const { return status_ok() && headers.empty() && body.empty(); }
};

ResponseDiff compare_responses(const HttpResponse& expected, const HttpResponse& actual,
                               const NoiseSet& noise);

struct RenderOptions {
  bool color = true;              // ANSI colours: red expected, green actual
  std::size_t context_lines = 3;  // around changes in a text body diff
  std::size_t max_lines = 200;    // the body diff is cut after this many lines
};

// A readable report: status, header by header, then the body: path by path for JSON,
// unified-diff style for text. Empty when the diff passed.
std::string render_diff(const ResponseDiff& diff, const RenderOptions& options = {});

// Unified diff of two texts by line ("--- expected", "+++ actual", "@@ … @@" hunks).
std::string unified_diff(std::string_view expected, std::string_view actual,
                         const RenderOptions& options = {});

}  // namespace reel::testset
