// gRPC's length-prefixed messages as `reel test` sends and reads them: the recorded messages
// framed again (compressed again where they travelled compressed), the app's answer split and
// decompressed so it compares with the recording's decompressed `data`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "testset/model.h"

namespace reel::replay {

// gzip or deflate (zlib format), as grpc-encoding names them; nullopt for any other encoding.
std::optional<std::string> grpc_compress(std::string_view data, std::string_view encoding);

// Each message behind its 5-byte prefix; a message whose `compressed` flag is set is compressed
// with `encoding` (the request's grpc-encoding). Fails when that encoding is one reel cannot
// produce.
Result<std::string> grpc_frame_messages(const std::vector<testset::GrpcMessage>& messages,
                                        std::string_view encoding);

// The DATA bytes of one direction as messages, each decompressed with `encoding` when its flag
// says so. Fails, saying which message, on a body cut inside a message or an encoding reel
// cannot undo. `side` names the direction in errors ("response").
Result<std::vector<testset::GrpcMessage>> grpc_split_messages(std::string_view body,
                                                              std::string_view encoding,
                                                              std::string_view side);

}  // namespace reel::replay
