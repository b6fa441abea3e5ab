#include "protocols/mysql/decode.h"

#include <array>
#include <cstring>

#include "protocols/text.h"

namespace reel::protocols::mysql {

namespace {

constexpr std::uint32_t kClientConnectWithDb = 0x8;
constexpr std::uint32_t kClientSecureConnection = 0x8000;
constexpr std::uint32_t kClientPluginAuth = 0x80000;
constexpr std::uint32_t kClientLenencAuthData = 0x200000;

std::uint8_t first_byte(const Packet& p) {
  return p.payload.empty() ? 0 : static_cast<std::uint8_t>(p.payload[0]);
}

bool lenenc_string(ByteReader& r, std::string_view& out, bool& is_null) {
  std::uint64_t len = 0;
  if (!r.lenenc(len, &is_null)) return false;
  if (is_null) return true;
  return r.bytes(len, out);
}

}  // namespace

std::string command_name(std::uint8_t command) {
  static constexpr std::array<const char*, 32> kNames = {"COM_SLEEP",
                                                         "COM_QUIT",
                                                         "COM_INIT_DB",
                                                         "COM_QUERY",
                                                         "COM_FIELD_LIST",
                                                         "COM_CREATE_DB",
                                                         "COM_DROP_DB",
                                                         "COM_REFRESH",
                                                         "COM_SHUTDOWN",
                                                         "COM_STATISTICS",
                                                         "COM_PROCESS_INFO",
                                                         "COM_CONNECT",
                                                         "COM_PROCESS_KILL",
                                                         "COM_DEBUG",
                                                         "COM_PING",
                                                         "COM_TIME",
                                                         "COM_DELAYED_INSERT",
                                                         "COM_CHANGE_USER",
                                                         "COM_BINLOG_DUMP",
                                                         "COM_TABLE_DUMP",
                                                         "COM_CONNECT_OUT",
                                                         "COM_REGISTER_SLAVE",
                                                         "COM_STMT_PREPARE",
                                                         "COM_STMT_EXECUTE",
                                                         "COM_STMT_SEND_LONG_DATA",
                                                         "COM_STMT_CLOSE",
                                                         "COM_STMT_RESET",
                                                         "COM_SET_OPTION",
                                                         "COM_STMT_FETCH",
                                                         "COM_DAEMON",
                                                         "COM_BINLOG_DUMP_GTID",
                                                         "COM_RESET_CONNECTION"};
  if (command < kNames.size()) return kNames[command];
  return "COM_" + std::to_string(command);
}

Greeting greeting(const Packet& p) {
  Greeting g;
  ByteReader r(p.payload);
  std::uint8_t protocol = 0;
  std::string_view version;
  std::uint16_t caps_low = 0;
  if (!r.u8(protocol) || protocol != 10 || !r.cstring(version)) return g;
  g.valid = true;
  g.server_version = std::string(version);
  if (!r.le32(g.connection_id) || !r.skip(9) || !r.le16(caps_low)) return g;
  g.capabilities = caps_low;
  std::uint16_t caps_high = 0;
  std::uint8_t auth_len = 0;
  if (!r.skip(3) || !r.le16(caps_high) || !r.u8(auth_len) || !r.skip(6)) return g;
  g.capabilities |= std::uint32_t{caps_high} << 16;
  // The last 4 of the 10 reserved bytes: MariaDB's extended capabilities, when it says so.
  std::uint32_t extended = 0;
  if (!r.le32(extended)) return g;
  if ((g.capabilities & kClientMysql) == 0) g.mariadb_capabilities = extended;
  std::size_t auth2 = auth_len > 8 ? std::max<std::size_t>(13, auth_len - 8) : 13;
  std::string_view plugin;
  if (r.skip(auth2) && r.cstring(plugin)) g.auth_plugin = std::string(plugin);
  return g;
}

HandshakeResponse handshake_response(const Packet& p) {
  HandshakeResponse h;
  ByteReader r(p.payload);
  std::string_view user;
  std::uint32_t extended = 0;  // the last 4 of the 23 filler bytes
  if (!r.le32(h.capabilities) || !r.skip(4 + 1 + 19) || !r.le32(extended) || !r.cstring(user)) {
    return h;
  }
  if ((h.capabilities & kClientMysql) == 0) h.mariadb_capabilities = extended;
  h.user = std::string(user);
  std::uint64_t auth_len = 0;
  if (h.capabilities & kClientLenencAuthData) {
    if (!r.lenenc(auth_len)) return h;
  } else if (h.capabilities & kClientSecureConnection) {
    std::uint8_t len = 0;
    if (!r.u8(len)) return h;
    auth_len = len;
  } else {
    std::string_view ignored;
    if (!r.cstring(ignored)) return h;
  }
  std::string_view text;
  if (!r.skip(auth_len)) return h;  // the password proof is never kept
  if ((h.capabilities & kClientConnectWithDb) && r.cstring(text)) h.database = std::string(text);
  if ((h.capabilities & kClientPluginAuth) && r.cstring(text)) h.auth_plugin = std::string(text);
  return h;
}

bool is_ok(const Packet& p) { return first_byte(p) == 0x00 && !p.payload.empty(); }
bool is_err(const Packet& p) { return first_byte(p) == 0xff && !p.payload.empty(); }
bool is_eof(const Packet& p) { return first_byte(p) == 0xfe && p.length < 9; }
bool is_terminator(const Packet& p) {
  return first_byte(p) == 0xfe && !p.payload.empty() && p.length < 0xffffff;
}

Ok ok_packet(const Packet& p) {
  Ok ok;
  ByteReader r(p.payload);
  if (!r.skip(1) || !r.lenenc(ok.affected_rows) || !r.lenenc(ok.last_insert_id)) return ok;
  if (r.le16(ok.status)) r.le16(ok.warnings);
  return ok;
}

std::uint16_t eof_status(const Packet& p) {
  if (p.length >= 9 || p.payload.size() < 5) return ok_packet(p).status;
  ByteReader r(p.payload);
  std::uint16_t warnings = 0;
  std::uint16_t status = 0;
  r.skip(1);
  r.le16(warnings);
  r.le16(status);
  return status;
}

Err err_packet(const Packet& p) {
  Err e;
  ByteReader r(p.payload);
  if (!r.skip(1) || !r.le16(e.code)) return e;
  std::string_view rest = r.rest();
  if (rest.size() >= 6 && rest[0] == '#') {
    e.sql_state = std::string(rest.substr(1, 5));
    rest.remove_prefix(6);
  }
  e.message = std::string(rest);
  return e;
}

ColumnDef column_def(const Packet& p, bool extended_metadata) {
  ColumnDef c;
  ByteReader r(p.payload);
  std::string_view text;
  bool is_null = false;
  // catalog, schema, table, org_table, name, org_name, [MariaDB's extended metadata]
  for (int i = 0; i < (extended_metadata ? 7 : 6); ++i) {
    if (!lenenc_string(r, text, is_null)) return c;
    if (i == 4) c.name = std::string(text);
  }
  std::uint64_t fixed = 0;
  if (!r.lenenc(fixed) || !r.skip(2 + 4) || !r.u8(c.type)) return c;
  r.le16(c.flags);
  return c;
}

std::string text_row(const Packet& p, const Limits& limits) {
  std::string out;
  ByteReader r(p.payload);
  for (bool first = true; !r.empty(); first = false) {
    std::string_view value;
    bool is_null = false;
    if (!lenenc_string(r, value, is_null)) break;
    if (!first) out += '\t';
    out += is_null ? std::string("NULL") : render_value(value, limits.max_field);
  }
  return out;
}

std::string binary_row(const Packet& p, const std::vector<std::uint8_t>& types,
                       const Limits& limits) {
  std::string out;
  ByteReader r(p.payload);
  std::string_view bitmap;
  if (!r.skip(1) || !r.bytes((types.size() + 7 + 2) / 8, bitmap)) return out;
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (i > 0) out += '\t';
    std::size_t bit = i + 2;  // the binary row null bitmap is offset by two
    if (static_cast<std::uint8_t>(bitmap[bit / 8]) & (1u << (bit % 8))) {
      out += "NULL";
      continue;
    }
    std::string value;
    if (!binary_value(r, types[i], false, value, limits)) break;
    out += value;
  }
  return out;
}

