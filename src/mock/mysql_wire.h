// MySQL packets as the mock recorder stores them and the responder reads them back.
//
// A mock is one command and its whole response, or the connection phase (greeting, handshake
// response, auth exchange, OK). Each stored packet Value has Keploy's MySQL shape,
// {header: {header: {payload_length, sequence_id}, packet_type}, message: {...}}, plus
// `payload`: base64 of the wire bytes, 4-byte headers included. A response is one Value for
// all its packets (a result set or a prepare-OK with its definitions), as Keploy does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "protocols/mysql/types.h"
#include "testset/redact.h"
#include "testset/yaml_value.h"

namespace reel::mock::my {

using protocols::mysql::Packet;

inline constexpr std::uint32_t kClientSsl = 0x800;
inline constexpr std::uint32_t kClientDeprecateEof = 0x01000000;

// Header and payload as they went over the wire.
std::string wire(const Packet& p);
std::string wire(const std::vector<Packet>& packets);
// Whole packets only; false otherwise.
bool split(std::string_view bytes, std::vector<Packet>& out);

inline std::uint8_t first_byte(const Packet& p) {
  return p.payload.empty() ? 0 : static_cast<std::uint8_t>(p.payload[0]);
}
// Commands whose first argument is a statement id (EXECUTE, SEND_LONG_DATA, CLOSE, RESET,
// FETCH).
bool has_statement_id(std::uint8_t command);
// Commands the server does not answer.
inline bool unanswered(std::uint8_t command) {
  return command == 0x01 || command == 0x18 || command == 0x19;
}

// `packets` under one Value. `type` is Keploy's packet_type ("COM_QUERY", "OK",
// "TextResultSet", ...). Without payload when `keep_payload` is false (a redacted secret).
testset::Value packet_value(const std::vector<Packet>& packets, std::string_view type,
                            testset::Value message, bool keep_payload = true);

// Values for the connection phase; the client's packets carry their secrets through
// `redactor` (nullptr: kept as sent).
testset::Value server_handshake_value(const Packet& p, bool first);
testset::Value client_handshake_value(const Packet& p, bool first,
                                      const testset::Redactor* redactor);
// A command; `statement_sql` is the SQL of the statement an id names (EXECUTE...), if known.
testset::Value command_value(const Packet& p, const std::string& statement_sql,
                             const std::vector<std::string>& params);
// A command's whole response. `command` tells a binary result set from a text one.
testset::Value response_value(const std::vector<Packet>& packets, std::uint8_t command);

// Builders for the responder.
std::string ok_packet(std::uint8_t seq, std::uint16_t status = 0x0002);
std::string err_packet(std::uint8_t seq, std::uint16_t code, std::string_view state,
                       std::string_view message);
// A protocol-10 greeting offering mysql_native_password with a fresh random salt.
std::string built_greeting(std::uint32_t connection_id);
// A recorded greeting without CLIENT_SSL (we cannot speak TLS), or "" when it is not one.
std::string without_ssl(std::string_view greeting_wire);
std::uint32_t greeting_caps(std::string_view greeting_wire);

// Keploy's decoded packets (no payload), rebuilt from their fields (mysql_keploy.cc). Errors
// name the line and what is missing ("line 12: COM_STMT_EXECUTE without statement_id").
std::string keploy_type(const testset::Value& packet);  // header.packet_type
// A command's payload (no header).
Result<std::string> keploy_command(const testset::Value& packet);
// A response's wire bytes, for a client without and with CLIENT_DEPRECATE_EOF.
struct KeployAnswer {
  std::string classic;
  std::string ok_eof;
};
Result<KeployAnswer> keploy_response(const testset::Value& packet);
// A HandshakeV10's wire bytes; "" when its fields do not make one.
std::string keploy_greeting(const testset::Value& packet);

}  // namespace reel::mock::my
