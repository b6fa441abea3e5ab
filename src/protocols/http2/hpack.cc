#include "protocols/http2/hpack.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <utility>

#include "protocols/text.h"

namespace reel::protocols::http2 {

namespace {

// Largest dynamic table a peer may make us keep, whatever it advertises.
constexpr std::size_t kMaxTable = 1 << 20;
// Entries of the HPACK static table (RFC 7541 Appendix A).
constexpr std::uint64_t kStaticEntries = 61;

void add_header(Frame& frame, const nghttp2_nv& nv, const Limits& limits) {
  if (frame.headers.size() >= limits.max_headers) {
    frame.headers_truncated = true;
    return;
  }
  std::string_view name(reinterpret_cast<const char*>(nv.name), nv.namelen);
  std::string_view value(reinterpret_cast<const char*>(nv.value), nv.valuelen);
  frame.headers.emplace_back(capped(name, limits.max_field), capped(value, limits.max_field));
}

// Runs one whole block (or one field) through `inflater`; false on a decode error.
bool inflate(nghttp2_hd_inflater* inflater, std::string_view in, Frame& frame,
             const Limits& limits) {
  if (inflater == nullptr) return false;
  auto* p = reinterpret_cast<const std::uint8_t*>(in.data());
  std::size_t left = in.size();
  while (true) {
    nghttp2_nv nv;
    int flags = 0;
    auto n = nghttp2_hd_inflate_hd2(inflater, &nv, &flags, p, left, 1);
    if (n < 0) return false;
    p += n;
    left -= static_cast<std::size_t>(n);
    if (flags & NGHTTP2_HD_INFLATE_EMIT) add_header(frame, nv, limits);
    if (flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(inflater);
      return true;
    }
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) return true;
  }
}

// An HPACK integer with an `bits`-bit prefix (RFC 7541 5.1).
bool read_int(std::string_view in, std::size_t& pos, int bits, std::uint64_t& out) {
  if (pos >= in.size()) return false;
  std::uint64_t max = (1u << bits) - 1;
  out = static_cast<std::uint8_t>(in[pos++]) & max;
  if (out < max) return true;
  for (int shift = 0; shift <= 28; shift += 7) {
    if (pos >= in.size()) return false;
    auto b = static_cast<std::uint8_t>(in[pos++]);
    out += static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool skip_string(std::string_view in, std::size_t& pos) {
  std::uint64_t len = 0;
  if (!read_int(in, pos, 7, len) || len > in.size() - pos) return false;
  pos += len;
  return true;
}

// Walks the block field by field and decodes those that name no dynamic-table entry. The
// partial inflater never sees a reference past the static table, so whatever its own table
// holds is never used.
void decode_partial(DirectionState& dir, std::string_view block, Frame& frame,
                    const Limits& limits) {
  frame.headers_partial = true;
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t start = pos;
    auto first = static_cast<std::uint8_t>(block[pos]);
    std::uint64_t index = 0;
    bool ok = true;
    bool decodable = true;
    if (first & 0x80) {  // indexed field
      ok = read_int(block, pos, 7, index);
      decodable = index >= 1 && index <= kStaticEntries;
    } else if ((first & 0xe0) == 0x20) {  // dynamic table size update
      ok = read_int(block, pos, 5, index);
      decodable = false;
    } else {  // literal, with (6-bit index) or without/never indexing (4-bit index)
      ok = read_int(block, pos, (first & 0x40) ? 6 : 4, index);
      decodable = index <= kStaticEntries;
      if (ok && index == 0) ok = skip_string(block, pos);
      if (ok) ok = skip_string(block, pos);
    }
    if (!ok) return;  // the rest of the block cannot be delimited
    if (decodable && !inflate(dir.partial.get(), block.substr(start, pos - start), frame, limits)) {
      dir.partial = Inflater();  // a failed inflater stays failed
    }
  }
}

}  // namespace

Inflater::Inflater() {
  if (nghttp2_hd_inflate_new(&inflater_) != 0) inflater_ = nullptr;
}
Inflater::Inflater(Inflater&& other) noexcept
    : inflater_(std::exchange(other.inflater_, nullptr)) {}
Inflater& Inflater::operator=(Inflater&& other) noexcept {
  if (this != &other) {
    if (inflater_) nghttp2_hd_inflate_del(inflater_);
    inflater_ = std::exchange(other.inflater_, nullptr);
  }
  return *this;
}
Inflater::~Inflater() {
  if (inflater_) nghttp2_hd_inflate_del(inflater_);
}

void decode_block(DirectionState& dir, std::string_view block, Frame& frame, const Limits& limits) {
  if (dir.synced) {
    Frame whole;
    if (inflate(dir.hpack.get(), block, whole, limits)) {
      frame.headers = std::move(whole.headers);
      frame.headers_truncated = whole.headers_truncated;
      return;
    }
    dir.synced = false;  // the sender's table is not what we thought: never trust it again
  }
  decode_partial(dir, block, frame, limits);
}

void allow_table_size(DirectionState& dir, std::size_t size) {
  size = std::min(size, kMaxTable);
  if (size <= dir.table_limit) return;  // shrinking waits for the sender's own size update
  dir.table_limit = size;
  if (dir.hpack.get()) nghttp2_hd_inflate_change_table_size(dir.hpack.get(), size);
  if (dir.partial.get()) nghttp2_hd_inflate_change_table_size(dir.partial.get(), size);
}

}  // namespace reel::protocols::http2
