// Secret redaction, applied by the writer to every test case and mock before it reaches disk.
//
// A secret becomes "REDACTED:" + the first 8 hex digits of HMAC-SHA256(key, secret), with one
// key per recording directory (DIR/.reel-redaction-key, mode 0600). The same secret maps to
// the same placeholder, so a replayed request carrying the real secret can be redacted with the
// same key and still match its mock; without the key the placeholder cannot be tested against
// guesses. Redacting twice changes nothing (placeholders are left alone).
//
// What is redacted:
//  - headers, and gRPC metadata and trailers by the same rules: Authorization and
//    Proxy-Authorization (the scheme is kept: "Bearer REDACTED:…"),
//    Cookie and Set-Cookie (each cookie value; names and attributes kept), X-Api-Key, Api-Key,
//    and any name ending in -Token, -Secret, -Password, -Api-Key or -ApiKey, plus configured names;
//  - JSON bodies, form bodies and URL query strings: values of fields named password, passwd,
//    secret, token, api_key, apikey, access_token, refresh_token, client_secret, id_token,
//    private_key (any case, any depth), plus configured names;
//  - Redis AUTH and HELLO … AUTH arguments; Postgres password messages; MySQL clear-text and
//    encrypted password packets (the packet writers can also call redact_db_password).
// Not redacted: Generic (unknown protocol) bytes, and secrets inside free text.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "testset/model.h"

namespace reel::testset {

struct RedactionConfig {
  bool enabled = true;
  std::vector<std::string> headers;  // more header names; case-insensitive; '*' matches any run
  std::vector<std::string> fields;   // more JSON/form/query field names; case-insensitive
};

class Redactor {
 public:
  static constexpr std::size_t kKeyBytes = 32;
  static constexpr std::string_view kPrefix = "REDACTED:";
  static constexpr std::string_view kKeyFile = ".reel-redaction-key";

  Redactor(std::string key, RedactionConfig config = {});
  // Reads ROOT/.reel-redaction-key, creating it (random, mode 0600) when absent, so every test
  // set recorded under ROOT, and every replay of them, shares one key.
  static Result<Redactor> for_recording(const std::filesystem::path& root,
                                        RedactionConfig config = {});

  bool enabled() const { return config_.enabled; }
  std::string placeholder(std::string_view secret) const;
  static bool is_placeholder(std::string_view value);
  bool is_secret_header(std::string_view name) const;
  bool is_secret_field(std::string_view name) const;

  // In place; each returns how many values were replaced (0 when disabled).
  std::size_t redact(TestCase& test) const;  // request, response, and curl rebuilt
  std::size_t redact(Mock& mock) const;
  std::size_t redact(HttpRequest& req) const;
  std::size_t redact(HttpResponse& resp) const;
  std::size_t redact(GrpcRequest& req) const;    // metadata (ordinary headers)
  std::size_t redact(GrpcResponse& resp) const;  // metadata and trailers
  std::size_t redact_headers(HeaderMap& headers) const;
  std::size_t redact_body(std::string& body, std::string_view content_type) const;
  std::size_t redact_url(std::string& url) const;
  std::size_t redact_redis(std::string& resp_bytes) const;
  std::size_t redact_packets(std::vector<Value>& packets) const;

  // Hook for the Postgres and MySQL mock writers: what to store instead of a handshake password.
  std::string redact_db_password(std::string_view password) const;

 private:
  std::string header_value(std::string_view name, std::string_view value) const;
  std::string cookie_values(std::string_view value) const;
  std::size_t redact_query(std::string& query) const;

  std::string key_;
  RedactionConfig config_;
};

}  // namespace reel::testset
