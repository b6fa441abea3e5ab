// Keploy's decoded Postgres v1 packets (no `payload`): the wire messages rebuilt from the header
// list and the fields Keploy writes for each message (pgproto3's structs: query, parse, bind,
// describe, execute, close; row_description, data_row, command_complete, ready_for_query,
// parameter_description, error_response, parameter_status, backend_key_data...). Both shapes
// Keploy has written are read: names and tags as byte lists (`name: [105, 100]`,
// `command_tag: [...]`) and as text (`field_name: id`, `command_tag_type: SELECT 1`).
#include <cstdint>
#include <map>

#include <fmt/format.h>

#include "mock/keploy_fields.h"
#include "mock/postgres_wire.h"
#include "protocols/postgres/decode.h"

namespace reel::mock::pg {

namespace {

namespace pp = protocols::postgres;
using testset::Value;
using keploy::any;
using keploy::bytes_of;
using keploy::int_of;
using keploy::text_of;

void be16(std::string& out, std::int64_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}
void be32(std::string& out, std::int64_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// The n-th occurrence of a message's fields: Keploy writes a list when a packet holds several
// (parse, bind, data_row, command_complete) and a single mapping otherwise.
const Value* nth(const Value& packet, std::string_view key, std::size_t n) {
  const Value* f = packet.find(key);
  if (!f) return nullptr;
  if (f->is_sequence()) return n < f->items.size() ? &f->items[n] : nullptr;
  return n == 0 ? f : nullptr;
}

// 'S' (83) or 'P' (80), as a number or a letter.
char object_type(const Value* v) {
  if (!v || !v->is_scalar()) return 'S';
  if (v->text.size() == 1 && !std::isdigit(static_cast<unsigned char>(v->text[0]))) return v->text[0];
  return static_cast<char>(int_of(v, 'S'));
}

std::string cstr(std::string_view s) { return std::string(s) + '\0'; }

Result<std::string> client_payload(char tag, const Value& p, std::size_t n) {
  std::string out;
  switch (tag) {
    case 'Q': {
      const Value* q = p.find("query");
      if (!q || !q->find("string")) return fail_msg("query without its string");
      return cstr(text_of(q->find("string")));
    }
    case 'P': {
      const Value* f = nth(p, "parse", n);
      if (!f) return fail_msg("Parse #{} without its parse fields", n + 1);
      out = cstr(text_of(f->find("name"))) + cstr(text_of(f->find("query")));
      const Value* oids = any(f, {"parameter_oids", "parameteroids"});
      std::size_t count = oids && oids->is_sequence() ? oids->items.size() : 0;
      be16(out, static_cast<std::int64_t>(count));
      for (std::size_t i = 0; i < count; ++i) be32(out, int_of(&oids->items[i]));
      return out;
    }
    case 'B': {
      const Value* f = nth(p, "bind", n);
      if (!f) return fail_msg("Bind #{} without its bind fields", n + 1);
      out = cstr(text_of(f->find("destination_portal"))) + cstr(text_of(f->find("prepared_statement")));
      for (auto key : {"parameter_format_codes", "parameters", "result_format_codes"}) {
        const Value* list = f->find(key);
        std::size_t count = list && list->is_sequence() ? list->items.size() : 0;
        be16(out, static_cast<std::int64_t>(count));
        for (std::size_t i = 0; i < count; ++i) {
          if (std::string_view(key) != "parameters") {
            be16(out, int_of(&list->items[i]));
            continue;
          }
          auto value = bytes_of(&list->items[i]);
          if (!value) {
            be32(out, -1);  // NULL
          } else {
            be32(out, static_cast<std::int64_t>(value->size()));
            out += *value;
          }
        }
      }
      return out;
    }
    case 'D':
    case 'C': {
      const Value* f = nth(p, tag == 'D' ? "describe" : "close", n);
      if (!f) return fail_msg("{} #{} without its fields", tag == 'D' ? "Describe" : "Close", n + 1);
      out.push_back(object_type(f->find("object_type")));
      return out + cstr(text_of(f->find("name")));
    }
    case 'E': {
      const Value* f = nth(p, "execute", n);
      out = cstr(f ? text_of(f->find("portal")) : "");
      be32(out, f ? int_of(f->find("max_rows")) : 0);
      return out;
    }
    case 'S':
    case 'H':
    case 'X':
      return out;
    default:
      return fail_msg("no fields reel can rebuild a '{}' message from", tag);
  }
}

// ErrorResponse and NoticeResponse: pgproto3's field names as yaml.v3 writes them untagged
// ("severityunlocalized") or in snake case.
std::string error_fields(const Value& f) {
  struct Field {
    char code;
    std::string_view squashed, snake;
  };
  static const Field kFields[] = {
      {'S', "severity", "severity"},         {'V', "severityunlocalized", "severity_unlocalized"},
      {'C', "code", "code"},                 {'M', "message", "message"},
      {'D', "detail", "detail"},             {'H', "hint", "hint"},
      {'P', "position", "position"},         {'W', "where", "where"},
      {'s', "schemaname", "schema_name"},    {'t', "tablename", "table_name"},
      {'c', "columnname", "column_name"},    {'d', "datatypename", "data_type_name"},
      {'n', "constraintname", "constraint_name"}, {'F', "file", "file"},
      {'L', "line", "line"},                 {'R', "routine", "routine"}};
  std::string out;
  for (const Field& field : kFields) {
    std::string text = text_of(any(&f, {field.squashed, field.snake}));
    if (text.empty() || ((field.code == 'P' || field.code == 'L') && text == "0")) continue;
    out.push_back(field.code);
    out += cstr(text);
  }
  return out + '\0';
}

Result<std::string> server_payload(char tag, const Value& p, std::size_t n) {
  std::string out;
  switch (tag) {
    case '1':
    case '2':
    case '3':
    case 'n':
    case 'I':
    case 's':
      return out;
    case 'Z': {
      const Value* f = p.find("ready_for_query");
      std::int64_t status = f ? int_of(f->find("txstatus"), 'I') : 'I';
      return std::string(1, static_cast<char>(status));
    }
    case 'C': {
      const Value* f = nth(p, "command_complete", n);
      if (!f) return fail_msg("CommandComplete #{} without its tag", n + 1);
      return cstr(text_of(any(f, {"command_tag_type", "command_tag"})));
    }
    case 'T': {
      const Value* rd = p.find("row_description");
      const Value* fields = rd ? rd->find("fields") : nullptr;
      if (!fields || !fields->is_sequence()) return fail_msg("RowDescription without its fields");
      be16(out, static_cast<std::int64_t>(fields->items.size()));
      for (const Value& f : fields->items) {
        out += cstr(text_of(any(&f, {"field_name", "name"})));
        be32(out, int_of(f.find("table_oid")));
        be16(out, int_of(f.find("table_attribute_number")));
        be32(out, int_of(f.find("data_type_oid")));
        be16(out, int_of(f.find("data_type_size")));
        be32(out, int_of(f.find("type_modifier"), -1));
        be16(out, int_of(f.find("format")));
      }
      return out;
    }
    case 'D': {
      const Value* f = nth(p, "data_row", n);
      const Value* values = f ? any(f, {"row_values", "values"}) : nullptr;
      if (!values || !values->is_sequence()) return fail_msg("DataRow #{} without its values", n + 1);
      be16(out, static_cast<std::int64_t>(values->items.size()));
      for (const Value& v : values->items) {
        auto bytes = bytes_of(&v);
        if (!bytes) {
          be32(out, -1);
        } else {
          be32(out, static_cast<std::int64_t>(bytes->size()));
          out += *bytes;
        }
      }
      return out;
    }
    case 't': {
      const Value* f = p.find("parameter_description");
      const Value* oids = f ? any(f, {"parameteroids", "parameter_oids"}) : nullptr;
      std::size_t count = oids && oids->is_sequence() ? oids->items.size() : 0;
      be16(out, static_cast<std::int64_t>(count));
      for (std::size_t i = 0; i < count; ++i) be32(out, int_of(&oids->items[i]));
      return out;
    }
    case 'E':
    case 'N': {
      const Value* f = nth(p, tag == 'E' ? "error_response" : "notice_response", n);
      if (!f) return fail_msg("{} without its fields", tag == 'E' ? "ErrorResponse" : "NoticeResponse");
      return error_fields(*f);
    }
    case 'S': {
      const Value* f = nth(p, "parameter_status", n);
      if (!f) return fail_msg("ParameterStatus #{} without its fields", n + 1);
      return cstr(text_of(f->find("name"))) + cstr(text_of(f->find("value")));
    }
    case 'K': {
      const Value* f = p.find("backend_key_data");
      be32(out, f ? int_of(f->find("process_id")) : 0);
      be32(out, f ? int_of(f->find("secret_key")) : 0);
      return out;
    }
    case 'R': {
      be32(out, int_of(p.find("auth_type")));  // only AuthenticationOk carries nothing more
      if (int_of(p.find("auth_type")) != 0) return fail_msg("an authentication request other than Ok");
      return out;
    }
    default:
      return fail_msg("no fields reel can rebuild a '{}' message from", tag);
  }
}

}  // namespace

Result<std::vector<Message>> from_keploy(const Value& packet, bool from_client) {
  const Value* header = packet.find("header");
  if (!header || !header->is_sequence() || header->items.empty())
    return fail_msg("a packet with neither payload nor header");
  std::vector<Message> out;
  std::map<char, std::size_t> seen;
  for (const Value& h : header->items) {
    if (!h.is_scalar() || h.text.size() != 1) return fail_msg("header entry '{}' is not a message tag", h.text);
    char tag = h.text[0];
    std::size_t n = seen[tag]++;
    auto payload = from_client ? client_payload(tag, packet, n) : server_payload(tag, packet, n);
    if (!payload) return std::unexpected(payload.error());
    out.push_back(typed(tag, std::move(*payload)));
  }
  return out;
}

}  // namespace reel::mock::pg
