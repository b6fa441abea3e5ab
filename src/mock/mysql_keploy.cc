// Keploy's decoded MySQL packets (no `payload`): the wire bytes rebuilt from the fields Keploy
// writes (pkg/models/mysql: comm.go, conn.go, generic.go). A packet is
// {header: {header: {payload_length, sequence_id}, packet_type}, message: {...}}; the older
// shape, {header: {packet_length, packet_number, packet_type}, message} with rows under
// `row_column_definition` and `column_type`, is read too.
//
// A result set is rebuilt twice: with an EOF after the columns and an EOF at the end (a client
// without CLIENT_DEPRECATE_EOF), and without the first and with an OK-as-EOF at the end (one
// with it), whichever Keploy recorded; the responder sends the one its client negotiated.
// Sequence ids run on from the first packet's, as a server numbers them.
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "mock/keploy_fields.h"
#include "mock/mysql_wire.h"
#include "protocols/mysql/decode.h"

namespace reel::mock::my {

namespace {

using testset::Value;
using keploy::any;
using keploy::bytes_of;
using keploy::int_of;
using keploy::member;
using keploy::number;
using keploy::text_of;

bool flag_of(const Value* v) { return v && v->is_scalar() && (v->text == "true" || v->text == "1"); }

void le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void lenenc(std::string& out, std::uint64_t v) {
  if (v < 251) {
    out.push_back(static_cast<char>(v));
  } else if (v < (1u << 16)) {
    out.push_back('\xfc');
    le(out, v, 2);
  } else if (v < (1u << 24)) {
    out.push_back('\xfd');
    le(out, v, 3);
  } else {
    out.push_back('\xfe');
    le(out, v, 8);
  }
}
void lenenc_str(std::string& out, std::string_view s) {
  lenenc(out, s.size());
  out.append(s);
}

// Packets of one response, numbered on from the first.
struct Packets {
  std::uint8_t seq = 1;
  std::string bytes;
  void add(std::string_view payload) {
    le(bytes, payload.size(), 3);
    bytes.push_back(static_cast<char>(seq++));
    bytes.append(payload);
  }
};

int line_of(const Value& v, const Value* inner = nullptr) {
  return inner && inner->line ? inner->line : v.line;
}

std::string eof_payload(std::uint16_t warnings, std::uint16_t status) {
  std::string p(1, '\xfe');
  le(p, warnings, 2);
  le(p, status, 2);
  return p;
}
std::string ok_eof_payload(std::uint16_t warnings, std::uint16_t status) {
  std::string p("\xfe\x00\x00", 3);
  le(p, status, 2);
  le(p, warnings, 2);
  return p;
}

// Status and warnings of a recorded terminator, whole packet (header included) as Keploy keeps
// eofAfterColumns and FinalResponse.data.
struct Terminator {
  std::uint16_t status = 0x0002;
  std::uint16_t warnings = 0;
};
Terminator terminator_of(const Value* v, Terminator fallback) {
  auto bytes = bytes_of(v);
  if (!bytes || bytes->size() < 9 || static_cast<unsigned char>((*bytes)[4]) != 0xfe)
    return fallback;
  auto at = [&](std::size_t i) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>((*bytes)[i]) |
                                      (static_cast<unsigned char>((*bytes)[i + 1]) << 8));
  };
  std::size_t length = static_cast<unsigned char>((*bytes)[0]);
  if (length == 5) return {at(7), at(5)};  // EOF: warnings, status
  // OK-as-EOF: two length-encoded integers, then status and warnings.
  std::size_t i = 5;
  for (int n = 0; n < 2 && i < bytes->size(); ++n) {
    auto first = static_cast<unsigned char>((*bytes)[i]);
    i += first < 251 ? 1 : first == 0xfc ? 3 : first == 0xfd ? 4 : 9;
  }
  if (i + 4 > bytes->size()) return fallback;
  return {at(i), at(i + 2)};
}

