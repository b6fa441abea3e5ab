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

// gRPC verdicts: the recorded answer to a call against the new build's.
//
//  - status: grpc-status (from the trailers, or the headers of a trailers-only answer) and
//    :status must be equal;
//  - headers and trailers: each recorded one must be present with the same value, noise
//    respected ("header.<name>", "trailer.<name>"; pseudo-headers too: "header.:authority");
//    framing ones (content-length, grpc-encoding, ...) are skipped; grpc-message is compared
//    wherever each side carries it, as "trailer.grpc-message";
//  - messages: the count, then each message: as protobuf, field by field by field number
//    ("messages.0.2", repeated fields by index "messages.0.3.1"), else as bytes ("messages.0").
struct GrpcDiff {
  int expected_status = -1, actual_status = -1;  // grpc-status; -1 when absent
  int expected_http = 0, actual_http = 0;        // :status
  std::vector<FieldDiff> headers;                // header.<name> and trailer.<name>
  std::size_t expected_messages = 0, actual_messages = 0;
  std::vector<FieldDiff> messages;  // values as JSON text (protobuf) or quoted bytes

  bool status_ok() const {
    return expected_status == actual_status && expected_http == actual_http;
  }
  bool passed() const { return status_ok() && headers.empty() && messages.empty(); }
};

GrpcDiff compare_grpc(const GrpcResponse& expected, const GrpcResponse& actual,
                      const NoiseSet& noise);

// One line per difference, e.g.
//   status: expected OK (0), got NOT_FOUND (5)
//   messages: expected 3, got 2
//   messages.0.1: "Hello Alice" → "Hello Bob"
// Empty when the diff passed.
std::string render_grpc_diff(const GrpcDiff& diff, const RenderOptions& options = {});

// A gRPC status code by name with its number: "OK (0)", "NOT_FOUND (5)"; "none" for -1.
std::string grpc_status_text(int code);

// Unified diff of two texts by line ("--- expected", "+++ actual", "@@ … @@" hunks).
std::string unified_diff(std::string_view expected, std::string_view actual,
                         const RenderOptions& options = {});

}  // namespace reel::testset
