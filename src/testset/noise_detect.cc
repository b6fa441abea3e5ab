// Automatic noise detection: by the shape of one response, or by comparing two.
#include <array>
#include <cctype>
#include <cmath>
#include <regex>

#include "protocols/http2/protobuf_json.h"
#include "protocols/text.h"
#include "testset/json_paths.h"
#include "testset/noise.h"

namespace reel::testset {

namespace {

constexpr std::array<std::string_view, 26> kVolatileHeaders = {"date",
                                                               "last-modified",
                                                               "expires",
                                                               "etag",
                                                               "set-cookie",
                                                               "age",
                                                               "request-id",
                                                               "x-request-id",
                                                               "correlation-id",
                                                               "x-correlation-id",
                                                               "x-trace-id",
                                                               "traceparent",
                                                               "tracestate",
                                                               "x-amzn-trace-id",
                                                               "x-amzn-requestid",
                                                               "x-amz-request-id",
                                                               "x-amz-id-2",
                                                               "x-runtime",
                                                               "x-response-time",
                                                               "server-timing",
                                                               "cf-ray",
                                                               "x-b3-traceid",
                                                               "x-b3-spanid",
                                                               "x-cloud-trace-context",
                                                               "x-envoy-upstream-service-time",
                                                               "x-timer"};
constexpr std::array<std::string_view, 5> kVolatileSuffixes = {
    "-request-id", "-requestid", "-trace-id", "-correlation-id", "-span-id"};
// Key names that mark an epoch-seconds number as a time: contained words, and short tokens that
// must be the whole key or its last "_" part (so "status" is not "ts").
constexpr std::array<std::string_view, 6> kTimeWords = {"time",    "date",    "stamp",
                                                        "expires", "created", "updated"};
constexpr std::array<std::string_view, 5> kTimeTokens = {"at", "ts", "exp", "iat", "nbf"};

bool volatile_header(std::string_view name) {
  std::string lower = protocols::to_lower(name);
  for (auto h : kVolatileHeaders) {
    if (lower == h) return true;
  }
  for (auto s : kVolatileSuffixes) {
    if (lower.ends_with(s)) return true;
  }
  return false;
}

bool matches(const std::regex& re, std::string_view s) {
  return s.size() <= 256 && std::regex_match(s.begin(), s.end(), re);
}

bool is_uuid(std::string_view s) {
  static const std::regex kUuid(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  return s.size() == 36 && matches(kUuid, s);
}

bool is_time_text(std::string_view s) {
  static const std::regex kRfc3339(
      "\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([Zz]|[+-]\\d{2}:?\\d{2})?");
  static const std::regex kHttpDate(
      "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");
  return matches(kRfc3339, s) || matches(kHttpDate, s);
}

double entropy_bits(std::string_view s) {
  std::array<int, 256> counts{};
  for (char c : s) counts[static_cast<unsigned char>(c)]++;
  double bits = 0;
  for (int n : counts) {
    if (n == 0) continue;
    double p = static_cast<double>(n) / static_cast<double>(s.size());
    bits -= p * std::log2(p);
  }
  return bits;
}

// Session ids, API tokens, JWTs, hex digests: long, no spaces, letters and digits mixed, and
// too varied to be a word or a code.
bool is_random_token(std::string_view s) {
  static const std::regex kJwt("eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");
  static const std::regex kHex("[0-9a-fA-F]{32,}");
  static const std::regex kToken("[A-Za-z0-9_\\-+/=.~]{20,}");
  if (s.size() < 20) return false;
  if (s.size() <= 1024 &&
      (std::regex_match(s.begin(), s.end(), kJwt) || std::regex_match(s.begin(), s.end(), kHex))) {
    return true;
  }
  bool letters = false, digits = false;
  for (char c : s) {
    letters = letters || std::isalpha(static_cast<unsigned char>(c));
    digits = digits || std::isdigit(static_cast<unsigned char>(c));
  }
  return letters && digits && matches(kToken, s) && entropy_bits(s) >= 3.5;
}

bool time_like_key(std::string_view key) {
  std::string lower = protocols::to_lower(key);
  for (auto word : kTimeWords) {
    if (lower.find(word) != std::string::npos) return true;
  }
  for (auto token : kTimeTokens) {
    if (lower == token || lower.ends_with("_" + std::string(token))) return true;
  }
  // camelCase "createdAt", "expiresAt", "updatedAt"
  return key.ends_with("At") || key.ends_with("Time") || key.ends_with("Ts");
}

bool volatile_text(std::string_view s) {
  return is_time_text(s) || is_uuid(s) || is_random_token(s);
}

bool volatile_number(const Json& v, std::string_view key) {
  if (!v.is_number_integer() && !v.is_number_unsigned()) return false;
  double n = v.get<double>();
  constexpr double kMs2001 = 1e12, kMs2100 = 4.1e12;
  if (n >= kMs2001 && n <= kMs2100) return true;  // epoch milliseconds, whatever the key
  if (!time_like_key(key)) return false;
  return (n >= 1e9 && n <= 4.1e9) || (n >= 1e15 && n <= 4.1e15) || (n >= 1e18);
}

std::string trimmed(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t\r\n\"");
  std::size_t e = s.find_last_not_of(" \t\r\n\"");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

}  // namespace

NoiseMap detect_noise(const HttpResponse& resp) {
  NoiseMap noise;
  for (const auto& [name, value] : resp.header) {
    if (volatile_header(name) || is_uuid(value)) noise["header." + name];
  }
  if (auto json = parse_json_body(resp.body)) {
    for (const auto& leaf : json_leaves(*json, "body")) {
      const Json& v = *leaf.value;
      if ((v.is_string() && volatile_text(v.get_ref<const std::string&>())) ||
          volatile_number(v, leaf.key)) {
        noise[leaf.path];
      }
    }
  } else if (!resp.body.empty() && volatile_text(trimmed(resp.body))) {
    noise["body"];
  }
  return noise;
}

NoiseMap detect_grpc_noise(const GrpcResponse& resp) {
  NoiseMap noise;
  for (auto [part, prefix] : {std::pair{&resp.headers, "header."}, {&resp.trailers, "trailer."}}) {
    for (const auto& [name, value] : part->ordinary) {
      if (volatile_header(name) || is_uuid(value)) noise[prefix + name];
    }
  }
  for (std::size_t i = 0; i < resp.messages.size(); i++) {
    std::string at = "messages." + std::to_string(i);
    const std::string& data = resp.messages[i].data;
    if (auto json = protocols::grpc::protobuf_json(data)) {
      Json fields(*json);
      for (const auto& leaf : json_leaves(fields, at)) {
        const Json& v = *leaf.value;
        if ((v.is_string() && volatile_text(v.get_ref<const std::string&>())) ||
            volatile_number(v, leaf.key)) {
          noise[leaf.path];
        }
      }
    } else if (!data.empty() && protocols::is_text(data) && volatile_text(trimmed(data))) {
      noise[at];
    }
  }
  return noise;
}

NoiseMap detect_noise_between(const HttpResponse& first, const HttpResponse& second) {
  NoiseMap noise;
  for (const auto& [name, value] : first.header) {
    const std::string* other = find_header(second.header, name);
    if (other != nullptr && *other != value) noise["header." + name];
  }
  auto a = parse_json_body(first.body);
  auto b = parse_json_body(second.body);
  if (a && b) {
    std::map<std::string, std::string> seen;
    for (const auto& leaf : json_leaves(*b, "body")) seen[leaf.path] = leaf.value->dump();
    for (const auto& leaf : json_leaves(*a, "body")) {
      auto it = seen.find(leaf.path);
      if (it != seen.end() && it->second != leaf.value->dump()) noise[leaf.path];
    }
  } else if (first.body != second.body) {
    noise["body"];
  }
  return noise;
}

}  // namespace reel::testset
