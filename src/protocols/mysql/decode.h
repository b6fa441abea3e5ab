// Reads the contents of MySQL packets. Every function accepts a truncated or malformed payload
// and returns what it could read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/byte_reader.h"
#include "protocols/mysql/types.h"

namespace reel::protocols::mysql {

std::string command_name(std::uint8_t command);  // "COM_QUERY"

struct Greeting {
  bool valid = false;
  std::string server_version;
  std::uint32_t connection_id = 0;
  std::uint32_t capabilities = 0;
  std::uint32_t mariadb_capabilities = 0;  // a MariaDB server's extended ones
  std::string auth_plugin;
};
Greeting greeting(const Packet& p);  // protocol 10 handshake, sequence 0 from the server

struct HandshakeResponse {
  std::uint32_t capabilities = 0;
  std::uint32_t mariadb_capabilities = 0;  // the extended ones a MariaDB client asks for
  std::string user;
  std::string database;
  std::string auth_plugin;
};
HandshakeResponse handshake_response(const Packet& p);  // the client's answer (41 format)

struct Ok {
  std::uint64_t affected_rows = 0;
  std::uint64_t last_insert_id = 0;
  std::uint16_t status = 0;
  std::uint16_t warnings = 0;
};
Ok ok_packet(const Packet& p);              // 0x00, or 0xfe standing in for EOF
std::uint16_t eof_status(const Packet& p);  // status flags of an EOF (or OK-as-EOF) packet

struct Err {
  std::uint16_t code = 0;
  std::string sql_state;
  std::string message;
};
Err err_packet(const Packet& p);

bool is_ok(const Packet& p);
bool is_err(const Packet& p);
bool is_eof(const Packet& p);         // 0xfe, under 9 bytes: the classic EOF
bool is_terminator(const Packet& p);  // 0xfe ending rows: EOF or, with DEPRECATE_EOF, an OK

struct ColumnDef {
  std::string name;
  std::uint8_t type = 0;
  std::uint16_t flags = 0;
};
// `extended_metadata`: the connection negotiated MariaDB's extended metadata, a length-encoded
// block after org_name.
ColumnDef column_def(const Packet& p, bool extended_metadata = false);

// Rows rendered with tabs between values, NULL as "NULL".
std::string text_row(const Packet& p, const Limits& limits);
std::string binary_row(const Packet& p, const std::vector<std::uint8_t>& types,
                       const Limits& limits);

struct PrepareOk {
  std::uint32_t statement_id = 0;
  std::uint16_t columns = 0;
  std::uint16_t params = 0;
};
PrepareOk prepare_ok(const Packet& p);

// The SQL of COM_QUERY / COM_STMT_PREPARE (skipping query attributes when present).
std::string query_text(const Packet& p);
std::uint32_t statement_id(const Packet& p);  // of COM_STMT_EXECUTE / CLOSE / RESET
// COM_STMT_EXECUTE parameter values, using (and updating) what the statement knows.
std::vector<std::string> execute_params(const Packet& p, Statement& statement,
                                        const Limits& limits);

// One binary-protocol value of MySQL column type `type` at the reader; false when unreadable.
bool binary_value(ByteReader& r, std::uint8_t type, bool is_unsigned, std::string& out,
                  const Limits& limits);

}  // namespace reel::protocols::mysql
