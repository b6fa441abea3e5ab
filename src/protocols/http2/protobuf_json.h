// A protobuf message without its schema as JSON, for field-by-field diffs ("messages.0.2.1:
// 'Alice' -> 'Bob'") and mock matching.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace reel::protocols::grpc {

// Keys are field numbers ("1", "2", ...); a field seen more than once becomes an array in wire
// order. Varints and fixed32/fixed64 are unsigned integers. A length-delimited field is a string
// when it is printable UTF-8, else a nested object when it parses as a message, else
// {"bytes": "<base64>"}; groups are nested objects. nullopt when `bytes` is not a well-formed
// message (empty bytes are the empty message, {}).
std::optional<nlohmann::json> protobuf_json(std::string_view bytes);

}  // namespace reel::protocols::grpc
