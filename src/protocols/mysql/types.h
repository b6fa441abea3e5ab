// MySQL/MariaDB client/server protocol frames and state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/types.h"

namespace reel::protocols::mysql {

// One physical packet: 3-byte length, sequence id, payload. Payloads of 0xffffff continue in
// the next packet; they are kept as separate frames (and are rare outside bulk loads).
struct Packet : FrameBase {
  std::uint32_t length = 0;  // payload length as declared
  std::uint8_t seq = 0;
  std::string payload;     // at most Limits::max_frame
  bool truncated = false;  // payload is a prefix
};

struct State {
  bool encrypted = false;  // the client sent SSLRequest: both streams are TLS from here on
  std::uint64_t encrypted_bytes = 0;
};

inline constexpr std::uint8_t kComQuit = 0x01;
inline constexpr std::uint8_t kComInitDb = 0x02;
inline constexpr std::uint8_t kComQuery = 0x03;
inline constexpr std::uint8_t kComFieldList = 0x04;
inline constexpr std::uint8_t kComStatistics = 0x09;
inline constexpr std::uint8_t kComStmtPrepare = 0x16;
inline constexpr std::uint8_t kComStmtExecute = 0x17;
inline constexpr std::uint8_t kComStmtSendLongData = 0x18;
inline constexpr std::uint8_t kComStmtClose = 0x19;
inline constexpr std::uint8_t kComChangeUser = 0x11;

// CLIENT_MYSQL (once CLIENT_LONG_PASSWORD): a MariaDB server leaves it unset in its greeting, and
// a client that leaves it unset too sends MariaDB's extended capabilities in its filler bytes.
inline constexpr std::uint32_t kClientMysql = 0x1;
inline constexpr std::uint32_t kClientSsl = 0x800;
inline constexpr std::uint32_t kClientDeprecateEof = 0x01000000;
inline constexpr std::uint16_t kServerMoreResultsExist = 0x0008;
// MariaDB extended capabilities (the upper 32 bits of its 64-bit set).
inline constexpr std::uint32_t kMariadbExtendedMetadata = 0x08;  // column defs grow a field

// Where a response stands: which packet the protocol expects next.
enum class Step : std::uint8_t {
  kFirst,         // OK, ERR, a column count, or a command-specific answer
  kColumnDefs,    // `remaining` column definitions
  kAfterColumns,  // EOF (old servers) or the first row
  kRows,          // rows until EOF/OK or ERR
  kFieldList,     // COM_FIELD_LIST: definitions until EOF
  kPrepParams,    // COM_STMT_PREPARE: parameter definitions, then maybe EOF
  kPrepColumns,   // ... column definitions, then maybe EOF
  kPrepEof,       // an optional EOF closing the last definition block
  kUntilOkOrErr,  // LOCAL INFILE upload, or re-authentication: over at OK or ERR
};

struct ResponseReader {
  std::uint8_t command = 0;
  Step step = Step::kFirst;
  std::uint64_t remaining = 0;
  std::uint16_t prep_columns = 0;
  std::uint8_t last_seq = 0;
  bool started = false;
  std::vector<std::uint8_t> column_types;  // for binary rows
};

struct Statement {
  std::string query;
  std::uint16_t params = 0;
  std::vector<std::uint16_t> param_types;  // from the last execute that sent them
};

struct StitchState {
  enum class Phase : std::uint8_t { kUnknown, kHandshake, kCommand } phase = Phase::kUnknown;
  std::uint32_t server_caps = 0;
  std::uint32_t client_caps = 0;
  std::uint32_t server_mariadb_caps = 0;  // MariaDB extended capabilities, both sides
  std::uint32_t client_mariadb_caps = 0;
  bool caps_known = false;
  std::map<std::uint32_t, Statement> statements;
  std::optional<std::string> preparing;  // query of the COM_STMT_PREPARE awaiting its OK
  ResponseReader reader;
  std::optional<Exchange> current;
  std::uint64_t rows = 0;
};

}  // namespace reel::protocols::mysql
