#include "mock/mysql_wire.h"

#include <random>

#include "core/encoding.h"
#include "protocols/byte_reader.h"
#include "protocols/mysql/decode.h"
#include "protocols/mysql/parse.h"

namespace reel::mock::my {

namespace pm = protocols::mysql;
using protocols::ByteReader;
using testset::Value;

namespace {

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

std::string with_header(std::uint8_t seq, std::string_view payload) {
  std::string out;
  put_le(out, payload.size(), 3);
  out.push_back(static_cast<char>(seq));
  out.append(payload);
  return out;
}

Value int_value(std::uint64_t v) { return Value::integer(static_cast<std::int64_t>(v)); }

Value ok_message(const Packet& p) {
  pm::Ok ok = pm::ok_packet(p);
  Value m = Value::mapping();
  m.add("header", int_value(first_byte(p)));
  m.add("affected_rows", int_value(ok.affected_rows));
  m.add("last_insert_id", int_value(ok.last_insert_id));
  m.add("status_flags", int_value(ok.status));
  m.add("warnings", int_value(ok.warnings));
  return m;
}

Value err_message(const Packet& p) {
  pm::Err e = pm::err_packet(p);
  Value m = Value::mapping();
  m.add("header", int_value(0xff));
  m.add("error_code", int_value(e.code));
  m.add("sql_state", Value::string(e.sql_state));
  m.add("error_message", Value::string(e.message));
  return m;
}

Value result_set_message(const std::vector<Packet>& packets) {
  Value m = Value::mapping();
  ByteReader r(packets.front().payload);
  std::uint64_t count = 0;
  r.lenenc(count);
  m.add("column_count", int_value(count));
  Value& columns = m.add("columns", Value::sequence());
  std::size_t i = 1;
  for (; i < packets.size() && i <= count && columns.items.size() < 1024; ++i) {
    columns.push(Value::string(pm::column_def(packets[i]).name));
  }
  std::uint64_t rows = 0;
  for (; i < packets.size(); ++i) {
    if (!pm::is_terminator(packets[i]) && !pm::is_err(packets[i])) rows++;
  }
  m.add("rows", int_value(rows));
  return m;
}

}  // namespace

std::string wire(const Packet& p) { return with_header(p.seq, p.payload); }

std::string wire(const std::vector<Packet>& packets) {
  std::string out;
  for (const auto& p : packets) out += wire(p);
  return out;
}

bool split(std::string_view bytes, std::vector<Packet>& out) {
  pm::State state;
  protocols::Limits limits;
  limits.max_frame = bytes.size() + 1;
  while (!bytes.empty()) {
    Packet p;
    auto res = pm::parse_frame(protocols::MessageType::kResponse, protocols::as_bytes(bytes), p,
                               state, limits);
    if (res.state != protocols::ParseState::kParsed || res.consumed > bytes.size()) return false;
    bytes.remove_prefix(res.consumed);
    out.push_back(std::move(p));
  }
  return true;
}

bool has_statement_id(std::uint8_t command) {
  return command == 0x17 || command == 0x18 || command == 0x19 || command == 0x1a ||
         command == 0x1c;
}

Value packet_value(const std::vector<Packet>& packets, std::string_view type, Value message,
                   bool keep_payload) {
  Value v = Value::mapping();
  Value& header = v.add("header", Value::mapping());
  Value& inner = header.add("header", Value::mapping());
  inner.add("payload_length", int_value(packets.empty() ? 0 : packets.front().length));
  inner.add("sequence_id", int_value(packets.empty() ? 0 : packets.front().seq));
  header.add("packet_type", Value::string(std::string(type)));
  v.add("message", std::move(message));
  if (keep_payload) v.add("payload", Value::string(base64_encode(wire(packets))));
  return v;
}

Value server_handshake_value(const Packet& p, bool first) {
  if (first) {
    pm::Greeting g = pm::greeting(p);
    Value m = Value::mapping();
    m.add("protocol_version", int_value(10));
    m.add("server_version", Value::string(g.server_version));
    m.add("connection_id", int_value(g.connection_id));
    m.add("capability_flags", int_value(g.capabilities));
    m.add("auth_plugin_name", Value::string(g.auth_plugin));
    return packet_value({p}, "HandshakeV10", std::move(m));
  }
  switch (first_byte(p)) {
    case 0x00:
      return packet_value({p}, "OK", ok_message(p));
    case 0xff:
      return packet_value({p}, "ERR", err_message(p));
    case 0xfe: {
      Value m = Value::mapping();
      ByteReader r(p.payload);
      std::string_view plugin;
      if (r.skip(1) && r.cstring(plugin)) m.add("plugin_name", Value::string(std::string(plugin)));
      return packet_value({p}, "AuthSwitchRequest", std::move(m));
    }
    default:
      return packet_value({p}, "AuthMoreData", Value::mapping());
  }
}

Value client_handshake_value(const Packet& p, bool first, const testset::Redactor* redactor) {
  bool redact = redactor && redactor->enabled();
  Value m = Value::mapping();
  if (first && pm::is_ssl_request(p)) return packet_value({p}, "SSLRequest", std::move(m));
  if (!first) {
    if (redact) m.add("auth_data", Value::string(redactor->redact_db_password(p.payload)));
    return packet_value({p}, "AuthSwitchResponse", std::move(m), !redact);
  }
  pm::HandshakeResponse h = pm::handshake_response(p);
  m.add("capability_flags", int_value(h.capabilities));
  m.add("username", Value::string(h.user));
  if (redact) m.add("auth_response", Value::string(redactor->redact_db_password(p.payload)));
  m.add("database", Value::string(h.database));
  m.add("auth_plugin_name", Value::string(h.auth_plugin));
  return packet_value({p}, "HandshakeResponse41", std::move(m), !redact);
}

Value command_value(const Packet& p, const std::string& statement_sql,
                    const std::vector<std::string>& params) {
  std::uint8_t command = first_byte(p);
  Value m = Value::mapping();
  if (command == pm::kComQuery || command == pm::kComStmtPrepare) {
    m.add("query", Value::string(pm::query_text(p)));
  } else if (command == pm::kComInitDb) {
    m.add("schema_name", Value::string(p.payload.substr(1)));
  } else if (has_statement_id(command)) {
    m.add("statement_id", int_value(pm::statement_id(p)));
    if (!statement_sql.empty()) m.add("query", Value::string(statement_sql));
    if (!params.empty()) {
      Value& list = m.add("parameters", Value::sequence());
      for (const auto& s : params) list.push(Value::string(s));
    }
  }
  return packet_value({p}, pm::command_name(command), std::move(m));
}

Value response_value(const std::vector<Packet>& packets, std::uint8_t command) {
  const Packet& p = packets.front();
  if (pm::is_err(p)) return packet_value(packets, "ERR", err_message(p));
  if (pm::is_ok(p) && command == pm::kComStmtPrepare) {
    pm::PrepareOk ok = pm::prepare_ok(p);
    Value m = Value::mapping();
    m.add("status", int_value(0));
    m.add("statement_id", int_value(ok.statement_id));
    m.add("num_columns", int_value(ok.columns));
    m.add("num_params", int_value(ok.params));
    return packet_value(packets, "COM_STMT_PREPARE_OK", std::move(m));
  }
  if (pm::is_ok(p)) return packet_value(packets, "OK", ok_message(p));
  if (pm::is_eof(p)) return packet_value(packets, "EOF", Value::mapping());
  std::string_view type =
      command == pm::kComStmtExecute ? "BinaryProtocolResultSet" : "TextResultSet";
  return packet_value(packets, type, result_set_message(packets));
}

std::string ok_packet(std::uint8_t seq, std::uint16_t status) {
  std::string payload("\0\0\0", 3);
  put_le(payload, status, 2);
  put_le(payload, 0, 2);
  return with_header(seq, payload);
}

std::string err_packet(std::uint8_t seq, std::uint16_t code, std::string_view state,
                       std::string_view message) {
  std::string payload(1, '\xff');
  put_le(payload, code, 2);
  payload += '#';
  payload += std::string(state.substr(0, 5));
  payload.resize(9, '0');
  payload += message;
  return with_header(seq, payload);
}

std::string built_greeting(std::uint32_t connection_id) {
  constexpr std::uint32_t kCaps = 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000200 |
                                  0x00002000 | 0x00008000 | 0x00010000 | 0x00020000 | 0x00040000 |
                                  0x00080000 | 0x00100000 | 0x00200000 | kClientDeprecateEof;
  std::random_device rd;
  std::string salt;
  while (salt.size() < 20) salt.push_back(static_cast<char>(0x21 + rd() % 94));  // no NUL
  std::string p(1, '\x0a');
  p += std::string("8.0.36-reel") + '\0';
  put_le(p, connection_id, 4);
  p += salt.substr(0, 8) + '\0';
  put_le(p, kCaps & 0xffff, 2);
  p.push_back('\xff');   // utf8mb4_0900_ai_ci
  put_le(p, 0x0002, 2);  // autocommit
  put_le(p, kCaps >> 16, 2);
  p.push_back(21);
  p += std::string(10, '\0');
  p += salt.substr(8) + '\0';
  p += std::string("mysql_native_password") + '\0';
  return with_header(0, p);
}

namespace {
// Offset of the low capability bytes in a greeting's wire bytes; 0 when it is not one.
std::size_t caps_offset(std::string_view w) {
  if (w.size() < 5 || w[4] != '\x0a') return 0;
  std::size_t nul = w.find('\0', 5);
  if (nul == std::string_view::npos) return 0;
  std::size_t at = nul + 1 + 4 + 8 + 1;
  return at + 2 <= w.size() ? at : 0;
}
}  // namespace

std::uint32_t greeting_caps(std::string_view w) {
  std::size_t at = caps_offset(w);
  if (at == 0) return 0;
  std::uint32_t caps =
      static_cast<unsigned char>(w[at]) | (static_cast<unsigned char>(w[at + 1]) << 8);
  if (at + 7 <= w.size()) {
    caps |= (static_cast<std::uint32_t>(static_cast<unsigned char>(w[at + 5])) |
             (static_cast<unsigned char>(w[at + 6]) << 8))
            << 16;
  }
  return caps;
}

std::string without_ssl(std::string_view w) {
  std::size_t at = caps_offset(w);
  if (at == 0) return {};
  std::string out(w);
  out[at + 1] = static_cast<char>(static_cast<unsigned char>(out[at + 1]) & ~(kClientSsl >> 8));
  return out;
}

}  // namespace reel::mock::my
