#include "protocols/postgres/decode.h"

#include "protocols/byte_reader.h"
#include "protocols/text.h"

namespace reel::protocols::postgres {

std::uint32_t request_code(const Message& m) {
  ByteReader r(m.payload);
  std::uint32_t code = 0;
  return r.be32(code) ? code : 0;
}

std::vector<std::pair<std::string, std::string>> startup_params(const Message& m) {
  std::vector<std::pair<std::string, std::string>> out;
  ByteReader r(m.payload);
  if (!r.skip(4)) return out;
  std::string_view key;
  std::string_view value;
  while (r.cstring(key) && !key.empty() && r.cstring(value) && out.size() < 64) {
    out.emplace_back(std::string(key), std::string(value));
  }
  return out;
}

std::string query_text(const Message& m) {
  ByteReader r(m.payload);
  std::string_view text;
  if (r.cstring(text)) return std::string(text);
  return m.payload;  // cut before its NUL
}

ParseMsg parse_msg(const Message& m) {
  ByteReader r(m.payload);
  std::string_view name;
  std::string_view query;
  ParseMsg out;
  if (!r.cstring(name)) return out;
  out.statement = std::string(name);
  out.query = r.cstring(query) ? std::string(query) : std::string(r.rest());
  return out;
}

namespace {
// The parameter values of a Bind, as far as they can be read.
void bind_values(ByteReader& r, const std::vector<std::uint16_t>& formats, const Limits& limits,
                 std::vector<std::string>& out) {
  std::uint16_t count = 0;
  if (!r.be16(count)) return;
  for (std::uint16_t i = 0; i < count && out.size() < limits.max_items; ++i) {
    std::uint32_t len = 0;
    if (!r.be32(len)) return;
    if (len == 0xffffffff) {
      out.emplace_back("NULL");
      continue;
    }
    std::string_view value;
    if (!r.bytes(len, value)) return;
    // One format code applies to all; otherwise one per value (a mismatch counts as text).
    std::uint16_t format = 0;
    if (formats.size() == 1) {
      format = formats[0];
    } else if (i < formats.size()) {
      format = formats[i];
    }
    out.push_back(format == 0 ? capped(value, limits.max_field)
                              : render_value(value, limits.max_field));
  }
}
}  // namespace

BindMsg bind_msg(const Message& m, const Limits& limits) {
  BindMsg out;
  ByteReader r(m.payload);
  std::string_view portal;
  std::string_view statement;
  if (!r.cstring(portal) || !r.cstring(statement)) return out;
  out.portal = std::string(portal);
  out.statement = std::string(statement);
  std::uint16_t n_formats = 0;
  if (!r.be16(n_formats)) return out;
  std::vector<std::uint16_t> formats;
  for (std::uint16_t i = 0; i < n_formats; ++i) {
    std::uint16_t f = 0;
    if (!r.be16(f)) return out;
    if (formats.size() < limits.max_items) formats.push_back(f);
  }
  if (n_formats > formats.size()) return out;  // too many formats to line up with values
  bind_values(r, formats, limits, out.params);
  return out;
}

std::vector<std::string> column_names(const Message& m, const Limits& limits) {
  std::vector<std::string> out;
  ByteReader r(m.payload);
  std::uint16_t count = 0;
  if (!r.be16(count)) return out;
  for (std::uint16_t i = 0; i < count && out.size() < limits.max_items; ++i) {
    std::string_view name;
    if (!r.cstring(name) || !r.skip(18)) break;  // table oid .. format code
    out.push_back(capped(name, limits.max_field));
  }
  return out;
}

std::string data_row(const Message& m, const Limits& limits) {
  std::string out;
  ByteReader r(m.payload);
  std::uint16_t count = 0;
  if (!r.be16(count)) return out;
  for (std::uint16_t i = 0; i < count; ++i) {
    std::uint32_t len = 0;
    if (!r.be32(len)) break;
    if (i > 0) out += '\t';
    if (len == 0xffffffff) {
      out += "NULL";
      continue;
    }
    std::string_view value;
    if (!r.bytes(len, value)) break;
    out += render_value(value, limits.max_field);
  }
  return out;
}

std::string command_tag(const Message& m) { return query_text(m); }

ErrorInfo error_info(const Message& m) {
  ErrorInfo out;
  ByteReader r(m.payload);
  std::uint8_t field = 0;
  std::string_view value;
  while (r.u8(field) && field != 0 && r.cstring(value)) {
    switch (field) {
      case 'S':
        out.severity = std::string(value);
        break;  // localized; 'V' is not
      case 'V':
        out.severity = std::string(value);
        break;
      case 'C':
        out.code = std::string(value);
        break;
      case 'M':
        out.message = std::string(value);
        break;
      case 'D':
        out.detail = std::string(value);
        break;
      default:
        break;
    }
  }
  return out;
}

std::int32_t auth_code(const Message& m) {
  ByteReader r(m.payload);
  std::uint32_t code = 0;
  return r.be32(code) ? static_cast<std::int32_t>(code) : -1;
}

std::string auth_name(std::int32_t code) {
  switch (code) {
    case 0:
      return "ok";
    case 2:
      return "kerberos";
    case 3:
      return "cleartext";
    case 5:
      return "md5";
    case 7:
      return "gss";
    case 9:
      return "sspi";
    case 10:
      return "sasl";
    case 11:
      return "sasl-continue";
    case 12:
      return "sasl-final";
    default:
      return "unknown(" + std::to_string(code) + ")";
  }
}

std::pair<std::string, std::string> parameter_status(const Message& m) {
  ByteReader r(m.payload);
  std::string_view name;
  std::string_view value;
  if (!r.cstring(name) || !r.cstring(value)) return {};
  return {std::string(name), std::string(value)};
}

std::string notification(const Message& m) {
  ByteReader r(m.payload);
  std::string_view channel;
  std::string_view payload;
  if (!r.skip(4) || !r.cstring(channel) || !r.cstring(payload)) return {};
  return std::string(channel) + ": " + std::string(payload);
}

}  // namespace reel::protocols::postgres
