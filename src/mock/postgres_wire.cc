#include "mock/postgres_wire.h"

#include <cctype>

#include "core/encoding.h"
#include "protocols/byte_reader.h"
#include "protocols/postgres/decode.h"
#include "protocols/postgres/parse.h"

namespace reel::mock::pg {

namespace pp = protocols::postgres;
using protocols::ByteReader;
using testset::Value;

namespace {

const protocols::Limits kLimits{};

void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// Digit runs in a name stand for a counter ("S_12", "stmtcache_7"): one '#' each.
std::string name_shape(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(name[i]))) {
      if (out.empty() || out.back() != '#') out.push_back('#');
    } else {
      out.push_back(name[i]);
    }
  }
  return out;
}

// The name in a Describe or Close: after the 'S'/'P' byte, up to its NUL.
std::string object_name(std::string_view payload) {
  if (payload.empty()) return {};
  std::string_view rest = payload.substr(1);
  return std::string(rest.substr(0, rest.find('\0')));
}

Value text_list(const std::vector<std::string>& items) {
  Value list = Value::sequence(true);
  for (const auto& s : items) list.push(Value::string(s));
  return list;
}

void add_startup(Value& v, const Message& m) {
  std::uint32_t code = pp::request_code(m);
  if (code == pp::kSslRequest) {
    v.add("ssl_request", Value::integer(code));
  } else if (code == pp::kGssEncRequest) {
    v.add("gssenc_request", Value::integer(code));
  } else if (code == pp::kCancelRequest) {
    v.add("cancel_request", Value::integer(code));
  } else {
    Value& s = v.add("startup_message", Value::mapping());
    s.add("protocolversion", Value::integer(code));
    Value& params = s.add("parameters", Value::mapping());
    for (auto& [key, value] : pp::startup_params(m)) {
      if (!params.find(key)) params.add(key, Value::string(value));
    }
  }
}

struct Decoded {
  std::vector<const Message*> parse, bind, describe, execute;
  const Message* password = nullptr;
  bool untyped = false;
};

Decoded sort(const std::vector<Message>& msgs) {
  Decoded d;
  for (const auto& m : msgs) {
    switch (m.tag) {
      case pp::kUntyped:
        d.untyped = true;
        break;
      case 'P':
        d.parse.push_back(&m);
        break;
      case 'B':
        d.bind.push_back(&m);
        break;
      case 'D':
        d.describe.push_back(&m);
        break;
      case 'E':
        d.execute.push_back(&m);
        break;
      case 'p':
        d.password = &m;
        break;
      default:
        break;
    }
  }
  return d;
}

void add_extended(Value& v, const Decoded& d) {
  if (!d.parse.empty()) {
    Value& list = v.add("parse", Value::sequence());
    for (const Message* m : d.parse) {
      pp::ParseMsg p = pp::parse_msg(*m);
      Value& e = list.push(Value::mapping());
      e.add("name", Value::string(p.statement));
      e.add("query", Value::string(p.query));
    }
  }
  if (!d.bind.empty()) {
    Value& list = v.add("bind", Value::sequence());
    for (const Message* m : d.bind) {
      pp::BindMsg b = pp::bind_msg(*m, kLimits);
      Value& e = list.push(Value::mapping());
      e.add("destination_portal", Value::string(b.portal));
      e.add("prepared_statement", Value::string(b.statement));
      e.add("parameters", text_list(b.params));
    }
  }
  if (!d.describe.empty()) {
    Value& list = v.add("describe", Value::sequence());
    for (const Message* m : d.describe) {
      Value& e = list.push(Value::mapping());
      e.add("object_type", Value::string(m->payload.substr(0, 1)));
      e.add("name", Value::string(object_name(m->payload)));
    }
  }
  if (!d.execute.empty()) {
    Value& list = v.add("execute", Value::sequence());
    for (const Message* m : d.execute) {
      ByteReader r(m->payload);
      std::string_view portal;
      std::uint32_t max_rows = 0;
      if (r.cstring(portal)) r.be32(max_rows);
      Value& e = list.push(Value::mapping());
      e.add("portal", Value::string(std::string(portal)));
      e.add("max_rows", Value::integer(max_rows));
    }
  }
}

}  // namespace

std::string wire(const Message& m) {
  std::string out;
  if (m.tag == pp::kEncryptionReply) return m.payload;
  if (m.tag != pp::kUntyped) out.push_back(m.tag);
  put_be32(out, static_cast<std::uint32_t>(m.payload.size() + 4));
  out += m.payload;
  return out;
}

std::string wire(const std::vector<Message>& msgs) {
  std::string out;
  for (const auto& m : msgs) out += wire(m);
  return out;
}

bool split(std::string_view bytes, bool from_client, std::vector<Message>& out) {
  pp::State state;
  state.startup = from_client;
  protocols::Limits limits;
  limits.max_frame = bytes.size() + 1;
  auto type = from_client ? protocols::MessageType::kRequest : protocols::MessageType::kResponse;
  while (!bytes.empty()) {
    Message m;
    state.encryption_reply_expected = false;
    auto res = pp::parse_frame(type, protocols::as_bytes(bytes), m, state, limits);
    if (res.state != protocols::ParseState::kParsed || res.consumed > bytes.size()) return false;
    bytes.remove_prefix(res.consumed);
    out.push_back(std::move(m));
  }
  return true;
}

