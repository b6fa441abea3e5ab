#include "testset/http_codec.h"

#include "core/encoding.h"

namespace reel::testset {

namespace {

bool all_ascii(std::string_view bytes) {
  for (char c : bytes) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

Value string_map_value(const std::map<std::string, std::string>& map) {
  Value v = Value::mapping();
  for (const auto& [key, value] : map) v.add(key, Value::string(value));
  return v;
}

Value timestamp_value(const Timestamp& t) { return Value::plain(t.to_string()); }

// Field order is Keploy's HTTPReq; omitempty fields only when set.
Value request_value(const HttpRequest& req) {
  Value v = Value::mapping();
  v.add("method", Value::string(req.method));
  v.add("proto_major", Value::integer(req.proto_major));
  v.add("proto_minor", Value::integer(req.proto_minor));
  v.add("url", Value::string(req.url));
  if (!req.url_params.empty()) v.add("url_params", string_map_value(req.url_params));
  v.add("header", string_map_value(req.header));
  v.add("body", Value::string(req.body));
  v.add("timestamp", timestamp_value(req.timestamp));
  return v;
}

// Field order is Keploy's HTTPResp.
Value response_value(const HttpResponse& resp) {
  Value v = Value::mapping();
  v.add("status_code", Value::integer(resp.status_code));
  v.add("header", string_map_value(resp.header));
  v.add("body", Value::string(resp.body));
  v.add("status_message", Value::string(resp.status_message));
  v.add("proto_major", Value::integer(resp.proto_major));
  v.add("proto_minor", Value::integer(resp.proto_minor));
  v.add("timestamp", timestamp_value(resp.timestamp));
  return v;
}

Result<HttpRequest> request_from(const Value& v, const Decoder& in, std::string_view path) {
  if (!v.is_mapping()) return in.fail(v, path, "a mapping with method, url, header and body");
  HttpRequest req;
  req.method = REEL_TRY(in.text_at(v, path, "method"));
  req.proto_major = static_cast<int>(REEL_TRY(in.integer_at(v, path, "proto_major", 0, 9)));
  req.proto_minor = static_cast<int>(REEL_TRY(in.integer_at(v, path, "proto_minor", 0, 9)));
  req.url = REEL_TRY(in.text_at(v, path, "url"));
  req.url_params = REEL_TRY(in.string_map_at(v, path, "url_params"));
  req.header = REEL_TRY(in.string_map_at(v, path, "header"));
  req.body = REEL_TRY(in.text_at(v, path, "body"));
  req.timestamp = REEL_TRY(in.timestamp_at(v, path, "timestamp"));
  return req;
}

Result<HttpResponse> response_from(const Value& v, const Decoder& in, std::string_view path) {
  if (!v.is_mapping()) return in.fail(v, path, "a mapping with status_code, header and body");
  HttpResponse resp;
  resp.status_code = static_cast<int>(REEL_TRY(in.integer_at(v, path, "status_code", 0, 999)));
  resp.header = REEL_TRY(in.string_map_at(v, path, "header"));
  resp.body = REEL_TRY(in.text_at(v, path, "body"));
  resp.status_message = REEL_TRY(in.text_at(v, path, "status_message"));
  resp.proto_major = static_cast<int>(REEL_TRY(in.integer_at(v, path, "proto_major", 0, 9)));
  resp.proto_minor = static_cast<int>(REEL_TRY(in.integer_at(v, path, "proto_minor", 0, 9)));
  resp.timestamp = REEL_TRY(in.timestamp_at(v, path, "timestamp"));
  return resp;
}

// Keploy writes ASCII bytes as type "string" and anything else base64 as type "binary".
Value chunks_value(const std::vector<Chunk>& chunks) {
  Value list = Value::sequence();
  for (const Chunk& chunk : chunks) {
    Value& item = list.push(Value::mapping());
    if (all_ascii(chunk.data)) {
      item.add("type", Value::string("string"));
      item.add("data", Value::string(chunk.data));
    } else {
      item.add("type", Value::string("binary"));
      item.add("data", Value::string(base64_encode(chunk.data)));
    }
  }
  return list;
}

Result<std::vector<Chunk>> chunks_from(const Value& v, const Decoder& in, std::string_view path) {
  std::vector<Chunk> out;
  if (v.is_null()) return out;
  if (!v.is_sequence()) return in.fail(v, path, "a list of {type, data}");
  for (std::size_t i = 0; i < v.items.size(); i++) {
    std::string at = fmt::format("{}[{}]", path, i);
    const Value& item = v.items[i];
    if (!item.is_mapping()) return in.fail(item, at, "a mapping with type and data");
    std::string type = REEL_TRY(in.text_at(item, at, "type"));
    const Value* data = REEL_TRY(in.optional(item, at, "data"));
    Chunk chunk;
    if (data != nullptr) chunk.data = REEL_TRY(in.text(*data, join_path(at, "data")));
    if (type == "binary" && data != nullptr && data->style != Value::Style::kBinary) {
      std::string bytes;
      if (!base64_decode(chunk.data, bytes)) return in.fail(*data, join_path(at, "data"), "base64");
      chunk.data = std::move(bytes);
    }
    out.push_back(std::move(chunk));
  }
  return out;
}

Value payloads_value(const std::vector<Payload>& payloads) {
  Value list = Value::sequence();
  for (const Payload& p : payloads) {
    Value& item = list.push(Value::mapping());
    item.add("origin", Value::string(p.origin));
    item.add("message", chunks_value(p.message));
  }
  return list;
}

Result<std::vector<Payload>> payloads_from(const Value* v, const Decoder& in,
                                           std::string_view path) {
  std::vector<Payload> out;
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_sequence()) return in.fail(*v, path, "a list of {origin, message}");
  for (std::size_t i = 0; i < v->items.size(); i++) {
    std::string at = fmt::format("{}[{}]", path, i);
    const Value& item = v->items[i];
    if (!item.is_mapping()) return in.fail(item, at, "a mapping with origin and message");
    Payload p;
    p.origin = REEL_TRY(in.text_at(item, at, "origin"));
    const Value* message = REEL_TRY(in.optional(item, at, "message"));
    if (message != nullptr)
      p.message = REEL_TRY(chunks_from(*message, in, join_path(at, "message")));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace reel::testset
