// The protoscope writer. Layout follows protoscope's own printer (writer.go, internal/print):
// a field per line, indented two spaces per level; a block ({...} or !{...}) of at most three
// lines, its braces included, folds onto one line ("1: {2: 3}") unless two of its lines carry
// remarks; a float's bits are a remark ("# 0x3fc00000i32"), remarks of neighbouring lines
// aligned to one even column.
#include "protocols/http2/protoscope.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

#include "protocols/http2/protowire.h"

namespace reel::protocols::grpc {

namespace {

namespace pw = protowire;

// Length-delimited fields nested deeper than this are shown as text or hex: the scanner then
// never needs more than this many levels of {} to read our output back.
constexpr int kMaxMessageDepth = 64;

struct Line {
  std::string text;
  std::string remark;  // printed after the text as "  # remark"
  int indent = 0;      // added to the indentation of every later line
};

struct Block {
  bool delimiters = true;  // starts and ends with a brace: no space next to them when folded
  std::size_t fold_height = 3;
  std::size_t unindent_at = 1;  // counted from the last line: the last line still indented
  std::size_t start = 0;
};

class Printer {
 public:
  Line& current() { return lines_.back(); }
  void write(std::string_view s) { lines_.back().text += s; }
  void new_line() { lines_.emplace_back(); }
  void discard_line() { lines_.pop_back(); }
  std::size_t mark() const { return lines_.size(); }
  void reset(std::size_t mark) { lines_.resize(mark); }

  void start_block(Block b) {
    b.start = lines_.size() - 1;
    blocks_.push_back(b);
    lines_.back().indent++;
  }
  // Forgets the innermost block, unindenting what followed its first line; returns that line.
  Line& drop_block() {
    Block b = blocks_.back();
    blocks_.pop_back();
    lines_[b.start].indent--;
    return lines_[b.start];
  }
  void end_block();
  std::string finish() const;

 private:
  std::vector<Line> lines_;
  std::vector<Block> blocks_;
};

void Printer::end_block() {
  Block b = blocks_.back();
  blocks_.pop_back();
  std::size_t height = lines_.size() - b.start;
  std::size_t remarks = 0;
  for (std::size_t i = b.start; i < lines_.size(); i++) remarks += !lines_[i].remark.empty();
  if (height >= 2 && height <= b.fold_height && remarks <= 1) {
    Line& start = lines_[b.start];
    for (std::size_t i = 0; b.start + 1 + i < lines_.size(); i++) {
      const Line& line = lines_[b.start + 1 + i];
      if ((i != 0 && i != height - 2) || !b.delimiters) start.text += ' ';
      start.text += line.text;
      if (!line.remark.empty()) start.remark = line.remark;
    }
    lines_.resize(b.start + 1);
  }
  height = lines_.size() - b.start;
  if (height <= b.unindent_at) {
    lines_[b.start].indent--;
  } else {
    lines_[lines_.size() - 1 - b.unindent_at].indent--;
  }
}

std::size_t rune_count(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

std::string Printer::finish() const {
  constexpr long kIndent = 2;
  // protoscope looks at a whole run of remarked lines, again from each line when the run reaches
  // the end of the text: quadratic for a long run of floats. We look at most this far ahead,
  // which only changes the padding before remarks of runs this long.
  constexpr std::size_t kMaxRun = 512;
  std::string out;
  long indent = 0;
  long comment_col = -1;
  long col_until = -1;  // lines up to here use comment_col
  for (std::size_t i = 0; i < lines_.size(); i++) {
    const Line& line = lines_[i];
    if (!line.remark.empty() && col_until < static_cast<long>(i)) {
      // The column of a run of remarked lines: the longest line's end, except that a line that
      // changes the indentation after the second one starts a new run.
      long indent2 = indent;
      comment_col = -1;
      for (std::size_t j = 0; i + j < lines_.size() && j < kMaxRun; j++) {
        const Line& l = lines_[i + j];
        if (l.remark.empty()) {
          col_until = static_cast<long>(i + j);
          break;
        }
        long len = indent2 * kIndent + static_cast<long>(rune_count(l.text));
        indent2 += l.indent;
        if (len > comment_col) {
          if (j > 1 && l.indent != 0) {
            col_until = static_cast<long>(i + j);
            break;
          }
          comment_col = len;
        }
      }
      if (comment_col % kIndent != 0) comment_col += kIndent - comment_col % kIndent;
    }
    out.append(static_cast<std::size_t>(std::max(0L, indent * kIndent)), ' ');
    out += line.text;
    if (!line.remark.empty()) {
      long pad = comment_col - indent * kIndent - static_cast<long>(line.text.size());
      if (pad > 0) out.append(static_cast<std::size_t>(pad), ' ');
      out += "  # ";
      out += line.remark;
    }
    indent += line.indent;
    out += '\n';
  }
  return out;
}

std::string hex_number(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Go's strconv.FormatFloat(v, 'g', -1, bits) (shortest digits that read back as the same
// value; %e form for exponents below -4 or from 6), then without '+' and always with a point.
std::string go_float(double v, bool is64) {
  char buf[64];
  auto r = is64 ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific)
                : std::to_chars(buf, buf + sizeof buf, static_cast<float>(v),
                                std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));  // "-d.ddde+XX"
  std::string out;
  if (sci.starts_with('-')) {
    out += '-';
    sci.remove_prefix(1);
  }
  std::size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exp = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (exp_text.starts_with('+')) exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  long nd = static_cast<long>(digits.size());
  if (exp < -4 || exp >= 6) {
    out += digits[0];
    out += nd > 1 ? "." + digits.substr(1) : ".0";
    out += 'e';
    if (exp < 0) out += '-';
    int a = std::abs(exp);
    if (a < 10) out += '0';
    out += std::to_string(a);
    return out;
  }
  long dp = exp + 1;  // digits before the point
  if (dp <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-dp), '0') + digits;
  } else if (dp >= nd) {
    out += digits + std::string(static_cast<std::size_t>(dp - nd), '0') + ".0";
  } else {
    out += digits.substr(0, static_cast<std::size_t>(dp)) + "." +
           digits.substr(static_cast<std::size_t>(dp));
  }
  return out;
}

