#include "testset/redact.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <system_error>

#include "core/user.h"
#include "protocols/text.h"
#include "testset/atomic_file.h"
#include "testset/codec.h"
#include "testset/json_paths.h"

namespace reel::testset {

namespace fs = std::filesystem;
using protocols::iequals;

namespace {

constexpr std::array<std::string_view, 4> kExactHeaders = {"authorization", "proxy-authorization",
                                                           "x-api-key", "api-key"};
constexpr std::array<std::string_view, 5> kHeaderSuffixes = {"-token", "-secret", "-password",
                                                             "-api-key", "-apikey"};
constexpr std::array<std::string_view, 11> kFields = {
    "password",     "passwd",        "secret",        "token",    "api_key",    "apikey",
    "access_token", "refresh_token", "client_secret", "id_token", "private_key"};
constexpr std::array<std::string_view, 8> kCookieAttributes = {
    "expires", "max-age", "domain", "path", "samesite", "priority", "version", "comment"};

// Case-insensitive glob where '*' matches any run of characters.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  auto lower = [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); };
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(text[t])) {
      p++;
      t++;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') p++;
  return p == pattern.size();
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; i++) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

bool unhex(std::string_view text, std::string& out) {
  auto nibble = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  if (text.size() % 2 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

// "%41+b" -> "A b", for comparing form and query keys with field names.
std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); i++) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::size_t redact_json(Json& v, const Redactor& r, std::size_t depth) {
  if (depth > kMaxJsonDepth) return 0;
  std::size_t n = 0;
  if (v.is_object()) {
    for (auto& [key, child] : v.items()) {
      bool scalar = !child.is_object() && !child.is_array() && !child.is_null();
      if (scalar && r.is_secret_field(key)) {
        std::string text = leaf_text(child);
        if (Redactor::is_placeholder(text)) continue;
        child = r.placeholder(text);
        n++;
      } else {
        n += redact_json(child, r, depth + 1);
      }
    }
  } else if (v.is_array()) {
    for (auto& child : v) n += redact_json(child, r, depth + 1);
  }
  return n;
}

}  // namespace

Redactor::Redactor(std::string key, RedactionConfig config)
    : key_(std::move(key)), config_(std::move(config)) {}

Result<Redactor> Redactor::for_recording(const fs::path& root, RedactionConfig config) {
  REEL_TRY(create_dirs(root, 0750));
  std::error_code ec;
  fs::path path = root / kKeyFile;
  std::string key;
  if (fs::exists(path, ec)) {
    std::string text = REEL_TRY(read_file(path, 4096));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!unhex(text, key) || key.size() != kKeyBytes) {
      return fail_msg(
          "{}: expected {} hex digits (the redaction key); delete it to start a new "
          "recording key",
          path.string(), kKeyBytes * 2);
    }
    return Redactor(std::move(key), std::move(config));
  }
  std::array<unsigned char, kKeyBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return fail_msg("no random bytes for the redaction key (OpenSSL RAND_bytes failed)");
  }
  REEL_TRY(write_file_atomic(path, hex(bytes.data(), bytes.size()) + "\n", 0600));
  return Redactor(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                  std::move(config));
}

std::string Redactor::placeholder(std::string_view secret) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), mac, &len);
  return std::string(kPrefix) + hex(mac, 4);
}

bool Redactor::is_placeholder(std::string_view value) { return value.starts_with(kPrefix); }

bool Redactor::is_secret_header(std::string_view name) const {
  std::string lower = protocols::to_lower(name);
  for (auto h : kExactHeaders) {
    if (lower == h) return true;
  }
  for (auto suffix : kHeaderSuffixes) {
    if (lower.ends_with(suffix)) return true;
  }
  for (const auto& pattern : config_.headers) {
    if (glob_match(pattern, name)) return true;
  }
  return lower == "cookie" || lower == "set-cookie";
}

bool Redactor::is_secret_field(std::string_view name) const {
  for (auto f : kFields) {
    if (iequals(name, f)) return true;
  }
  for (const auto& f : config_.fields) {
    if (iequals(name, f)) return true;
  }
  return false;
}

std::string Redactor::redact_db_password(std::string_view password) const {
  return is_placeholder(password) ? std::string(password) : placeholder(password);
}