void learn(const std::vector<Message>& client, Statements& statements) {
  for (const auto& m : client) {
    if (m.tag == 'P') {
      pp::ParseMsg p = pp::parse_msg(m);
      if (statements.size() < 4096 || statements.count(p.statement)) {
        statements[p.statement] = p.query;
      }
    } else if (m.tag == 'C' && !m.payload.empty() && m.payload[0] == 'S') {
      statements.erase(object_name(m.payload));
    }
  }
}

std::string segment_sql(const std::vector<Message>& client, const Statements& statements) {
  std::vector<std::string> parts;
  Statements local;  // Parses of this segment, for its own Binds
  for (const auto& m : client) {
    if (m.tag == 'Q') {
      parts.push_back(pp::query_text(m));
    } else if (m.tag == 'P') {
      pp::ParseMsg p = pp::parse_msg(m);
      local[p.statement] = p.query;
      parts.push_back(p.query);
    } else if (m.tag == 'B') {
      pp::BindMsg b = pp::bind_msg(m, kLimits);
      if (local.count(b.statement)) continue;  // shown with its Parse
      if (auto it = statements.find(b.statement); it != statements.end()) {
        parts.push_back(it->second);
      }
    }
  }
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

std::string canonical(const Message& m) {
  std::string out(1, m.tag);
  ByteReader r(m.payload);
  std::string_view a, b;
  switch (m.tag) {
    case 'P':  // statement name, query, types
    case 'E':  // portal, max rows
      if (!r.cstring(a)) break;
      return out + name_shape(a) + '\0' + std::string(r.rest());
    case 'B':  // portal, statement, formats and values
      if (!r.cstring(a) || !r.cstring(b)) break;
      return out + name_shape(a) + '\0' + name_shape(b) + '\0' + std::string(r.rest());
    case 'D':  // Describe or Close: 'S'/'P' and a name
    case 'C':
      if (m.payload.empty()) break;
      return out + m.payload[0] + name_shape(m.payload.substr(1));
    default:
      break;
  }
  return out + m.payload;
}

std::string tags(const std::vector<Message>& msgs) {
  std::string out;
  for (const auto& m : msgs) out.push_back(m.tag == pp::kUntyped ? '0' : m.tag);
  return out;
}

Value request_value(const std::vector<Message>& client, const std::string& sql,
                    const testset::Redactor* redactor) {
  Decoded d = sort(client);
  Value v = Value::mapping();
  Value& header = v.add("header", Value::sequence(true));
  for (const auto& m : client) {
    if (m.tag != pp::kUntyped) header.push(Value::string(std::string(1, m.tag)));
  }
  v.add("identifier", Value::string(d.untyped ? "StartupRequest" : "ClientRequest"));
  std::string bytes = wire(client);
  v.add("length", Value::integer(static_cast<std::int64_t>(bytes.size())));
  bool redact = d.password && redactor && redactor->enabled();
  if (redact) {
    Value& pw = v.add("password_message", Value::mapping());
    pw.add("password", Value::string(redactor->redact_db_password(d.password->payload)));
  } else {
    v.add("payload", Value::string(base64_encode(bytes)));
  }
  for (const auto& m : client) {
    if (m.tag == pp::kUntyped) add_startup(v, m);
  }
  if (!sql.empty()) v.add("query", Value::mapping()).add("string", Value::string(sql));
  add_extended(v, d);
  return v;
}

Value response_value(const std::vector<Message>& server) {
  Value v = Value::mapping();
  Value& header = v.add("header", Value::sequence(true));
  for (const auto& m : server) {
    header.push(Value::string(m.tag == pp::kEncryptionReply ? m.payload : std::string(1, m.tag)));
  }
  v.add("identifier", Value::string("ServerResponse"));
  std::string bytes = wire(server);
  v.add("length", Value::integer(static_cast<std::int64_t>(bytes.size())));
  v.add("payload", Value::string(base64_encode(bytes)));
  Value complete = Value::sequence();
  const Message* error = nullptr;
  const Message* ready = nullptr;
  for (const auto& m : server) {
    if (m.tag == 'C') {
      complete.push(Value::mapping()).add("command_tag_type", Value::string(pp::command_tag(m)));
    } else if (m.tag == 'E' && !error) {
      error = &m;
    } else if (m.tag == 'Z' && m.payload.size() == 1) {
      ready = &m;
    }
  }
  if (!complete.items.empty()) v.add("command_complete", std::move(complete));
  if (error) {
    pp::ErrorInfo e = pp::error_info(*error);
    Value& err = v.add("error_response", Value::mapping());
    err.add("severity", Value::string(e.severity));
    err.add("code", Value::string(e.code));
    err.add("message", Value::string(e.message));
  }
  if (ready) {
    Value& z = v.add("ready_for_query", Value::mapping());
    z.add("txstatus", Value::integer(static_cast<unsigned char>(ready->payload[0])));
  }
  return v;
}

Message typed(char tag, std::string payload) {
  Message m;
  m.tag = tag;
  m.length = static_cast<std::uint32_t>(payload.size() + 4);
  m.payload = std::move(payload);
  return m;
}

Message error_response(std::string_view code, std::string_view message, std::string_view severity) {
  std::string p;
  auto field = [&](char f, std::string_view text) {
    p.push_back(f);
    p.append(text);
    p.push_back('\0');
  };
  field('S', severity);
  field('V', severity);
  field('C', code);
  field('M', message);
  p.push_back('\0');
  return typed('E', std::move(p));
}

Message ready_for_query(char status) { return typed('Z', std::string(1, status)); }

}  // namespace reel::mock::pg