Result<std::string> column_def(const Value& c, std::size_t n) {
  const Value* type = any(&c, {"type", "column_type"});
  if (!c.is_mapping() || !type) return fail_msg("line {}: column #{} without its type", c.line, n + 1);
  if (!member(&c, "name")) return fail_msg("line {}: column #{} without its name", c.line, n + 1);
  std::string p;
  const Value* catalog = member(&c, "catalog");
  lenenc_str(p, catalog ? text_of(catalog) : "def");
  for (auto key : {"schema", "table", "org_table", "name", "org_name"})
    lenenc_str(p, text_of(member(&c, key)));
  p.push_back(static_cast<char>(int_of(member(&c, "fixed_length"), 0x0c)));
  le(p, int_of(member(&c, "character_set")), 2);
  le(p, int_of(member(&c, "column_length")), 4);
  p.push_back(static_cast<char>(int_of(type)));
  le(p, int_of(member(&c, "flags")), 2);
  p.push_back(static_cast<char>(int_of(member(&c, "decimals"))));
  p += std::string(2, '\0');
  std::string def = text_of(any(&c, {"defaultValue", "default_value"}));
  if (!def.empty()) lenenc_str(p, def);
  return p;
}

// Digits of "2024-05-06 07:08:09.123456" (or with 'T'), "-838:59:59", "1 02:03:04".
std::vector<std::uint64_t> numbers_in(std::string_view s) {
  std::vector<std::uint64_t> out;
  std::uint64_t cur = 0;
  int digits = 0;
  std::size_t frac_start = std::string_view::npos;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      cur = cur * 10 + static_cast<std::uint64_t>(s[i] - '0');
      digits++;
      continue;
    }
    if (digits) {
      if (frac_start != std::string_view::npos) {
        for (; digits < 6; ++digits) cur *= 10;  // ".5" is 500000 microseconds
      }
      out.push_back(cur);
    }
    frac_start = i < s.size() && s[i] == '.' ? i : std::string_view::npos;
    cur = 0;
    digits = 0;
  }
  return out;
}

std::string binary_datetime(std::string_view s) {
  auto n = numbers_in(s);
  n.resize(7, 0);
  std::string v;
  le(v, n[0], 2);
  v.push_back(static_cast<char>(n[1]));
  v.push_back(static_cast<char>(n[2]));
  if (n[3] || n[4] || n[5] || n[6]) {
    v.push_back(static_cast<char>(n[3]));
    v.push_back(static_cast<char>(n[4]));
    v.push_back(static_cast<char>(n[5]));
    if (n[6]) le(v, n[6], 4);
  }
  if (n[0] == 0 && n[1] == 0 && n[2] == 0 && v.size() == 4) v.clear();
  return static_cast<char>(v.size()) + v;
}

std::string binary_time(std::string_view s) {
  bool negative = !s.empty() && s[0] == '-';
  auto n = numbers_in(s);
  std::uint64_t days = 0;
  if (n.size() >= 4 && s.find(' ') != std::string_view::npos) {  // "D HH:MM:SS"
    days = n[0];
    n.erase(n.begin());
  }
  n.resize(4, 0);
  days += n[0] / 24;
  std::string v(1, negative ? '\1' : '\0');
  le(v, days, 4);
  v.push_back(static_cast<char>(n[0] % 24));
  v.push_back(static_cast<char>(n[1]));
  v.push_back(static_cast<char>(n[2]));
  if (n[3]) le(v, n[3], 4);
  if (days == 0 && n[0] == 0 && n[1] == 0 && n[2] == 0 && n[3] == 0) v.clear();
  return static_cast<char>(v.size()) + v;
}

// One non-NULL value in the binary protocol (a binary row or an EXECUTE's parameter).
Result<std::string> binary_value(std::uint8_t type, const Value& v, int line) {
  std::string out;
  auto text = bytes_of(&v);
  if (!text) return fail_msg("line {}: a value that is neither text nor bytes", line);
  auto integer = [&](int bytes) -> Result<std::string> {
    auto n = number(&v);
    if (!n) {
      if (text->empty()) return fail_msg("line {}: an empty value for an integer", line);
      n = static_cast<std::uint64_t>(std::strtoll(text->c_str(), nullptr, 10));
    }
    le(out, *n, bytes);
    return out;
  };
  switch (type) {
    case 0x01:
      return integer(1);
    case 0x02:
    case 0x0d:
      return integer(2);
    case 0x03:
    case 0x09:
      return integer(4);
    case 0x08:
      return integer(8);
    case 0x04: {
      float f = std::strtof(text->c_str(), nullptr);
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      le(out, bits, 4);
      return out;
    }
    case 0x05: {
      double d = std::strtod(text->c_str(), nullptr);
      std::uint64_t bits;
      std::memcpy(&bits, &d, 8);
      le(out, bits, 8);
      return out;
    }
    case 0x07:
    case 0x0a:
    case 0x0c:
    case 0x0e:
      return binary_datetime(*text);
    case 0x0b:
      return binary_time(*text);
    case 0x06:  // NULL type: no bytes
      return out;
    default:
      lenenc_str(out, *text);
      return out;
  }
}