// A fixed-width value as a decimal float, or "" when its exponent is so large or small (zero
// and subnormals included) that it is probably not a float.
std::string float_text(std::uint64_t bits, bool is64) {
  int exp_bits = is64 ? 11 : 8;
  int mant_bits = is64 ? 52 : 23;
  std::uint64_t sign = std::uint64_t{1} << (is64 ? 63 : 31);
  if (bits == 0) return "0.0";
  if (bits == sign) return "-0.0";
  long bias = (1L << (exp_bits - 1)) - 1;
  long exp = static_cast<long>((bits >> mant_bits) & ((std::uint64_t{1} << exp_bits) - 1)) - bias;
  if (std::labs(exp) >= bias) return "";
  double v = is64 ? std::bit_cast<double>(bits)
                  : static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
  return go_float(v, is64);
}

// Go's unicode.IsGraphic without Unicode's tables: controls, format characters, line and
// paragraph separators, private use, surrogates and noncharacters are not graphic; other
// code points are (unassigned ones included, which Go would call not graphic).
bool is_graphic(char32_t c) {
  if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0xad) return false;
  if (c < 0x600) return true;
  static constexpr std::pair<char32_t, char32_t> kNot[] = {
      {0x600, 0x605},     {0x61c, 0x61c},     {0x6dd, 0x6dd},     {0x70f, 0x70f},
      {0x890, 0x891},     {0x8e2, 0x8e2},     {0x180e, 0x180e},   {0x200b, 0x200f},
      {0x2028, 0x202e},   {0x2060, 0x206f},   {0xd800, 0xf8ff},   {0xfdd0, 0xfdef},
      {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
      {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001},
      {0xe0020, 0xe007f}, {0xf0000, 0x10ffff}};
  for (auto [lo, hi] : kNot) {
    if (c >= lo && c <= hi) return false;
  }
  return (c & 0xfffe) != 0xfffe;
}

class Writer {
 public:
  std::string run(std::string_view src);

 private:
  bool field(std::string_view& src, int depth);
  bool length_delimited(std::string_view& src, int depth);
  void fixed(std::uint64_t bits, bool is64);
  bool quoted(std::string_view bytes);
  void hex(std::string_view bytes);
  void close_block(std::string_view rest_as_hex);
  void reset_group();

  Printer p_;
  std::vector<std::uint64_t> groups_;  // field numbers of the groups open in this message
};

std::string Writer::run(std::string_view src) {
  while (!src.empty()) {
    p_.new_line();
    std::string_view rest = src;
    if (!field(rest, 0)) {
      p_.discard_line();
      break;
    }
    src = rest;
  }
  for (std::size_t n = groups_.size(); n > 0; n--) reset_group();
  hex(src);
  return p_.finish();
}

// A group whose end never came: its "N: !{" becomes "N:SGROUP" and its block is forgotten.
void Writer::reset_group() {
  Line& start = p_.drop_block();
  if (start.text.ends_with(" !{")) start.text.resize(start.text.size() - 3);
  start.text += "SGROUP";
}

bool Writer::field(std::string_view& src, int depth) {
  pw::Varint tag;
  if (!pw::read_varint(src, tag)) return false;
  std::uint64_t number = tag.value >> 3;
  if (number == 0) return false;  // not a field: probably not a message
  if (tag.extra > 0) p_.write("long-form:" + std::to_string(tag.extra) + " ");
  p_.write(std::to_string(number) + ":");
  std::uint64_t bits = 0;
  switch (tag.value & 7) {
    case pw::kVarint: {
      p_.write(" ");
      pw::Varint v;
      if (!pw::read_varint(src, v)) return false;
      if (v.extra > 0) p_.write("long-form:" + std::to_string(v.extra) + " ");
      p_.write(std::to_string(static_cast<std::int64_t>(v.value)));
      return true;
    }
    case pw::kI64:
    case pw::kI32: {
      bool is64 = (tag.value & 7) == pw::kI64;
      p_.write(" ");
      if (!pw::read_fixed(src, is64 ? 8 : 4, bits)) return false;
      fixed(bits, is64);
      return true;
    }
    case pw::kSGroup:
      p_.write(" !{");
      p_.start_block({});
      groups_.push_back(number);
      return true;
    case pw::kEGroup: {
      if (groups_.empty()) {
        p_.write("EGROUP");
        return true;
      }
      std::uint64_t open = groups_.back();
      groups_.pop_back();
      if (open != number) {  // not the end of the open group: neither is shown as a group
        reset_group();
        p_.write("EGROUP");
        return true;
      }
      p_.current().text.clear();
      if (tag.extra > 0) {
        p_.write("long-form:" + std::to_string(tag.extra));
        p_.new_line();
      }
      p_.write("}");
      p_.end_block();
      return true;
    }
    case pw::kLen:
      return length_delimited(src, depth);
    default:
      return false;  // wire types 6 and 7 do not exist
  }
}

