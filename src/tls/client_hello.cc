#include "tls/client_hello.h"

#include <cstdint>
#include <optional>

namespace reel::tls {
namespace {

constexpr std::uint8_t kHandshakeRecord = 0x16;
constexpr std::uint8_t kClientHelloType = 0x01;
constexpr std::uint16_t kExtServerName = 0;
constexpr std::uint16_t kExtAlpn = 16;

// Bounds-checked big-endian reads; any read past the end poisons the reader.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> b) : b_(b) {}
  bool ok() const { return ok_; }
  std::size_t left() const { return ok_ ? b_.size() - pos_ : 0; }
  std::uint32_t uint(int n) {
    if (!ok_ || left() < std::size_t(n)) return ok_ = false, 0;
    std::uint32_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | std::to_integer<std::uint8_t>(b_[pos_++]);
    return v;
  }
  std::span<const std::byte> take(std::size_t n) {
    if (!ok_ || left() < n) return ok_ = false, std::span<const std::byte>{};
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  // A vector with an n-byte length prefix.
  Reader sub(int n) { return Reader(take(uint(n))); }
  void skip_vector(int n) { take(uint(n)); }

 private:
  std::span<const std::byte> b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

std::string text(std::span<const std::byte> s) {
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

// A DNS name we can put in a certificate: letters, digits, '-', '_', '.', '*'.
bool plain_host_name(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '*';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> server_name(Reader ext) {
  Reader list = ext.sub(2);
  while (list.ok() && list.left() > 0) {
    auto type = list.uint(1);
    auto name = list.take(list.uint(2));
    if (!list.ok()) return std::nullopt;
    if (type == 0) return text(name);
  }
  return list.ok() ? std::optional<std::string>("") : std::nullopt;
}

std::optional<std::vector<std::string>> alpn_list(Reader ext) {
  Reader list = ext.sub(2);
  std::vector<std::string> out;
  while (list.ok() && list.left() > 0) {
    auto p = list.take(list.uint(1));
    if (list.ok()) out.push_back(text(p));
  }
  if (!list.ok()) return std::nullopt;
  return out;
}

}  // namespace

bool looks_like_client_hello(std::span<const std::byte> first) {
  auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(first[i]); };
  if (first.empty() || at(0) != kHandshakeRecord) return false;
  if (first.size() > 1 && at(1) != 3) return false;
  if (first.size() > 2 && at(2) > 4) return false;
  return first.size() <= 5 || at(5) == kClientHelloType;
}

ClientHello parse_client_hello(std::span<const std::byte> bytes) {
  ClientHello out;
  if (!looks_like_client_hello(bytes)) return out;
  if (bytes.size() < 5) return out.status = ClientHello::Status::kNeedsMore, out;
  Reader rec(bytes);
  rec.uint(3);  // content type, version
  std::size_t record_len = rec.uint(2);
  if (record_len == 0 || record_len > 16384 + 2048) return out;
  if (rec.left() < record_len) return out.status = ClientHello::Status::kNeedsMore, out;
  Reader hs(rec.take(record_len));
  if (hs.uint(1) != kClientHelloType) return out;
  Reader body(hs.take(hs.uint(3)));
  body.uint(2);         // legacy_version
  body.take(32);        // random
  body.skip_vector(1);  // session id
  body.skip_vector(2);  // cipher suites
  body.skip_vector(1);  // compression methods
  if (!body.ok()) return out;
  if (body.left() > 0) {
    Reader exts = body.sub(2);
    while (exts.ok() && exts.left() > 0) {
      auto type = exts.uint(2);
      Reader ext = exts.sub(2);
      if (!exts.ok()) return out;
      if (type == kExtServerName) {
        auto name = server_name(ext);
        if (!name) return out;
        if (plain_host_name(*name)) out.sni = *name;
      } else if (type == kExtAlpn) {
        auto list = alpn_list(ext);
        if (!list) return out;
        out.alpn = std::move(*list);
      }
    }
    if (!exts.ok()) return out;
  }
  out.status = ClientHello::Status::kParsed;
  return out;
}

}  // namespace reel::tls