struct Built {
  std::string classic;  // EOF packets
  std::string ok_eof;   // CLIENT_DEPRECATE_EOF
};

// Column count, definitions, rows and terminators of a text or binary result set.
Result<Built> result_set(const Value& packet, const Value& m, std::uint8_t seq, bool binary) {
  std::string_view what = binary ? "BinaryProtocolResultSet" : "TextResultSet";
  const Value* columns = member(&m, "columns");
  const Value* count_v = any(&m, {"columnCount", "column_count"});
  std::uint64_t count = count_v ? int_of(count_v) : columns && columns->is_sequence() ? columns->items.size() : 0;
  if (!columns || !columns->is_sequence() || columns->items.empty())
    return fail_msg("line {}: {} without its columns", line_of(packet, &m), what);
  if (count != columns->items.size())
    return fail_msg("line {}: {} of {} columns lists {}", line_of(packet, &m), what, count,
                    columns->items.size());
  std::vector<std::string> defs;
  std::vector<std::uint8_t> types;
  for (std::size_t i = 0; i < columns->items.size(); ++i) {
    const Value& c = columns->items[i];
    auto def = column_def(c, i);
    if (!def) return std::unexpected(def.error());
    defs.push_back(std::move(*def));
    types.push_back(static_cast<std::uint8_t>(int_of(any(&c, {"type", "column_type"}))));
  }
  std::vector<std::string> rows;
  const Value* list = member(&m, "rows");
  if (list && !list->is_sequence() && !list->is_null())
    return fail_msg("line {}: {} rows that are not a list", list->line, what);
  for (std::size_t r = 0; list && r < list->items.size(); ++r) {
    const Value& row = list->items[r];
    const Value* values = any(&row, {"values", "row_column_definition"});
    if (!values || !values->is_sequence())
      return fail_msg("line {}: row #{} without its values", row.line, r + 1);
    if (values->items.size() != count)
      return fail_msg("line {}: row #{} has {} values for {} columns", row.line, r + 1,
                      values->items.size(), count);
    std::string p;
    if (binary) {
      std::string nulls((count + 9) / 8, '\0');
      std::string data;
      for (std::size_t i = 0; i < count; ++i) {
        const Value* v = member(&values->items[i], "value");
        if (!v || v->is_null()) {
          nulls[(i + 2) / 8] = static_cast<char>(nulls[(i + 2) / 8] | (1 << ((i + 2) % 8)));
          continue;
        }
        auto b = binary_value(types[i], *v, v->line ? v->line : row.line);
        if (!b) return std::unexpected(b.error());
        data += *b;
      }
      p = std::string(1, '\0') + nulls + data;
    } else {
      for (const Value& e : values->items) {
        const Value* v = member(&e, "value");
        auto text = bytes_of(v);
        if (!text) {
          p.push_back('\xfb');  // NULL
        } else {
          lenenc_str(p, *text);
        }
      }
    }
    rows.push_back(std::move(p));
  }
  const Value* final_v = member(any(&m, {"FinalResponse", "final_response"}), "data");
  Terminator last = terminator_of(final_v, {});
  Terminator mid = terminator_of(any(&m, {"eofAfterColumns", "eof_after_columns"}), last);
  Built out;
  for (bool ok_eof : {false, true}) {
    Packets ps{seq, {}};
    std::string head;
    lenenc(head, count);
    ps.add(head);
    for (const auto& d : defs) ps.add(d);
    if (!ok_eof) ps.add(eof_payload(mid.warnings, mid.status));
    for (const auto& r : rows) ps.add(r);
    ps.add(ok_eof ? ok_eof_payload(last.warnings, last.status)
                  : eof_payload(last.warnings, last.status));
    (ok_eof ? out.ok_eof : out.classic) = std::move(ps.bytes);
  }
  return out;
}