// Replaces each cookie value; names, attributes and an Expires date (which holds a comma) stay.
std::string Redactor::cookie_values(std::string_view v) const {
  std::string out;
  std::size_t pos = 0;
  while (pos < v.size()) {
    std::size_t end = v.find_first_of("=;,", pos);
    if (end == std::string_view::npos || v[end] != '=') {
      end = end == std::string_view::npos ? v.size() : end + 1;
      out.append(v.substr(pos, end - pos));
      pos = end;
      continue;
    }
    std::string_view name = v.substr(pos, end - pos);
    std::size_t value_start = end + 1;
    std::size_t from = value_start;
    std::string trimmed(name.substr(name.find_first_not_of(' ') == std::string_view::npos
                                        ? name.size()
                                        : name.find_first_not_of(' ')));
    if (iequals(trimmed, "expires")) {
      std::size_t comma = v.find(',', value_start);
      if (comma != std::string_view::npos && comma - value_start <= 9) from = comma + 1;
    }
    std::size_t value_end = std::min(v.find_first_of(";,", from), v.size());
    std::string_view value = v.substr(value_start, value_end - value_start);
    out.append(v.substr(pos, value_start - pos));
    bool attribute = false;
    for (auto a : kCookieAttributes) attribute = attribute || iequals(trimmed, a);
    out += attribute || value.empty() || is_placeholder(value) ? std::string(value)
                                                               : placeholder(value);
    pos = value_end;
  }
  return out;
}

std::string Redactor::header_value(std::string_view name, std::string_view value) const {
  if (iequals(name, "cookie") || iequals(name, "set-cookie")) return cookie_values(value);
  if (iequals(name, "authorization") || iequals(name, "proxy-authorization")) {
    std::size_t space = value.find(' ');
    if (space != std::string_view::npos) {
      std::string_view credentials = value.substr(space + 1);
      if (is_placeholder(credentials)) return std::string(value);
      return std::string(value.substr(0, space + 1)) + placeholder(credentials);
    }
  }
  return is_placeholder(value) ? std::string(value) : placeholder(value);
}

std::size_t Redactor::redact_headers(HeaderMap& headers) const {
  if (!enabled()) return 0;
  std::size_t n = 0;
  for (auto& [name, value] : headers) {
    if (!is_secret_header(name) || value.empty()) continue;
    std::string redacted = header_value(name, value);
    if (redacted != value) n++;
    value = std::move(redacted);
  }
  return n;
}

std::size_t Redactor::redact_query(std::string& query) const {
  std::string out;
  std::size_t n = 0, pos = 0;
  while (pos <= query.size()) {
    std::size_t amp = std::min(query.find('&', pos), query.size());
    std::string_view pair(query.data() + pos, amp - pos);
    std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && is_secret_field(url_decode(pair.substr(0, eq))) &&
        eq + 1 < pair.size() && !is_placeholder(pair.substr(eq + 1))) {
      out.append(pair.substr(0, eq + 1)).append(placeholder(url_decode(pair.substr(eq + 1))));
      n++;
    } else {
      out.append(pair);
    }
    if (amp < query.size()) out += '&';
    pos = amp + 1;
  }
  if (n > 0) query = std::move(out);
  return n;
}

std::size_t Redactor::redact_url(std::string& url) const {
  if (!enabled()) return 0;
  std::size_t q = url.find('?');
  if (q == std::string::npos) return 0;
  std::size_t hash = std::min(url.find('#', q), url.size());
  std::string query = url.substr(q + 1, hash - q - 1);
  std::size_t n = redact_query(query);
  if (n > 0) url = url.substr(0, q + 1) + query + url.substr(hash);
  return n;
}

std::size_t Redactor::redact_body(std::string& body, std::string_view content_type) const {
  if (!enabled() || body.empty()) return 0;
  if (protocols::to_lower(content_type).find("x-www-form-urlencoded") != std::string::npos) {
    return redact_query(body);
  }
  std::optional<Json> json = parse_json_body(body);
  if (!json) return 0;
  std::size_t n = redact_json(*json, *this, 0);
  // Re-serialised only when something changed: the body keeps its bytes otherwise.
  if (n > 0) body = json->dump(-1, ' ', false, Json::error_handler_t::replace);
  return n;
}

std::size_t Redactor::redact(HttpRequest& req) const {
  const std::string* type = find_header(req.header, "Content-Type");
  std::size_t n = redact_body(req.body, type ? *type : "");
  return n + redact_headers(req.header) + redact_url(req.url);
}

std::size_t Redactor::redact(HttpResponse& resp) const {
  const std::string* type = find_header(resp.header, "Content-Type");
  std::size_t n = redact_body(resp.body, type ? *type : "");
  return n + redact_headers(resp.header);
}

std::size_t Redactor::redact(GrpcRequest& req) const {
  return redact_headers(req.headers.ordinary);  // metadata: authorization, cookie, x-api-key, ...
}

std::size_t Redactor::redact(GrpcResponse& resp) const {
  return redact_headers(resp.headers.ordinary) + redact_headers(resp.trailers.ordinary);
}

std::size_t Redactor::redact(TestCase& test) const {
  if (!enabled()) return 0;
  if (test.kind == TestKind::kGrpc) {
    test.curl.clear();  // a gRPC test has no curl line; one from elsewhere may hold secrets
    return redact(test.grpc_req) + redact(test.grpc_resp);
  }
  std::size_t n = redact(test.req) + redact(test.resp);
  // The curl line repeats the request, secrets included: always rebuild it from the redacted one.
  test.curl = make_curl(test.req);
  return n;
}

}  // namespace reel::testset
