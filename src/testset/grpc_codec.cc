// Keploy stores one message per direction (`body`, a GrpcLengthPrefixedMessage {compression_flag,
// message_length, decoded_data}) with decoded_data in protoscope text; newer Keploy adds the rest
// of a stream as `additional_messages`. reel writes both as Keploy does, and `messages: []`
// only where Keploy's form cannot say "no message at all": its zero-value body reads as one
// empty message, except in a failed call's answer.
#include "testset/grpc_codec.h"

#include <limits>
#include <utility>

#include "protocols/http2/protoscope.h"
#include "testset/http_codec.h"

namespace reel::testset {

namespace {

using protocols::grpc::protoscope_scan;
using protocols::grpc::protoscope_write;

Value headers_value(const GrpcHeaders& h) {
  Value v = Value::mapping();
  v.add("pseudo_headers", string_map_value(h.pseudo));
  v.add("ordinary_headers", string_map_value(h.ordinary));
  return v;
}

Value message_value(const GrpcMessage& m, std::string decoded) {
  Value v = Value::mapping();
  v.add("compression_flag", Value::integer(m.compressed ? 1 : 0));
  v.add("message_length", Value::integer(m.wire_length));
  v.add("decoded_data", Value::string(std::move(decoded)));
  return v;
}

// `failed`: the answer of a call whose status is an error, where an empty body means none.
void add_messages(Value& v, const std::vector<GrpcMessage>& messages, bool failed) {
  if (messages.empty()) {
    v.add("body", message_value({}, ""));  // Keploy's zero value
    if (!failed) v.add("messages", Value::sequence());
    return;
  }
  v.add("body", message_value(messages.front(), protoscope_write(messages.front().data)));
  if (messages.size() == 1) return;
  Value more = Value::sequence();
  for (std::size_t i = 1; i < messages.size(); i++) {
    more.push(message_value(messages[i], protoscope_write(messages[i].data)));
  }
  v.add("additional_messages", std::move(more));
}

Result<GrpcHeaders> headers_from(const Value& parent, const Decoder& in, std::string_view path,
                                 std::string_view key) {
  GrpcHeaders h;
  const Value* v = REEL_TRY(in.optional(parent, path, key));
  if (v == nullptr) return h;
  std::string p = join_path(path, key);
  h.pseudo = REEL_TRY(in.string_map_at(*v, p, "pseudo_headers"));
  h.ordinary = REEL_TRY(in.string_map_at(*v, p, "ordinary_headers"));
  return h;
}

// `keploy_length`: Keploy's message_length is only informative (hand-written files get it
// wrong), so an uncompressed message's length is that of its bytes.
Result<GrpcMessage> message_from(const Value& v, const Decoder& in, std::string_view path,
                                 bool keploy_length) {
  if (!v.is_mapping()) {
    return in.fail(v, path, "a message (compression_flag, message_length, decoded_data)");
  }
  GrpcMessage m;
  m.compressed = REEL_TRY(in.integer_at(v, path, "compression_flag", 0, 255)) != 0;
  m.wire_length = static_cast<std::uint32_t>(REEL_TRY(
      in.integer_at(v, path, "message_length", 0, std::numeric_limits<std::uint32_t>::max())));
  if (const Value* data = REEL_TRY(in.optional(v, path, "decoded_data"))) {
    std::string text = REEL_TRY(in.text(*data, join_path(path, "decoded_data")));
    auto bytes = protoscope_scan(text);
    if (!bytes) {
      return fail_msg("{}:{}: {}.decoded_data: not protoscope text: {}", in.source(), data->line,
                      path, bytes.error().message);
    }
    m.data = std::move(*bytes);
  }
  if (keploy_length && !m.compressed &&
      m.data.size() <= std::numeric_limits<std::uint32_t>::max()) {
    m.wire_length = static_cast<std::uint32_t>(m.data.size());
  }
  return m;
}

struct Stream {
  std::vector<GrpcMessage> messages;
  bool from_body = false;  // read from Keploy's body, not from reel's messages
};

Result<Stream> stream_from(const Value& v, const Decoder& in, std::string_view path) {
  Stream s;
  if (const Value* list = REEL_TRY(in.optional(v, path, "messages"))) {
    std::string p = join_path(path, "messages");
    if (!list->is_sequence() && !list->is_null()) return in.fail(*list, p, "a list of messages");
    for (std::size_t i = 0; i < list->items.size(); i++) {
      s.messages.push_back(
          REEL_TRY(message_from(list->items[i], in, fmt::format("{}[{}]", p, i), false)));
    }
    return s;
  }
  s.from_body = true;
  if (const Value* body = REEL_TRY(in.optional(v, path, "body"))) {
    s.messages.push_back(REEL_TRY(message_from(*body, in, join_path(path, "body"), true)));
  }
  if (const Value* more = REEL_TRY(in.optional(v, path, "additional_messages"))) {
    std::string p = join_path(path, "additional_messages");
    if (!more->is_sequence() && !more->is_null()) return in.fail(*more, p, "a list of messages");
    for (std::size_t i = 0; i < more->items.size(); i++) {
      s.messages.push_back(
          REEL_TRY(message_from(more->items[i], in, fmt::format("{}[{}]", p, i), true)));
    }
  }
  return s;
}

}  // namespace

Value grpc_request_value(const GrpcRequest& req) {
  Value v = Value::mapping();
  v.add("headers", headers_value(req.headers));
  add_messages(v, req.messages, false);
  if (!req.timestamp.is_zero()) v.add("timestamp", timestamp_value(req.timestamp));
  return v;
}

Value grpc_response_value(const GrpcResponse& resp) {
  Value v = Value::mapping();
  v.add("headers", headers_value(resp.headers));
  add_messages(v, resp.messages, grpc_status(resp) > 0);
  v.add("trailers", headers_value(resp.trailers));
  if (!resp.timestamp.is_zero()) v.add("timestamp", timestamp_value(resp.timestamp));
  return v;
}

Result<GrpcRequest> grpc_request_from(const Value& v, const Decoder& in, std::string_view path) {
  if (!v.is_mapping()) return in.fail(v, path, "a mapping with headers and body");
  GrpcRequest req;
  req.headers = REEL_TRY(headers_from(v, in, path, "headers"));
  req.messages = REEL_TRY(stream_from(v, in, path)).messages;
  req.timestamp = REEL_TRY(in.timestamp_at(v, path, "timestamp"));
  return req;
}

Result<GrpcResponse> grpc_response_from(const Value& v, const Decoder& in, std::string_view path) {
  if (!v.is_mapping()) return in.fail(v, path, "a mapping with headers, body and trailers");
  GrpcResponse resp;
  resp.headers = REEL_TRY(headers_from(v, in, path, "headers"));
  Stream s = REEL_TRY(stream_from(v, in, path));
  resp.trailers = REEL_TRY(headers_from(v, in, path, "trailers"));
  resp.timestamp = REEL_TRY(in.timestamp_at(v, path, "timestamp"));
  // Keploy writes its zero value as the body of a failed call that sent no message.
  bool zero_body = s.from_body && s.messages.size() == 1 && s.messages[0] == GrpcMessage{};
  if (zero_body && grpc_status(resp) > 0) s.messages.clear();
  resp.messages = std::move(s.messages);
  return resp;
}

}  // namespace reel::testset
