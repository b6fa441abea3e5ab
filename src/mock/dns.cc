// DNS mocks: a query and its answer become a DnsMockSpec holding zone-file lines (as Keploy's
// miekg/dns writes them), and answers are rebuilt from those lines for the live query.
// Fit: exact = same name (any case, trailing dot or not) and same qtype; nothing else fits.
#include <arpa/inet.h>

#include <sstream>

#include "mock/common.h"
#include "mock/protocols.h"
#include "protocols/dns/parse.h"
#include "protocols/text.h"

namespace reel::mock {

namespace {

namespace dns = protocols::dns;

std::string fqdn(std::string name) {
  if (name.empty() || name.back() != '.') name += '.';
  return name;
}

bool same_name(std::string_view a, std::string_view b) {
  if (a.ends_with('.')) a.remove_suffix(1);
  if (b.ends_with('.')) b.remove_suffix(1);
  return protocols::iequals(a, b);
}

bool type_has_names(std::uint16_t t) { return t == 2 || t == 5 || t == 12; }

std::string zone_line(const dns::Record& r) {
  std::string data = r.data;
  if (type_has_names(r.type)) data = fqdn(data);
  if ((r.type == 15) && data.find(' ') != std::string::npos) data = fqdn(data);
  std::string klass = r.klass == 1 ? "IN" : "CLASS" + std::to_string(r.klass);
  return fmt::format("{}\t{}\t{}\t{}\t{}", fqdn(r.name), r.ttl, klass, dns::type_name(r.type),
                     data);
}

// ------------------------------------------------------------------- wire encoding

void put16(std::string& out, std::uint16_t v) {
  out.push_back(char(v >> 8));
  out.push_back(char(v & 0xff));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, std::uint16_t(v >> 16));
  put16(out, std::uint16_t(v & 0xffff));
}

bool put_name(std::string& out, std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  std::size_t total = 0;
  while (!name.empty()) {
    std::size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    total += label.size() + 1;
    if (total > 254) return false;
    out.push_back(char(label.size()));
    out.append(label);
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out.push_back('\0');
  return true;
}

std::optional<std::uint16_t> type_from_name(std::string_view t) {
  static const std::pair<std::string_view, std::uint16_t> kTypes[] = {
      {"A", 1},    {"NS", 2},    {"CNAME", 5}, {"SOA", 6},   {"PTR", 12},    {"MX", 15},
      {"TXT", 16}, {"AAAA", 28}, {"SRV", 33},  {"OPT", 41},  {"SVCB", 64},   {"HTTPS", 65},
      {"ANY", 255}};
  for (auto [n, v] : kTypes) {
    if (protocols::iequals(n, t)) return v;
  }
  std::int64_t v = 0;
  if (protocols::istarts_with(t, "TYPE") && protocols::parse_int64(t.substr(4), v) && v >= 0 &&
      v <= 65535) {
    return static_cast<std::uint16_t>(v);
  }
  return std::nullopt;
}

bool parse_u32(std::string_view s, std::uint32_t& out) {
  std::int64_t v = 0;
  if (!protocols::parse_int64(s, v) || v < 0 || v > 0xffffffffLL) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// TXT data as rendered: "piece" "piece" ...
bool put_txt(std::string& rd, std::string_view data) {
  std::size_t i = 0;
  while (i < data.size()) {
    if (data[i] == ' ') {
      ++i;
      continue;
    }
    if (data[i] != '"') return false;
    std::size_t end = data.find('"', i + 1);
    if (end == std::string_view::npos || end - i - 1 > 255) return false;
    rd.push_back(char(end - i - 1));
    rd.append(data.substr(i + 1, end - i - 1));
    i = end + 1;
  }
  return true;
}

bool put_hex(std::string& rd, std::string_view hex) {
  if (hex.size() % 2) return false;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(std::string(hex.substr(i, 2)).c_str(), "%2x", &v) != 1) return false;
    rd.push_back(char(v));
  }
  return true;
}

bool put_rdata(std::string& rd, std::uint16_t type, std::string_view data) {
  auto w = words(data);
  std::uint32_t a = 0, b = 0, c = 0;
  if (w.size() >= 2 && w[0] == "\\#") {
    std::string hex;
    for (std::size_t i = 2; i < w.size(); ++i) hex += w[i];
    return put_hex(rd, hex);
  }
  switch (type) {
    case 1: {
      in_addr v4{};
      if (w.size() != 1 || ::inet_pton(AF_INET, w[0].c_str(), &v4) != 1) return false;
      rd.append(reinterpret_cast<const char*>(&v4), 4);
      return true;
    }
    case 28: {
      in6_addr v6{};
      if (w.size() != 1 || ::inet_pton(AF_INET6, w[0].c_str(), &v6) != 1) return false;
      rd.append(reinterpret_cast<const char*>(&v6), 16);
      return true;
    }
    case 2:
    case 5:
    case 12:
      return w.size() == 1 && put_name(rd, w[0]);
    case 15:
      if (w.size() != 2 || !parse_u32(w[0], a) || a > 0xffff) return false;
      put16(rd, std::uint16_t(a));
      return put_name(rd, w[1]);
    case 16:
      return put_txt(rd, data);
    case 33:
      if (w.size() != 4 || !parse_u32(w[0], a) || !parse_u32(w[1], b) || !parse_u32(w[2], c) ||
          a > 0xffff || b > 0xffff || c > 0xffff) {
        return false;
      }
      put16(rd, std::uint16_t(a));
      put16(rd, std::uint16_t(b));
      put16(rd, std::uint16_t(c));
      return put_name(rd, w[3]);
    case 6: {
      if (w.size() != 7 || !put_name(rd, w[0]) || !put_name(rd, w[1])) return false;
      for (int i = 2; i < 7; ++i) {
        if (!parse_u32(w[i], a)) return false;
        put32(rd, a);
      }
      return true;
    }
    default:
      return false;
  }
}

// One zone-file line as a resource record; false when it cannot be rebuilt.
bool put_record(std::string& out, std::string_view line) {
  auto w = words(line);
  if (w.size() < 4) return false;
  std::uint32_t ttl = 0;
  if (!parse_u32(w[1], ttl)) return false;
  std::uint16_t klass = 1;
  std::int64_t k = 0;
  if (w[2] != "IN") {
    if (!protocols::istarts_with(w[2], "CLASS") || !protocols::parse_int64(w[2].substr(5), k) ||
        k < 0 || k > 65535) {
      return false;
    }
    klass = static_cast<std::uint16_t>(k);
  }
  auto type = type_from_name(w[3]);
  if (!type || *type == 41) return false;  // EDNS belongs to the live exchange, not the mock
  // The data is everything after the fourth field, spacing inside kept (TXT).
  std::size_t at = 0;
  for (int field = 0; field < 4; ++field) {
    at = line.find_first_not_of(" \t", at);
    at = line.find_first_of(" \t", at);
  }
  std::string_view data =
      at == std::string_view::npos ? std::string_view() : line.substr(at);
  if (auto s = data.find_first_not_of(" \t"); s != std::string_view::npos) data.remove_prefix(s);
  std::string rec, rd;
  if (!put_name(rec, w[0]) || !put_rdata(rd, *type, data) || rd.size() > 65535) return false;
  put16(rec, *type);
  put16(rec, klass);
  put32(rec, ttl);
  put16(rec, std::uint16_t(rd.size()));
  out += rec + rd;
  return true;
}

std::string build_answer(const dns::Message& q, const testset::DnsMockSpec* spec) {
  const dns::Question& question = q.questions.front();
  std::string sections[3];
  std::uint16_t counts[3] = {};
  int rcode = 2;  // SERVFAIL
  std::uint16_t flags = 0x8000 | (q.flags & 0x7900);  // QR, opcode and RD from the query
  if (spec) {
    const std::vector<std::string>* lists[3] = {&spec->answers, &spec->ns, &spec->extra};
    for (int s = 0; s < 3; ++s) {
      for (const auto& line : *lists[s]) {
        if (put_record(sections[s], line)) counts[s]++;
      }
    }
    rcode = spec->rcode & 0xf;
    if (spec->authoritative) flags |= 0x0400;
    if (spec->truncated) flags |= 0x0200;
    if (spec->recursion_available) flags |= 0x0080;
  }
  std::string out;
  put16(out, q.id);
  put16(out, std::uint16_t(flags | rcode));
  put16(out, 1);
  for (auto c : counts) put16(out, c);
  std::string qname;
  if (!put_name(qname, question.name == "." ? "" : question.name)) qname = std::string(1, '\0');
  out += qname;
  put16(out, question.type);
  put16(out, question.klass);
  for (const auto& s : sections) out += s;
  return out;
}

protocols::Limits dns_limits() {
  protocols::Limits l;
  l.max_items = 1024;
  l.max_field = 65535;
  return l;
}

}  // namespace

