// Noise: response fields whose values change from run to run (dates, ids, tokens) and so must
// not fail a replay. Found automatically when recording, read from reel.yaml, and written into
// each test as Keploy's assertions.noise so Keploy honours it too.
//
// Paths: "header.<Name>" (name case-insensitive), "body" (the whole body), "body.a.b" (JSON;
// array elements by index: "body.items.0.id"). Ignoring a path ignores everything under it.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "testset/model.h"

namespace reel::testset {

// One rule from reel.yaml. Exactly one of `path` and `path_regex` is set.
struct NoiseRule {
  // Dotted path; a segment "*" matches one segment, "**" any number (even none).
  std::string path;
  // ECMAScript regex over the whole path (header names lower-cased: "header.x-amzn-.*").
  std::string path_regex;
  // When set, the field is noise only while both values fully match this regex.
  std::string value_regex;
};

struct NoiseConfig {
  bool auto_detect = true;
  // Written into every gRPC test when auto_detect is on: what a client sets afresh on each call
  // (the deadline, its version, the encodings it accepts, the address it dialled) and the date.
  std::vector<std::string> grpc_defaults = {"header.grpc-timeout", "header.user-agent",
                                            "header.grpc-accept-encoding", "header.:authority",
                                            "header.date"};
  std::vector<NoiseRule> global;
  std::map<std::string, std::vector<NoiseRule>> test_sets;  // test set name -> rules
};

// Checks rules compiled once; invalid regexes are reported by compile().
class NoiseSet {
 public:
  NoiseSet();
  ~NoiseSet();
  NoiseSet(NoiseSet&&) noexcept;
  NoiseSet& operator=(NoiseSet&&) noexcept;

  // A test's own assertions.noise.
  static Result<NoiseSet> compile(const NoiseMap& noise, const std::vector<NoiseRule>& rules = {});
  Result<void> add(const NoiseMap& noise);
  Result<void> add(const std::vector<NoiseRule>& rules);

  // True when `path` is noise given the recorded and replayed values of the field.
  bool ignores(std::string_view path, std::string_view expected, std::string_view actual) const;
  // True when `path` or anything under it may be noise (so a missing field is forgiven).
  bool ignores_absent(std::string_view path) const;

 private:
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> rules_;
};

// By shape, from one response: volatile headers (Date, Last-Modified, Expires, ETag,
// Set-Cookie, Age, request/trace/correlation ids, timing headers) and JSON fields holding
// timestamps (RFC 3339, HTTP dates, epoch milliseconds, epoch seconds under a time-like key),
// UUIDs and long random tokens (JWTs, high-entropy strings).
NoiseMap detect_noise(const HttpResponse& resp);

// By comparison: fields whose values differ between two responses to the same request.
NoiseMap detect_noise_between(const HttpResponse& first, const HttpResponse& second);

// Concrete paths of `resp` matched by `rules`, for writing into a test case (Keploy's noise has
// no globs). A rule with a value regex carries it as the path's value list.
Result<NoiseMap> noise_from_rules(const HttpResponse& resp, const std::vector<NoiseRule>& rules);

// What `reel record` writes for one test: detect_noise (when enabled) plus the global and the
// test set's rules, merged.
Result<NoiseMap> compute_noise(const HttpResponse& resp, const NoiseConfig& config,
                               std::string_view test_set);

// Every path of `resp` a rule can name: header.<Name> for each header, body.<...> leaves of a
// JSON body, or "body".
std::vector<std::string> response_paths(const HttpResponse& resp);

void merge_noise(NoiseMap& into, const NoiseMap& from);

// gRPC answers, with the paths compare_grpc uses: "header.<name>" (pseudo-headers too),
// "trailer.<name>", "messages.N.<field>..." (protobuf by field number) or "messages.N" (bytes).
// By shape, as detect_noise: volatile headers and trailers, message fields holding times, UUIDs,
// random tokens.
NoiseMap detect_grpc_noise(const GrpcResponse& resp);
std::vector<std::string> grpc_response_paths(const GrpcResponse& resp);
Result<NoiseMap> grpc_noise_from_rules(const GrpcResponse& resp,
                                       const std::vector<NoiseRule>& rules);
// What `reel record` writes for one gRPC test: the config's grpc_defaults and
// detect_grpc_noise (when enabled) plus the global and the test set's rules.
Result<NoiseMap> compute_grpc_noise(const GrpcResponse& resp, const NoiseConfig& config,
                                    std::string_view test_set);

}  // namespace reel::testset
