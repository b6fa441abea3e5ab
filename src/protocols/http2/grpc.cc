#include "protocols/http2/grpc.h"

#include <zlib.h>

#include <array>
#include <cstdio>

#include "protocols/byte_reader.h"
#include "protocols/text.h"

namespace reel::protocols {

namespace http2 {

void GrpcSplitter::feed(std::string_view bytes, const Limits& limits) {
  while (!bytes.empty()) {
    if (!in_message) {
      std::size_t n = std::min(bytes.size(), 5 - prefix.size());
      prefix.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      if (prefix.size() < 5) return;
      ByteReader r(prefix);
      std::uint8_t flag = 0;
      std::uint32_t length = 0;
      r.u8(flag);
      r.be32(length);
      prefix.clear();
      in_message = true;
      remaining = length;
      count++;
      if (messages.size() < limits.max_items) {
        messages.push_back({.compressed = (flag & 1) != 0, .length = length});
      } else {
        cut = true;
      }
    }
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, bytes.size()));
    if (messages.size() == count && !messages.empty()) {
      std::string& p = messages.back().payload;
      std::size_t room = limits.max_body > kept ? limits.max_body - kept : 0;
      std::size_t take = std::min(n, room);
      p.append(bytes.substr(0, take));
      kept += take;
      if (take < n) cut = true;
    }
    bytes.remove_prefix(n);
    remaining -= n;
    if (remaining == 0) in_message = false;
  }
}

}  // namespace http2

namespace grpc {

namespace {

constexpr std::size_t kMaxDepth = 16;

bool varint(ByteReader& r, std::uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    std::uint8_t b = 0;
    if (!r.u8(b)) return false;
    out |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool decode(std::string_view data, std::size_t depth, std::string& out, std::size_t cap) {
  if (depth > kMaxDepth) return false;
  std::string indent(2 * depth, ' ');
  ByteReader r(data);
  char buf[32];
  while (!r.empty()) {
    if (out.size() > cap) return true;  // the caller cuts; the shape is already known good
    std::uint64_t key = 0;
    if (!varint(r, key)) return false;
    std::uint64_t field = key >> 3;
    if (field == 0 || field > 0x1fffffff) return false;
    out += indent + std::to_string(field);
    switch (key & 7) {
      case 0: {
        std::uint64_t v = 0;
        if (!varint(r, v)) return false;
        out += ": " + std::to_string(v) + "\n";
        break;
      }
      case 1: {
        std::uint64_t v = 0;
        if (!r.le64(v)) return false;
        std::snprintf(buf, sizeof buf, ": 0x%016llx\n", static_cast<unsigned long long>(v));
        out += buf;
        break;
      }
      case 5: {
        std::uint32_t v = 0;
        if (!r.le32(v)) return false;
        std::snprintf(buf, sizeof buf, ": 0x%08x\n", v);
        out += buf;
        break;
      }
      case 2: {
        std::uint64_t len = 0;
        std::string_view bytes;
        if (!varint(r, len) || len > r.remaining() || !r.bytes(len, bytes)) return false;
        std::string nested;
        if (!bytes.empty() && decode(bytes, depth + 1, nested, cap)) {
          out += " {\n" + nested + indent + "}\n";
        } else {
          out += ": " + quote(bytes) + "\n";
        }
        break;
      }
      default:
        return false;  // groups (3, 4) are long deprecated; 6 and 7 do not exist
    }
  }
  return true;
}

}  // namespace

std::string status_name(std::string_view code) {
  static constexpr std::array<std::string_view, 17> kNames = {"OK",
                                                              "CANCELLED",
                                                              "UNKNOWN",
                                                              "INVALID_ARGUMENT",
                                                              "DEADLINE_EXCEEDED",
                                                              "NOT_FOUND",
                                                              "ALREADY_EXISTS",
                                                              "PERMISSION_DENIED",
                                                              "RESOURCE_EXHAUSTED",
                                                              "FAILED_PRECONDITION",
                                                              "ABORTED",
                                                              "OUT_OF_RANGE",
                                                              "UNIMPLEMENTED",
                                                              "INTERNAL",
                                                              "UNAVAILABLE",
                                                              "DATA_LOSS",
                                                              "UNAUTHENTICATED"};
  std::int64_t n = -1;
  if (parse_int64(code, n) && n >= 0 && n < static_cast<std::int64_t>(kNames.size())) {
    return std::string(kNames[static_cast<std::size_t>(n)]);
  }
  return std::string(code);
}

std::optional<std::string> decompress(std::string_view data, std::string_view encoding,
                                      std::size_t cap) {
  int window = 0;
  if (encoding == "gzip")
    window = 16 + MAX_WBITS;
  else if (encoding == "deflate")
    window = MAX_WBITS;
  else
    return std::nullopt;
  z_stream z{};
  if (inflateInit2(&z, window) != Z_OK) return std::nullopt;
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  char chunk[16384];
  while (rc == Z_OK && out.size() < cap) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    append_capped(out, std::string_view(chunk, sizeof chunk - z.avail_out), cap);
    if (z.avail_out != 0 && rc == Z_OK && z.avail_in == 0) break;  // input ran out (cut message)
  }
  inflateEnd(&z);
  if (rc != Z_OK && rc != Z_STREAM_END) return std::nullopt;
  return out;
}

std::optional<std::string> decode_protobuf(std::string_view data, std::size_t cap) {
  std::string out;
  if (!decode(data, 0, out, cap)) return std::nullopt;
  if (out.size() > cap) out.resize(cap);
  return out;
}

std::string render_messages(const http2::GrpcSplitter& s, std::string_view encoding,
                            std::size_t cap) {
  std::string out;
  for (std::size_t i = 0; i < s.messages.size() && out.size() < cap; ++i) {
    const http2::GrpcMessage& m = s.messages[i];
    out += "#" + std::to_string(i + 1) + " (" + std::to_string(m.length) + " bytes";
    std::string_view payload = m.payload;
    std::optional<std::string> plain;
    if (m.compressed) {
      plain = decompress(payload, encoding, cap);
      out += plain ? ", " + std::string(encoding) : ", compressed";
      if (plain) payload = *plain;
    }
    if (m.payload.size() < m.length) out += ", cut";
    out += ")\n";
    if (m.compressed && !plain) continue;
    auto text = decode_protobuf(payload, cap);
    out += text ? *text : "bytes: " + render_value(payload, cap) + "\n";
  }
  if (s.messages.size() < s.count) {
    out += "... " + std::to_string(s.count - s.messages.size()) + " more\n";
  }
  if (out.size() > cap) out.resize(cap);
  return out;
}

}  // namespace grpc

}  // namespace reel::protocols