Result<Built> prepare_ok(const Value& packet, const Value& m, std::uint8_t seq) {
  if (!member(&m, "statement_id"))
    return fail_msg("line {}: COM_STMT_PREPARE_OK without statement_id", line_of(packet, &m));
  std::uint64_t columns = int_of(member(&m, "num_columns"));
  std::uint64_t params = int_of(member(&m, "num_params"));
  std::string head(1, '\0');
  le(head, int_of(member(&m, "statement_id")), 4);
  le(head, columns, 2);
  le(head, params, 2);
  head.push_back('\0');
  le(head, int_of(member(&m, "warning_count")), 2);
  std::vector<std::string> param_defs, column_defs;
  for (auto [key, n, defs] : {std::tuple{"param_definitions", params, &param_defs},
                              std::tuple{"column_definitions", columns, &column_defs}}) {
    const Value* list = member(&m, key);
    std::size_t have = list && list->is_sequence() ? list->items.size() : 0;
    if (have != n)
      return fail_msg("line {}: COM_STMT_PREPARE_OK of {} {} lists {} {}", line_of(packet, &m), n,
                      std::string_view(key).substr(0, 5) == "param" ? "parameters" : "columns",
                      have, key);
    for (std::size_t i = 0; i < have; ++i) {
      auto d = column_def(list->items[i], i);
      if (!d) return std::unexpected(d.error());
      defs->push_back(std::move(*d));
    }
  }
  Built out;
  for (bool ok_eof : {false, true}) {
    Packets ps{seq, {}};
    ps.add(head);
    for (const auto& d : param_defs) ps.add(d);
    if (!ok_eof && !param_defs.empty()) ps.add(eof_payload(0, 0x0002));
    for (const auto& d : column_defs) ps.add(d);
    if (!ok_eof && !column_defs.empty()) ps.add(eof_payload(0, 0x0002));
    (ok_eof ? out.ok_eof : out.classic) = std::move(ps.bytes);
  }
  return out;
}

const Value* header_of(const Value& packet) { return member(&packet, "header"); }

std::uint8_t sequence_of(const Value& packet, std::uint8_t fallback) {
  const Value* h = header_of(packet);
  const Value* inner = member(member(h, "header"), "sequence_id");
  if (!inner) inner = member(h, "packet_number");
  return static_cast<std::uint8_t>(int_of(inner, fallback));
}

}  // namespace

std::string keploy_type(const Value& packet) {
  const Value* t = member(header_of(packet), "packet_type");
  return t && t->is_scalar() ? t->text : "";
}

Result<std::string> keploy_command(const Value& packet) {
  std::string type = keploy_type(packet);
  const Value* m = member(&packet, "message");
  int line = line_of(packet, m);
  int command = -1;
  for (int c = 0; c < 0x20 && command < 0; ++c) {
    if (protocols::mysql::command_name(static_cast<std::uint8_t>(c)) == type) command = c;
  }
  if (command < 0) {
    if (type.empty()) return fail_msg("line {}: a packet with neither payload nor packet_type", packet.line);
    return fail_msg("line {}: no fields reel can rebuild a {} packet from", line, type);
  }
  std::string p(1, static_cast<char>(command));
  auto c = static_cast<std::uint8_t>(command);
  if (c == 0x03 || c == 0x16) {
    const Value* q = member(m, "query");
    if (!q || !q->is_scalar()) return fail_msg("line {}: {} without its query", line, type);
    return p + q->text;
  }
  if (c == 0x02) return p + text_of(any(m, {"schema", "schema_name"}));
  if (!has_statement_id(c)) return p;
  const Value* id = member(m, "statement_id");
  if (!id) return fail_msg("line {}: {} without statement_id", line, type);
  le(p, int_of(id), 4);
  if (c == 0x18) {
    le(p, int_of(member(m, "parameter_id")), 2);
    return p + text_of(member(m, "data"));
  }
  if (c == 0x1c) {
    le(p, int_of(any(m, {"num_rows", "row_count"})), 4);
    return p;
  }
  if (c != 0x17) return p;
  p.push_back(static_cast<char>(int_of(member(m, "flags"))));
  le(p, int_of(member(m, "iteration_count"), 1), 4);
  const Value* params = member(m, "parameters");
  if (!params || !params->is_sequence() || params->items.empty()) return p;
  std::size_t n = params->items.size();
  std::string nulls((n + 7) / 8, '\0');
  std::string types, values;
  for (std::size_t i = 0; i < n; ++i) {
    const Value& param = params->items[i];
    const Value* type_v = member(&param, "type");
    if (!type_v) return fail_msg("line {}: COM_STMT_EXECUTE parameter #{} without its type", param.line, i + 1);
    std::uint64_t t = int_of(type_v);
    if (t <= 0xff && flag_of(member(&param, "unsigned"))) t |= 0x8000;
    le(types, t, 2);
    const Value* v = member(&param, "value");
    if (!v || v->is_null()) {
      nulls[i / 8] = static_cast<char>(nulls[i / 8] | (1 << (i % 8)));
      continue;
    }
    auto b = binary_value(static_cast<std::uint8_t>(t & 0xff), *v, v->line ? v->line : param.line);
    if (!b) return std::unexpected(b.error());
    values += *b;
  }
  p += nulls;
  bool bind = int_of(member(m, "new_params_bind_flag"), 1) != 0;
  p.push_back(bind ? '\1' : '\0');
  if (bind) p += types;
  return p + values;
}