Result<RecordedCall> dns_call(std::span<const std::byte> query, std::span<const std::byte> answer,
                              std::uint64_t request_ns, std::uint64_t response_ns,
                              const Endpoint& server, const RecordOptions& o) {
  dns::Message q, a;
  if (!dns::parse_message(text_of(query), q, dns_limits()) || q.response || q.questions.empty()) {
    return fail_msg("not a DNS query");
  }
  if (!dns::parse_message(text_of(answer), a, dns_limits()) || !a.response) {
    return fail_msg("not a DNS answer");
  }
  testset::DnsMockSpec spec;
  spec.name = fqdn(q.questions.front().name);
  spec.qtype = q.questions.front().type;
  spec.qclass = q.questions.front().klass;
  spec.rcode = a.rcode;
  spec.authoritative = (a.flags & 0x0400) != 0;
  spec.truncated = a.truncated;
  spec.recursion_available = (a.flags & 0x0080) != 0;
  for (const auto& r : a.answers) spec.answers.push_back(zone_line(r));
  for (const auto& r : a.authority) spec.ns.push_back(zone_line(r));
  for (const auto& r : a.additional) {
    if (r.type != 41) spec.extra.push_back(zone_line(r));
  }
  RecordedCall call;
  call.mock.kind = testset::MockKind::kDns;
  call.mock.kind_name = std::string(testset::mock_kind_name(call.mock.kind));
  call.mock.metadata["name"] = "DNS";
  call.mock.metadata["qtype"] = dns::type_name(spec.qtype);
  auto at = [&](std::uint64_t ns) {
    return ns == 0 ? testset::Timestamp{}
                   : testset::Timestamp{static_cast<std::int64_t>(ns) + o.convert.clock_to_unix_ns,
                                        o.convert.utc_offset_s};
  };
  call.mock.req_timestamp = at(request_ns);
  call.mock.res_timestamp = at(response_ns);
  call.summary = dns::type_name(spec.qtype) + " " + spec.name;
  call.mock.spec = std::move(spec);
  call.request_ns = request_ns;
  call.response_ns = response_ns;
  label_call(call, protocols::Protocol::kDns, server);
  return call;
}

std::optional<std::string> dns_answer(MockPool& pool, std::span<const std::byte> query,
                                      const Endpoint& /*client*/, const Endpoint& server) {
  dns::Message q;
  if (!dns::parse_message(text_of(query), q, dns_limits()) || q.response ||
      q.questions.empty()) {
    return std::nullopt;
  }
  const dns::Question& question = q.questions.front();
  auto pick = pool.pick(testset::MockKind::kDns, server, [&](const testset::Mock& m) {
    const auto* spec = std::get_if<testset::DnsMockSpec>(&m.spec);
    return spec && spec->qtype == question.type && same_name(spec->name, question.name)
               ? Fit::kExact
               : Fit::kNone;
  });
  if (pick) return build_answer(q, &std::get<testset::DnsMockSpec>(pick->mock->spec));
  std::string summary = dns::type_name(question.type) + " " + fqdn(question.name);
  pool.record_unmatched({pool.current_test(), testset::MockKind::kDns, server, summary, {}});
  return build_answer(q, nullptr);
}

}  // namespace reel::mock
