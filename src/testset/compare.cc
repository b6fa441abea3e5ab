#include "testset/compare.h"

#include <array>

#include "protocols/http2/protobuf_json.h"
#include "protocols/text.h"
#include "testset/json_paths.h"

namespace reel::testset {

namespace {

constexpr std::array<std::string_view, 4> kFramingHeaders = {"content-length", "transfer-encoding",
                                                             "connection", "keep-alive"};

bool framing(std::string_view name) {
  for (auto h : kFramingHeaders) {
    if (protocols::iequals(name, h)) return true;
  }
  return false;
}

void compare_headers(const HttpResponse& e, const HttpResponse& a, const NoiseSet& noise,
                     std::vector<FieldDiff>& out) {
  for (const auto& [name, value] : e.header) {
    if (framing(name)) continue;
    std::string path = "header." + name;
    const std::string* got = find_header(a.header, name);
    if (got == nullptr) {
      if (!noise.ignores_absent(path)) out.push_back({FieldDiff::Kind::kMissing, path, value, ""});
    } else if (*got != value && !noise.ignores(path, value, *got)) {
      out.push_back({FieldDiff::Kind::kChanged, path, value, *got});
    }
  }
}

// Protobuf strings decoded without a schema may hold any bytes: never throw on them.
std::string json_text(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

class JsonComparer {
 public:
  JsonComparer(const NoiseSet& noise, std::vector<FieldDiff>& out) : noise_(noise), out_(out) {}

  void compare(const Json& e, const Json& a, std::string& path, std::size_t depth) {
    if (e == a) return;
    if (depth < kMaxJsonDepth && e.is_object() && a.is_object()) return objects(e, a, path, depth);
    if (depth < kMaxJsonDepth && e.is_array() && a.is_array()) return arrays(e, a, path, depth);
    std::string et = leaf_text(e), at = leaf_text(a);
    if (noise_.ignores(path, et, at)) return;
    out_.push_back({FieldDiff::Kind::kChanged, path, json_text(e), json_text(a)});
  }

 private:
  void child(const Json* e, const Json* a, std::string& path, std::string_view key,
             std::size_t depth) {
    std::size_t len = path.size();
    path += '.';
    path += key;
    if (e && a) {
      compare(*e, *a, path, depth + 1);
    } else if (!noise_.ignores_absent(path)) {
      out_.push_back({e ? FieldDiff::Kind::kMissing : FieldDiff::Kind::kUnexpected, path,
                      e ? json_text(*e) : "", a ? json_text(*a) : ""});
    }
    path.resize(len);
  }

  void objects(const Json& e, const Json& a, std::string& path, std::size_t depth) {
    for (const auto& [key, value] : e.items()) {
      auto it = a.find(key);
      child(&value, it == a.end() ? nullptr : &*it, path, key, depth);
    }
    for (const auto& [key, value] : a.items()) {
      if (!e.contains(key)) child(nullptr, &value, path, key, depth);
    }
  }

  void arrays(const Json& e, const Json& a, std::string& path, std::size_t depth) {
    for (std::size_t i = 0; i < std::max(e.size(), a.size()); i++) {
      child(i < e.size() ? &e[i] : nullptr, i < a.size() ? &a[i] : nullptr, path, std::to_string(i),
            depth);
    }
  }

  const NoiseSet& noise_;
  std::vector<FieldDiff>& out_;
};

void compare_bodies(const HttpResponse& e, const HttpResponse& a, const NoiseSet& noise,
                    ResponseDiff& diff) {
  if (noise.ignores_absent("body")) return;
  std::optional<Json> expected = parse_json_body(e.body);
  std::optional<Json> actual = expected ? parse_json_body(a.body) : std::nullopt;
  if (expected && actual) {
    diff.body_json = true;
    std::string path = "body";
    JsonComparer(noise, diff.body).compare(*expected, *actual, path, 0);
    return;
  }
  if (e.body != a.body && !noise.ignores("body", e.body, a.body)) {
    diff.body.push_back({FieldDiff::Kind::kChanged, "body", e.body, a.body});
    diff.expected_body = e.body;
    diff.actual_body = a.body;
  }
}

constexpr std::array<std::string_view, 7> kGrpcSkipped = {
    "content-length", "transfer-encoding", "connection", "keep-alive",
    "grpc-encoding",  "grpc-status",       "grpc-message"};

bool grpc_skipped(std::string_view name) {
  for (auto h : kGrpcSkipped) {
    if (protocols::iequals(name, h)) return true;
  }
  return false;
}

const std::string* lookup(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

void compare_grpc_headers(const GrpcHeaders& e, const GrpcHeaders& a, std::string_view prefix,
                          const NoiseSet& noise, std::vector<FieldDiff>& out) {
  for (const auto* part : {&e.pseudo, &e.ordinary}) {
    for (const auto& [name, value] : *part) {
      if (name == ":status" || grpc_skipped(name)) continue;
      std::string path = std::string(prefix) + "." + name;
      const std::string* got = lookup(name.starts_with(':') ? a.pseudo : a.ordinary, name);
      if (got == nullptr) {
        if (!noise.ignores_absent(path)) out.push_back({FieldDiff::Kind::kMissing, path, value, ""});
      } else if (*got != value && !noise.ignores(path, value, *got)) {
        out.push_back({FieldDiff::Kind::kChanged, path, value, *got});
      }
    }
  }
}

// grpc-message lives in the trailers, or in the headers of a trailers-only answer.
const std::string* grpc_message(const GrpcResponse& r) {
  if (const auto* m = lookup(r.trailers.ordinary, "grpc-message")) return m;
  return lookup(r.headers.ordinary, "grpc-message");
}

// A message as JSON keyed by field number when it is protobuf.
std::optional<Json> message_json(const std::string& data) {
  auto parsed = protocols::grpc::protobuf_json(data);
  if (!parsed) return std::nullopt;
  return Json(*parsed);
}

std::string bytes_text(std::string_view data) {
  if (protocols::is_text(data)) return json_text(Json(std::string(data)));
  return protocols::render_value(data, 4096);
}

std::string message_text(const std::string& data) {
  auto json = message_json(data);
  return json ? json_text(*json) : bytes_text(data);
}

void compare_message(const GrpcMessage& e, const GrpcMessage& a, std::string path,
                     const NoiseSet& noise, std::vector<FieldDiff>& out) {
  if (e.data == a.data || noise.ignores_absent(path)) return;
  auto ej = message_json(e.data);
  auto aj = ej ? message_json(a.data) : std::nullopt;
  if (ej && aj) {
    JsonComparer(noise, out).compare(*ej, *aj, path, 0);
    return;
  }
  if (noise.ignores(path, e.data, a.data)) return;
  out.push_back({FieldDiff::Kind::kChanged, path, ej ? json_text(*ej) : bytes_text(e.data),
                 bytes_text(a.data)});
}

int http_status(const GrpcResponse& r) {
  std::int64_t code = 0;
  const std::string* s = lookup(r.headers.pseudo, ":status");
  if (s == nullptr || !protocols::parse_int64(*s, code)) return 0;
  return static_cast<int>(code);
}

}  // namespace

GrpcDiff compare_grpc(const GrpcResponse& expected, const GrpcResponse& actual,
                      const NoiseSet& noise) {
  GrpcDiff diff;
  diff.expected_status = grpc_status(expected);
  diff.actual_status = grpc_status(actual);
  diff.expected_http = http_status(expected);
  diff.actual_http = http_status(actual);
  compare_grpc_headers(expected.headers, actual.headers, "header", noise, diff.headers);
  compare_grpc_headers(expected.trailers, actual.trailers, "trailer", noise, diff.headers);
  // An empty grpc-message says what an absent one says (Keploy writes `grpc-message: ""`).
  const std::string* em = grpc_message(expected);
  const std::string* am = grpc_message(actual);
  if (em && em->empty()) em = nullptr;
  if (am && am->empty()) am = nullptr;
  std::string path = "trailer.grpc-message";
  if (em && !am && !noise.ignores_absent(path)) {
    diff.headers.push_back({FieldDiff::Kind::kMissing, path, *em, ""});
  } else if (em && am && *em != *am && !noise.ignores(path, *em, *am)) {
    diff.headers.push_back({FieldDiff::Kind::kChanged, path, *em, *am});
  }
  diff.expected_messages = expected.messages.size();
  diff.actual_messages = actual.messages.size();
  std::size_t n = std::max(expected.messages.size(), actual.messages.size());
  for (std::size_t i = 0; i < n; i++) {
    std::string at = "messages." + std::to_string(i);
    bool have_e = i < expected.messages.size(), have_a = i < actual.messages.size();
    if (have_e && have_a) {
      compare_message(expected.messages[i], actual.messages[i], at, noise, diff.messages);
    } else if (!noise.ignores_absent(at)) {
      diff.messages.push_back(
          {have_e ? FieldDiff::Kind::kMissing : FieldDiff::Kind::kUnexpected, at,
           have_e ? message_text(expected.messages[i].data) : "",
           have_a ? message_text(actual.messages[i].data) : ""});
    }
  }
  return diff;
}

ResponseDiff compare_responses(const HttpResponse& expected, const HttpResponse& actual,
                               const NoiseSet& noise) {
  ResponseDiff diff;
  diff.expected_status = expected.status_code;
  diff.actual_status = actual.status_code;
  compare_headers(expected, actual, noise, diff.headers);
  compare_bodies(expected, actual, noise, diff);
  return diff;
}

}  // namespace reel::testset
