// Redaction of database and cache handshakes inside mocks: Redis AUTH, Postgres password
// messages, MySQL password packets.
#include <charconv>

#include "protocols/text.h"
#include "testset/redact.h"

namespace reel::testset {

using protocols::iequals;

namespace {

// One RESP array of bulk strings ("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n") starting at `pos`.
bool read_command(std::string_view s, std::size_t& pos, std::vector<std::string>& args) {
  auto number = [&](char marker, std::int64_t& out) {
    if (pos >= s.size() || s[pos] != marker) return false;
    std::size_t eol = s.find("\r\n", pos);
    if (eol == std::string_view::npos) return false;
    auto [p, ec] = std::from_chars(s.data() + pos + 1, s.data() + eol, out);
    pos = eol + 2;
    return ec == std::errc() && p == s.data() + eol - 0 && out >= 0;
  };
  std::int64_t count = 0;
  if (!number('*', count) || count > 1024) return false;
  args.clear();
  for (std::int64_t i = 0; i < count; i++) {
    std::int64_t len = 0;
    if (!number('$', len) || pos + static_cast<std::size_t>(len) + 2 > s.size()) return false;
    args.emplace_back(s.substr(pos, static_cast<std::size_t>(len)));
    pos += static_cast<std::size_t>(len) + 2;
  }
  return true;
}

std::string write_command(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// Index of the password in AUTH [user] pass, or HELLO ver AUTH user pass; npos when none.
std::size_t password_index(const std::vector<std::string>& args) {
  if (args.size() >= 2 && iequals(args[0], "AUTH")) return args.size() - 1;
  if (args.size() >= 2 && iequals(args[0], "HELLO")) {
    for (std::size_t i = 1; i + 2 < args.size(); i++) {
      if (iequals(args[i], "AUTH")) return i + 2;
    }
  }
  return std::string::npos;
}

bool is_password_packet(const Value& packet) {
  const Value* header = packet.find("header");
  const Value* type = header && header->is_mapping() ? header->find("packet_type") : nullptr;
  if (type == nullptr || !type->is_scalar()) return false;
  std::string t = protocols::to_lower(type->text);
  return t == "plain_password" || t == "encrypted_password" || t == "encrypt_password";
}

std::size_t redact_tree(Value& v, const Redactor& r, std::size_t depth) {
  if (depth > 64) return 0;
  std::size_t n = 0;
  for (auto& item : v.items) n += redact_tree(item, r, depth + 1);
  for (auto& [key, child] : v.members) {
    if (child.is_scalar() && r.is_secret_field(key) && !Redactor::is_placeholder(child.text)) {
      child = Value::string(r.redact_db_password(child.text));
      n++;
    } else {
      n += redact_tree(child, r, depth + 1);
    }
  }
  return n;
}

}  // namespace

std::size_t Redactor::redact_redis(std::string& bytes) const {
  if (!enabled()) return 0;
  std::string_view s = bytes;
  if (protocols::istarts_with(s, "AUTH ")) {  // inline command: AUTH [user] pass\r\n
    std::size_t eol = std::min(s.find("\r\n"), s.size());
    std::size_t last = s.rfind(' ', eol - 1);
    std::string_view pass = s.substr(last + 1, eol - last - 1);
    if (pass.empty() || is_placeholder(pass)) return 0;
    bytes = std::string(s.substr(0, last + 1)) + placeholder(pass) + std::string(s.substr(eol));
    return 1;
  }
  std::string out;
  std::size_t pos = 0, n = 0;
  std::vector<std::string> args;
  while (pos < s.size()) {
    std::size_t start = pos;
    if (!read_command(s, pos, args)) {
      pos = start;
      break;
    }
    std::size_t i = password_index(args);
    if (i != std::string::npos && !is_placeholder(args[i])) {
      args[i] = placeholder(args[i]);
      n++;
    }
    out += write_command(args);
  }
  if (n == 0) return 0;
  bytes = out + std::string(s.substr(pos));
  return n;
}

std::size_t Redactor::redact_packets(std::vector<Value>& packets) const {
  if (!enabled()) return 0;
  std::size_t n = 0;
  for (Value& packet : packets) {
    std::size_t before = n;
    if (is_password_packet(packet)) {
      Value* message = packet.find("message");
      if (message && !message->is_null() &&
          !(message->is_scalar() && is_placeholder(message->text))) {
        *message = Value::string(placeholder(message->is_scalar() ? message->text : "structured"));
        n++;
      }
    }
    n += redact_tree(packet, *this, 0);
    // The raw packet bytes repeat the password: drop them once a password was found.
    if (n > before) {
      if (Value* payload = packet.find("payload"); payload && payload->is_scalar()) {
        *payload = Value::string(placeholder(payload->text));
      }
    }
  }
  return n;
}

std::size_t Redactor::redact(Mock& mock) const {
  if (!enabled()) return 0;
  std::size_t n = 0;
  if (auto* http = std::get_if<HttpMockSpec>(&mock.spec)) {
    n += redact(http->req) + redact(http->resp);
  } else if (auto* p = std::get_if<PayloadMockSpec>(&mock.spec);
             p && mock.kind == MockKind::kRedis) {
    for (auto& payload : p->requests) {
      for (auto& chunk : payload.message) n += redact_redis(chunk.data);
    }
  } else if (auto* packets = std::get_if<PacketMockSpec>(&mock.spec)) {
    n += redact_packets(packets->requests);
  } else if (auto* grpc = std::get_if<GrpcMockSpec>(&mock.spec)) {
    n += redact(grpc->req) + redact(grpc->resp);
  }
  return n;
}

}  // namespace reel::testset
