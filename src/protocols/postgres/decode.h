// Reads the contents of PostgreSQL messages the stitcher reports on. Every function accepts a
// truncated or malformed payload and returns what it could read.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "protocols/postgres/types.h"

namespace reel::protocols::postgres {

// StartupMessage parameters after the protocol code: user, database, application_name, ...
std::vector<std::pair<std::string, std::string>> startup_params(const Message& m);
std::uint32_t request_code(const Message& m);  // of an untyped message; 0 when unreadable

std::string query_text(const Message& m);  // 'Q'

struct ParseMsg {
  std::string statement;  // "" is the unnamed statement
  std::string query;
};
ParseMsg parse_msg(const Message& m);  // 'P'

struct BindMsg {
  std::string portal;
  std::string statement;
  std::vector<std::string> params;  // text as is, binary as hex, NULL as "NULL"
};
BindMsg bind_msg(const Message& m, const Limits& limits);  // 'B'

std::vector<std::string> column_names(const Message& m, const Limits& limits);  // 'T'
// 'D': values joined by tabs, NULL as "NULL".
std::string data_row(const Message& m, const Limits& limits);
std::string command_tag(const Message& m);  // 'C'

struct ErrorInfo {
  std::string severity;  // "ERROR", "FATAL", "NOTICE"...
  std::string code;      // SQLSTATE "42P01"
  std::string message;
  std::string detail;
};
ErrorInfo error_info(const Message& m);  // 'E', 'N'

std::int32_t auth_code(const Message& m);  // 'R': 0 ok, 3 cleartext, 5 md5, 10 SASL...
std::string auth_name(std::int32_t code);
std::pair<std::string, std::string> parameter_status(const Message& m);  // 'S' from the server
std::string notification(const Message& m);                              // 'A': "channel: payload"

}  // namespace reel::protocols::postgres
