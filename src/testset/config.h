// The testset/ part of reel.yaml (noise, redaction, file mode). Other top-level sections belong to
// other parts of reel and are ignored here; inside these three, an unknown key is an error, so a
// typo does not silently turn a rule off.
//
//   noise:
//     auto: true                          # shape-based detection when recording (default true);
//                                         # gRPC tests also get NoiseConfig::grpc_defaults
//                                         # (grpc-timeout, user-agent, grpc-accept-encoding,
//                                         # :authority, date)
//     global:                             # rules for every test set
//       - header.X-Request-Start          # a path on its own
//       - path: body.items.*.updatedAt    # '*' = one segment, '**' = any number of segments
//       - path: body.version
//         value: '^v\d+\.\d+\.\d+$'       # noise only while both values fully match
//       - path_regex: '^header\.x-amzn-.*' # ECMAScript regex over the path (header names
//                                          # lower-case)
//     test_sets:                          # rules for one test set, added to the global ones
//       test-set-0:
//         - body.session.id
//   redact:
//     enabled: true                       # false writes secrets to disk as captured
//     headers: [X-Internal-Auth, X-*-Signature]   # more header names, '*' glob, any case
//     fields: [ssn, card_number]          # more JSON/form/query field names, any case
//   files:
//     mode: "0644"                        # or "0600": recordings readable by the owner only
//
// Paths: header.<Name>, body (whole body), body.<key>.<key>... with array indices as keys; for
// gRPC tests header.<name>, trailer.<name>, messages.<N>.<field number>... (noise.h).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "core/result.h"
#include "testset/noise.h"
#include "testset/redact.h"

namespace reel::testset {

struct ReelConfig {
  NoiseConfig noise;
  RedactionConfig redact;
  mode_t file_mode = 0640;
};

Result<ReelConfig> parse_reel_config(std::string_view yaml, std::string_view source);
// A file that does not exist gives the defaults.
Result<ReelConfig> load_reel_config(const std::filesystem::path& path);

}  // namespace reel::testset
