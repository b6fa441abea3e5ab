// Protoscope (github.com/protocolbuffers/protoscope): the text language Keploy stores gRPC
// messages in (`decoded_data`). Field numbers, wire types and values, no schema:
//
//   1: 150                # varint
//   2: {"Alice"}          # length-delimited: text
//   3: {1: 5  2: {`00ff`}}  # a nested message, bytes in hex
//   4: 1.5i32             # fixed32 shown as a float; 5: 7i64 a fixed64
//   6: !{1: 2}            # a group
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace reel::protocols::grpc {

// Protobuf wire bytes as protoscope's default writer (protoscope.Write with no options) prints
// them, heuristics included: varints as signed decimals, I32/I64 as floats when they look like
// ones, LEN as a nested message when it parses as one, else as text when it is mostly printable
// UTF-8, else hex; anything that is not a field is dumped as hex. Any bytes at all are accepted
// and protoscope_scan(protoscope_write(b)) == b always holds. Deviations, none of which touch
// the bytes: LEN fields nested deeper than 64 messages are shown as text or hex, not parsed
// further; "printable" is Unicode's graphic classes without Unicode's tables (unassigned code
// points count as printable); remarks of runs of more than 512 lines may be padded differently.
std::string protoscope_write(std::string_view bytes);

// Protoscope text to bytes, per the language (language.txt): integers (decimal, 0x hex, negative,
// `z` zigzag, `i32`/`i64` fixed), floats (`1.5`, `1.5i32`, hex floats, inf32/inf64), true/false,
// "strings" with \n \" \\ \xHH \ooo escapes, `hex`, tags `N:` (type inferred from what follows)
// or `N:VARINT|I64|LEN|SGROUP|EGROUP|I32|0-7`, {} length prefixes, !{} groups, `long-form:N`,
// # comments. Errors name the line and column ("3:7: unmatched '{'").
Result<std::string> protoscope_scan(std::string_view text);

}  // namespace reel::protocols::grpc