PrepareOk prepare_ok(const Packet& p) {
  PrepareOk ok;
  ByteReader r(p.payload);
  if (r.skip(1) && r.le32(ok.statement_id) && r.le16(ok.columns)) r.le16(ok.params);
  return ok;
}

std::string query_text(const Packet& p) {
  std::string_view sql = p.payload.size() > 1 ? std::string_view(p.payload).substr(1) : "";
  // With CLIENT_QUERY_ATTRIBUTES the SQL follows a parameter count and a set count; SQL never
  // starts with a control byte, so a leading 0x00 (no attributes) gives them away.
  if (sql.size() >= 2 && sql[0] == '\0' && sql[1] == '\x01') sql.remove_prefix(2);
  return std::string(sql);
}

std::uint32_t statement_id(const Packet& p) {
  ByteReader r(p.payload);
  std::uint32_t id = 0;
  r.skip(1);
  r.le32(id);
  return id;
}

std::vector<std::string> execute_params(const Packet& p, Statement& statement,
                                        const Limits& limits) {
  std::vector<std::string> out;
  std::uint16_t n = statement.params;
  ByteReader r(p.payload);
  std::string_view bitmap;
  std::uint8_t bound = 0;
  if (n == 0 || !r.skip(1 + 4 + 1 + 4) || !r.bytes((n + 7) / 8, bitmap) || !r.u8(bound)) {
    return out;
  }
  if (bound) {
    statement.param_types.clear();
    for (std::uint16_t i = 0; i < n; ++i) {
      std::uint16_t t = 0;
      if (!r.le16(t)) return out;
      statement.param_types.push_back(t);
    }
  }
  if (statement.param_types.size() != n) return out;
  for (std::uint16_t i = 0; i < n && out.size() < limits.max_items; ++i) {
    if (static_cast<std::uint8_t>(bitmap[i / 8]) & (1u << (i % 8))) {
      out.emplace_back("NULL");
      continue;
    }
    std::string value;
    std::uint16_t t = statement.param_types[i];
    if (!binary_value(r, t & 0xff, (t & 0x8000) != 0, value, limits)) break;
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace reel::protocols::mysql