Result<KeployAnswer> keploy_response(const Value& packet) {
  std::string type = keploy_type(packet);
  const Value* m = member(&packet, "message");
  int line = line_of(packet, m);
  std::uint8_t seq = sequence_of(packet, 1);
  auto one = [&](std::string payload) {
    Packets ps{seq, {}};
    ps.add(payload);
    return KeployAnswer{ps.bytes, ps.bytes};
  };
  if (type == "OK") {
    if (!m || !m->is_mapping()) return fail_msg("line {}: OK without its fields", line);
    std::string p(1, static_cast<char>(int_of(member(m, "header"))));
    lenenc(p, int_of(member(m, "affected_rows")));
    lenenc(p, int_of(member(m, "last_insert_id")));
    le(p, int_of(member(m, "status_flags")), 2);
    le(p, int_of(member(m, "warnings")), 2);
    return one(p + text_of(member(m, "info")));
  }
  if (type == "ERR") {
    if (!member(m, "error_code")) return fail_msg("line {}: ERR without error_code", line);
    std::string p(1, '\xff');
    le(p, int_of(member(m, "error_code")), 2);
    std::string marker = text_of(member(m, "sql_state_marker"));
    std::string state = text_of(member(m, "sql_state"));
    p += marker.empty() ? "#" : marker;
    p += state.empty() ? "HY000" : state.substr(0, 5);
    p.resize(9, '0');
    return one(p + text_of(member(m, "error_message")));
  }
  if (type == "EOF") {
    return one(eof_payload(static_cast<std::uint16_t>(int_of(member(m, "warnings"))),
                           static_cast<std::uint16_t>(int_of(member(m, "status_flags"), 2))));
  }
  Result<Built> built = fail_msg("");
  if (type == "TextResultSet" || type == "BinaryProtocolResultSet") {
    if (!m || !m->is_mapping()) return fail_msg("line {}: {} without its fields", line, type);
    built = result_set(packet, *m, seq, type == "BinaryProtocolResultSet");
  } else if (type == "COM_STMT_PREPARE_OK") {
    if (!m || !m->is_mapping()) return fail_msg("line {}: {} without its fields", line, type);
    built = prepare_ok(packet, *m, seq);
  } else {
    if (type.empty()) return fail_msg("line {}: a packet with neither payload nor packet_type", packet.line);
    return fail_msg("line {}: no fields reel can rebuild a {} packet from", line, type);
  }
  if (!built) return std::unexpected(built.error());
  return KeployAnswer{std::move(built->classic), std::move(built->ok_eof)};
}

std::string keploy_greeting(const Value& packet) {
  const Value* m = member(&packet, "message");
  const Value* caps_v = member(m, "capability_flags");
  if (keploy_type(packet) != "HandshakeV10" || !caps_v) return {};
  auto caps = static_cast<std::uint32_t>(int_of(caps_v));
  std::string salt = text_of(any(m, {"auth_plugin_data", "auth_plugin_data_part1"}));
  if (!salt.empty() && salt.back() == '\0') salt.pop_back();
  for (std::size_t i = 0; i < salt.size(); ++i) {
    if (salt[i] == '\0') salt[i] = 'x';  // a NUL would end the salt early
  }
  salt.resize(20, 'x');
  std::string p(1, static_cast<char>(int_of(member(m, "protocol_version"), 10)));
  std::string version = text_of(member(m, "server_version"));
  p += (version.empty() ? std::string("8.0.36") : version) + '\0';
  le(p, int_of(member(m, "connection_id"), 1), 4);
  p += salt.substr(0, 8) + '\0';
  le(p, caps & 0xffff, 2);
  p.push_back(static_cast<char>(int_of(member(m, "character_set"), 0xff)));
  le(p, int_of(member(m, "status_flags"), 2), 2);
  le(p, caps >> 16, 2);
  p.push_back(static_cast<char>(21));
  p += std::string(10, '\0');
  p += salt.substr(8) + '\0';
  std::string plugin = text_of(member(m, "auth_plugin_name"));
  p += (plugin.empty() ? std::string("mysql_native_password") : plugin) + '\0';
  Packets ps{0, {}};
  ps.add(p);
  return ps.bytes;
}

}  // namespace reel::mock::my