bool Writer::length_delimited(std::string_view& src, int depth) {
  p_.write(" ");
  pw::Varint len;
  if (!pw::read_varint(src, len) || len.value > src.size()) return false;
  std::string_view bytes = src.substr(0, len.value);
  src.remove_prefix(len.value);
  if (len.extra > 0) p_.write("long-form:" + std::to_string(len.extra) + " ");
  p_.write("{");
  p_.start_block({});
  if (depth < kMaxMessageDepth || bytes.empty()) {
    // First, assume it is a message.
    std::size_t mark = p_.mark();
    std::vector<std::uint64_t> outer = std::exchange(groups_, {});
    std::string_view rest = bytes;
    while (!rest.empty()) {
      p_.new_line();
      std::string_view r = rest;
      if (!field(r, depth + 1)) {
        p_.discard_line();
        break;
      }
      rest = r;
    }
    for (std::size_t n = groups_.size(); n > 0; n--) reset_group();
    groups_ = std::move(outer);
    if (rest.empty()) {
      close_block({});
      return true;
    }
    p_.reset(mark);
  }
  close_block(quoted(bytes) ? std::string_view() : bytes);
  return true;
}

void Writer::close_block(std::string_view rest_as_hex) {
  hex(rest_as_hex);
  p_.new_line();
  p_.write("}");
  p_.end_block();
}

// Mostly printable UTF-8 as a quoted string, 80 bytes a line; false (nothing written) otherwise.
bool Writer::quoted(std::string_view bytes) {
  if (!pw::valid_utf8(bytes)) return false;
  std::size_t runes = 0, unprintable = 0;
  for (std::size_t i = 0; i < bytes.size();) {
    pw::Rune r = pw::decode_rune(bytes, i);
    runes++;
    unprintable += !is_graphic(r.cp);
    i += r.len;
  }
  if (static_cast<double>(unprintable) / static_cast<double>(runes) > 0.3) return false;
  p_.new_line();
  p_.write("\"");
  char buf[8];
  for (std::size_t i = 0; i < bytes.size();) {
    pw::Rune r = pw::decode_rune(bytes, i);
    if (i != 0 && i % 80 == 0) {
      p_.write("\"");
      p_.new_line();
      p_.write("\"");
    }
    if (r.cp == '\n') {
      p_.write("\\n");
    } else if (r.cp == '\\' || r.cp == '"') {
      p_.write(r.cp == '\\' ? "\\\\" : "\\\"");
    } else if (!is_graphic(r.cp)) {
      for (std::size_t k = 0; k < r.len; k++) {
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(bytes[i + k]));
        p_.write(buf);
      }
    } else {
      p_.write(bytes.substr(i, r.len));
    }
    i += r.len;
  }
  p_.write("\"");
  return true;
}

void Writer::hex(std::string_view bytes) {
  if (bytes.empty()) return;
  p_.new_line();
  p_.write("`");
  char buf[4];
  for (std::size_t i = 0; i < bytes.size(); i++) {
    if (i > 0 && i % 40 == 0) {
      p_.write("`");
      p_.new_line();
      p_.write("`");
    }
    std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned char>(bytes[i]));
    p_.write(buf);
  }
  p_.write("`");
}

void Writer::fixed(std::uint64_t bits, bool is64) {
  std::string suffix = is64 ? "i64" : "i32";
  double v = is64 ? std::bit_cast<double>(bits)
                  : static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
  if (std::isinf(v)) {
    p_.write(v > 0 ? "inf" : "-inf");
    p_.write(suffix.substr(1));
  } else if (std::isnan(v)) {
    p_.write(hex_number(bits) + suffix);  // one of many NaNs: its bits
  } else if (std::string text = float_text(bits, is64); !text.empty()) {
    p_.write(is64 ? text : text + suffix);
    p_.current().remark = hex_number(bits) + suffix;
  } else {
    auto n = is64 ? static_cast<std::int64_t>(bits)
                  : static_cast<std::int64_t>(static_cast<std::int32_t>(bits));
    p_.write(std::to_string(n) + suffix);
  }
}

}  // namespace

std::string protoscope_write(std::string_view bytes) { return Writer().run(bytes); }

}  // namespace reel::protocols::grpc
