// gRPC over HTTP/2: length-prefixed messages (a compressed flag and a 4-byte length), their
// gzip/deflate compression, status codes, and protobuf shown without a schema.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/http2/types.h"

namespace reel::protocols::grpc {

// "OK", "CANCELLED", ... for codes 0-16; the number otherwise.
std::string status_name(std::string_view code);

// Inflates a gzip ("gzip") or zlib ("deflate") payload into at most `cap` bytes; nullopt when
// the encoding is another one or the bytes are corrupt.
std::optional<std::string> decompress(std::string_view data, std::string_view encoding,
                                      std::size_t cap);

// Protobuf wire format as `protoc --decode_raw` shows it: "1: 150", "2: \"text\"", nested
// messages in braces. nullopt when `data` is not a well-formed message.
std::optional<std::string> decode_protobuf(std::string_view data, std::size_t cap);

// Every kept message of a splitter, one after another, decoded where it can be:
//   #1 (7 bytes)
//   1: 150
std::string render_messages(const http2::GrpcSplitter& s, std::string_view encoding,
                            std::size_t cap);

}  // namespace reel::protocols::grpc
