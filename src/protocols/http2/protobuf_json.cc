#include "protocols/http2/protobuf_json.h"

#include <cstdint>
#include <optional>
#include <string>

#include "protocols/http2/protowire.h"

namespace reel::protocols::grpc {

namespace {

using Json = nlohmann::json;
namespace pw = protowire;

constexpr int kMaxDepth = 64;  // deeper length-delimited fields stay bytes
constexpr std::uint64_t kMaxField = (1u << 29) - 1;

// Well-formed UTF-8 without control characters but tab, CR and LF.
bool printable_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    pw::Rune r = pw::decode_rune(s, i);
    if (r.len == 0) return false;
    bool space = r.cp == '\t' || r.cp == '\n' || r.cp == '\r';
    if ((r.cp < 0x20 && !space) || (r.cp >= 0x7f && r.cp < 0xa0)) return false;
    i += r.len;
  }
  return true;
}

std::string base64(std::string_view in) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = std::uint32_t(std::uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) n |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= std::uint8_t(in[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

void add(Json& object, const std::string& key, Json value) {
  auto it = object.find(key);
  if (it == object.end()) {
    object[key] = std::move(value);
  } else if (it->is_array()) {
    it->push_back(std::move(value));
  } else {
    *it = Json::array({std::move(*it), std::move(value)});
  }
}

bool parse_message(std::string_view& in, int depth, std::optional<std::uint64_t> group, Json& out);

Json length_delimited(std::string_view bytes, int depth) {
  if (printable_text(bytes)) return bytes;
  if (depth < kMaxDepth) {
    Json nested = Json::object();
    std::string_view rest = bytes;
    if (parse_message(rest, depth + 1, std::nullopt, nested)) return nested;
  }
  return Json{{"bytes", base64(bytes)}};
}

// Fields off the front of `in` until it ends or, inside a group, until the group's end tag.
bool parse_message(std::string_view& in, int depth, std::optional<std::uint64_t> group, Json& out) {
  out = Json::object();
  while (!in.empty()) {
    pw::Varint tag;
    if (!pw::read_varint(in, tag)) return false;
    std::uint64_t field = tag.value >> 3;
    if (field == 0 || field > kMaxField) return false;
    std::uint64_t fixed = 0;
    pw::Varint v;
    Json value;
    switch (tag.value & 7) {
      case pw::kVarint:
        if (!pw::read_varint(in, v)) return false;
        value = v.value;
        break;
      case pw::kI64:
      case pw::kI32:
        if (!pw::read_fixed(in, (tag.value & 7) == pw::kI64 ? 8 : 4, fixed)) return false;
        value = fixed;
        break;
      case pw::kLen:
        if (!pw::read_varint(in, v) || v.value > in.size()) return false;
        value = length_delimited(in.substr(0, v.value), depth);
        in.remove_prefix(v.value);
        break;
      case pw::kSGroup:
        if (depth >= kMaxDepth || !parse_message(in, depth + 1, field, value)) return false;
        break;
      case pw::kEGroup:
        return group == field;
      default:
        return false;
    }
    add(out, std::to_string(field), std::move(value));
  }
  return !group;
}

}  // namespace

std::optional<nlohmann::json> protobuf_json(std::string_view bytes) {
  Json out;
  if (!parse_message(bytes, 0, std::nullopt, out)) return std::nullopt;
  return out;
}

}  // namespace reel::protocols::grpc
