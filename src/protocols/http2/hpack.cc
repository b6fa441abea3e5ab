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

// Name of a dynamic-table entry whose real name is unknown (it named an entry from before the
// join). It keeps the partial table's indices aligned with the sender's; no header has it.
constexpr std::string_view kUnknownName("\0reel-unknown", 13);

void add_header(Frame& frame, const nghttp2_nv& nv, const Limits& limits) {
  std::string_view name(reinterpret_cast<const char*>(nv.name), nv.namelen);
  if (name == kUnknownName) return;  // a placeholder that keeps the partial table aligned
  if (frame.headers.size() >= limits.max_headers) {
    frame.headers_truncated = true;
    return;
  }
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

// Entry `index` (1-based, static entries first) of the partial table, when it is one we know.
bool known_entry(nghttp2_hd_inflater* inflater, std::uint64_t index) {
  if (inflater == nullptr || index == 0) return false;
  if (index <= kStaticEntries) return true;
  if (index > nghttp2_hd_inflate_get_num_table_entries(inflater)) return false;  // before the join
  const nghttp2_nv* nv = nghttp2_hd_inflate_get_table_entry(inflater, index);
  return nv != nullptr &&
         std::string_view(reinterpret_cast<const char*>(nv->name), nv->namelen) != kUnknownName;
}

// An HPACK integer with a `bits`-bit prefix after the flag bits `flags` (RFC 7541 5.1).
std::string write_int(std::uint8_t flags, int bits, std::uint64_t n) {
  std::uint64_t max = (1u << bits) - 1;
  if (n < max) return std::string(1, static_cast<char>(flags | n));
  std::string out(1, static_cast<char>(flags | max));
  for (n -= max; n >= 0x80; n >>= 7) out += static_cast<char>((n & 0x7f) | 0x80);
  return out + static_cast<char>(n);
}

// Lets the partial table grow to `size`, as the sender's may have before we joined: a dynamic
// table size update only it sees.
void grow_partial(DirectionState& dir, std::size_t size) {
  if (dir.partial.get() == nullptr) return;
  nghttp2_hd_inflate_change_table_size(dir.partial.get(), size);
  Frame none;
  if (!inflate(dir.partial.get(), write_int(0x20, 5, size), none, Limits{}))
    dir.partial = Inflater();
}

void reset_partial(DirectionState& dir) {
  dir.partial = Inflater();
  grow_partial(dir, dir.table_limit);
}

// Walks the block field by field. Out of sync, the sender's table holds entries from before we
// joined (or from lost bytes) that we never saw, and entries it added since, which the partial
// inflater adds too, in the same order. Index 62 is always the newest entry, so a reference
// resolves to one we saw exactly when it is within the partial table: those fields are decoded,
// the others skipped. An entry added under a name we cannot know is added as kUnknownName so
// that the indices stay aligned; a reference to it is skipped too.
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
    std::string rewritten;  // the field with its unknown name replaced by kUnknownName
    if (first & 0x80) {     // indexed field
      ok = read_int(block, pos, 7, index);
      decodable = known_entry(dir.partial.get(), index);
    } else if ((first & 0xe0) == 0x20) {  // dynamic table size update: never shrinks what we know
      ok = read_int(block, pos, 5, index);
      decodable = false;
    } else {  // literal, with (6-bit index) or without/never indexing (4-bit index)
      bool indexing = first & 0x40;
      ok = read_int(block, pos, indexing ? 6 : 4, index);
      if (ok && index == 0) ok = skip_string(block, pos);
      std::size_t value = pos;
      if (ok) ok = skip_string(block, pos);
      decodable = index == 0 || known_entry(dir.partial.get(), index);
      if (ok && !decodable && indexing && dir.partial.get()) {
        rewritten = write_int(0x40, 6, 0) + write_int(0, 7, kUnknownName.size()) +
                    std::string(kUnknownName) + std::string(block.substr(value, pos - value));
        decodable = true;
      }
    }
    if (!ok) return;  // the rest of the block cannot be delimited
    std::string_view field =
        rewritten.empty() ? block.substr(start, pos - start) : std::string_view(rewritten);
    if (decodable && !inflate(dir.partial.get(), field, frame, limits)) reset_partial(dir);
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
  frame.headers.reserve(8);
  if (dir.synced) {
    if (inflate(dir.hpack.get(), block, frame, limits)) return;
    frame.headers.clear();
    frame.headers_truncated = false;
    dir.synced = false;  // the sender's table is not what we thought: never trust it again
  }
  decode_partial(dir, block, frame, limits);
}

void allow_table_size(DirectionState& dir, std::size_t size) {
  size = std::min(size, kMaxTable);
  if (size <= dir.table_limit) return;  // shrinking waits for the sender's own size update
  dir.table_limit = size;
  if (dir.hpack.get()) nghttp2_hd_inflate_change_table_size(dir.hpack.get(), size);
  grow_partial(dir, size);
}

void forget_table(DirectionState& dir) {
  dir.synced = false;
  reset_partial(dir);
}

}  // namespace reel::protocols::http2
