#include "protocols/dns/wire.h"

#include <arpa/inet.h>

#include "protocols/byte_reader.h"
#include "protocols/dns/types.h"
#include "protocols/text.h"

namespace reel::protocols::dns {

namespace {

constexpr std::size_t kMaxName = 255;  // RFC 1035: wire length of a name

std::string address(std::string_view bytes, int family) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(family, bytes.data(), buf, sizeof buf)) return {};
  return buf;
}

std::string name_at(std::string_view msg, std::size_t pos) {
  std::string name;
  return read_name(msg, pos, name) ? name : std::string("?");
}

std::string txt(std::string_view data) {
  std::string out;
  ByteReader r(data);
  std::uint8_t len = 0;
  std::string_view piece;
  while (r.u8(len) && r.bytes(len, piece)) {
    if (!out.empty()) out += ' ';
    out += '"' + render_value(piece, 255) + '"';
  }
  return out;
}

std::string soa(std::string_view msg, std::size_t pos, std::size_t end) {
  std::string mname;
  std::string rname;
  if (!read_name(msg, pos, mname) || !read_name(msg, pos, rname) || pos > end) return "?";
  ByteReader r(msg.substr(pos, end - pos));
  std::string out = mname + " " + rname;
  std::uint32_t v = 0;
  for (int i = 0; i < 5 && r.be32(v); ++i) out += " " + std::to_string(v);
  return out;
}

}  // namespace

bool read_name(std::string_view msg, std::size_t& pos, std::string& out) {
  out.clear();
  std::size_t cur = pos;
  std::size_t limit = pos;  // every jump must land before the last place we started reading
  std::size_t wire = 0;
  bool jumped = false;
  while (true) {
    if (cur >= msg.size()) return false;
    auto len = static_cast<std::uint8_t>(msg[cur]);
    if ((len & 0xc0) == 0xc0) {
      if (cur + 1 >= msg.size()) return false;
      std::size_t target = ((len & 0x3fu) << 8) | static_cast<std::uint8_t>(msg[cur + 1]);
      if (target >= limit) return false;  // forward, self or loop
      if (!jumped) pos = cur + 2;
      jumped = true;
      limit = target;
      cur = target;
      continue;
    }
    if (len & 0xc0) return false;  // 0x40 and 0x80 label types are reserved or obsolete
    wire += len + 1;
    if (wire > kMaxName || cur + 1 + len > msg.size()) return false;
    if (len == 0) break;
    if (!out.empty()) out += '.';
    out += render_value(msg.substr(cur + 1, len), 2 * 64 + 2);
    cur += 1 + len;
  }
  if (!jumped) pos = cur + 1;
  if (out.empty()) out = ".";
  return true;
}

std::string render_rdata(std::string_view msg, std::size_t pos, std::size_t rdlen,
                         std::uint16_t type, const Limits& limits) {
  std::string_view data = msg.substr(pos, rdlen);
  ByteReader r(data);
  std::uint16_t a = 0, b = 0, c = 0;
  switch (type) {
    case 1:
      if (rdlen == 4) return address(data, AF_INET);
      break;
    case 28:
      if (rdlen == 16) return address(data, AF_INET6);
      break;
    case 2:
    case 5:
    case 12:
      return name_at(msg, pos);  // NS, CNAME, PTR
    case 15:
      if (r.be16(a)) return std::to_string(a) + " " + name_at(msg, pos + 2);
      break;
    case 16:
      return capped(txt(data), limits.max_field);
    case 33:  // SRV: priority weight port target
      if (r.be16(a) && r.be16(b) && r.be16(c)) {
        return std::to_string(a) + " " + std::to_string(b) + " " + std::to_string(c) + " " +
               name_at(msg, pos + 6);
      }
      break;
    case 6:
      return soa(msg, pos, pos + rdlen);
    default:
      break;
  }
  // RFC 3597 generic form.
  std::string hex = to_hex(data, limits.max_field);
  return "\\# " + std::to_string(rdlen) + (rdlen ? " " + hex : "");
}

std::string type_name(std::uint16_t type) {
  switch (type) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 41:
      return "OPT";
    case 64:
      return "SVCB";
    case 65:
      return "HTTPS";
    case 255:
      return "ANY";
    default:
      return "TYPE" + std::to_string(type);
  }
}

std::string rcode_name(std::uint8_t rcode) {
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                           "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                           "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode < std::size(kNames)) return kNames[rcode];
  return "RCODE" + std::to_string(rcode);
}

}  // namespace reel::protocols::dns
