// The protoscope scanner (protoscope's scanner.go semantics): tokens emit bytes one after another;
// a tag without a wire type takes it from the token after it; {} is a length prefix; !{} a group.
// Iterative: a {} level is a frame on a heap stack, so hostile nesting costs memory, not stack.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <vector>

#include "protocols/http2/protoscope.h"

namespace reel::protocols::grpc {

namespace {

constexpr std::size_t kMaxNesting = 1024;  // {} levels; our writer uses at most 65
constexpr int kMaxLongForm = 64;           // redundant varint bytes; a varint has at most 10

struct Pos {
  int line = 1;
  int column = 1;
};

// One {} level (the outermost is the whole text).
struct Frame {
  std::string out;
  std::vector<std::int64_t> groups;     // field numbers of the open !{
  std::optional<std::size_t> inferred;  // offset in `out` of a tag waiting for its wire type
  std::int64_t inferred_field = 0;
  bool last_was_inferred_tag = false;  // the token just before was that tag
  int long_form = -1;                  // a pending long-form:N
  Pos long_form_at;
  Pos opened_at;
};

void append_varint(std::string& out, std::uint64_t v, int long_form) {
  while (v > 0x7f) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  if (long_form > 0) {
    out.back() = static_cast<char>(out.back() | 0x80);
    out.append(static_cast<std::size_t>(long_form - 1), static_cast<char>(0x80));
    out += '\0';
  }
}

std::string little_endian(std::uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; i++) out += static_cast<char>(v >> (8 * i));
  return out;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
int hex_value(char c) { return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }

// What a symbol (a run of characters up to a delimiter) means.
struct Symbol {
  enum Kind { kBytes, kLongForm } kind = kBytes;
  std::string bytes;
  int wire_type = 0;    // what an inferred tag before it becomes
  bool varint = false;  // encoded as a varint of `value`, taking a pending long-form
  std::uint64_t value = 0;
  bool inferred_tag = false;
  std::int64_t field = 0;  // for a tag
  int long_form = 0;
};

class Scanner {
 public:
  explicit Scanner(std::string_view text) : in_(text) {}
  Result<std::string> run();

 private:
  bool eof() const { return off_ >= in_.size(); }
  char peek() const { return in_[off_]; }
  void advance() {
    if (in_[off_] == '\n') {
      pos_.line++;
      pos_.column = 1;
    } else {
      pos_.column++;
    }
    off_++;
  }
  void skip_space();
  template <typename... Args>
  std::unexpected<Error> error_at(Pos at, fmt::format_string<Args...> f, Args&&... args) {
    return fail_msg("{}:{}: {}", at.line, at.column, fmt::format(f, std::forward<Args>(args)...));
  }

  Result<std::string> quoted();
  Result<std::string> backtick();
  Result<Symbol> symbol(std::string_view s, Pos at);
  Result<std::optional<Symbol>> integer(std::string_view s, Pos at);
  Result<std::optional<Symbol>> floating(std::string_view s, Pos at);
  void emit(Frame& f, const Symbol& s);
  Result<void> close(Pos at);

  std::string_view in_;
  std::size_t off_ = 0;
  Pos pos_;
  std::vector<Frame> frames_;
};

void Scanner::skip_space() {
  while (!eof()) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      advance();
    } else if (c == '#') {
      while (!eof() && peek() != '\n') advance();
    } else {
      return;
    }
  }
}

// A symbol for error messages: printable and short.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  return s.size() > 40 ? out + "..." : out;
}

Result<std::string> Scanner::quoted() {
  Pos start = pos_;
  advance();  // the opening quote
  std::string out;
  while (true) {
    if (eof()) return error_at(start, "unmatched \"");
    char c = peek();
    if (c == '"') {
      advance();
      return out;
    }
    if (c != '\\') {
      out += c;
      advance();
      continue;
    }
    Pos at = pos_;
    advance();
    if (eof()) return error_at(at, "unfinished escape sequence");
    c = peek();
    if (c == 'n' || c == '"' || c == '\\') {
      out += c == 'n' ? '\n' : c;
      advance();
    } else if (c == 'x') {
      advance();
      if (in_.size() - off_ < 2 || !is_hex(in_[off_]) || !is_hex(in_[off_ + 1])) {
        return error_at(at, "\\x takes two hex digits");
      }
      out += static_cast<char>(hex_value(in_[off_]) * 16 + hex_value(in_[off_ + 1]));
      advance();
      advance();
    } else if (c >= '0' && c <= '7') {
      int v = 0;
      for (int i = 0; i < 3 && !eof() && peek() >= '0' && peek() <= '7'; i++) {
        v = v * 8 + (peek() - '0');
        advance();
      }
      if (v > 255) return error_at(at, "octal escape \\{:o} does not fit in a byte", v);
      out += static_cast<char>(v);
    } else {
      return error_at(at, "unknown escape sequence \\{}", shown(std::string_view(&c, 1)));
    }
  }
}

Result<std::string> Scanner::backtick() {
  Pos start = pos_;
  advance();
  std::size_t end = in_.find('`', off_);
  if (end == std::string_view::npos) return error_at(start, "unmatched `");
  std::string_view digits = in_.substr(off_, end - off_);
  std::string out;
  if (digits.size() % 2 != 0) return error_at(start, "odd number of hex digits in `...`");
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    if (!is_hex(digits[i]) || !is_hex(digits[i + 1])) {
      return error_at(start, "only hex digits may appear between backticks");
    }
    out += static_cast<char>(hex_value(digits[i]) * 16 + hex_value(digits[i + 1]));
  }
  while (off_ <= end) advance();
  return out;
}

// -?([0-9]+|0x[0-9a-fA-F]+)(z|i32|i64)?(:(\w*))?
Result<std::optional<Symbol>> Scanner::integer(std::string_view s, Pos at) {
  std::size_t i = 0;
  bool negative = !s.empty() && s[0] == '-';
  if (negative) i++;
  bool hex = s.substr(i).starts_with("0x") && i + 2 < s.size() && is_hex(s[i + 2]);
  if (hex) i += 2;
  std::size_t digits_at = i;
  while (i < s.size() && (hex ? is_hex(s[i]) : is_digit(s[i]))) i++;
  std::string_view digits = s.substr(digits_at, i - digits_at);
  if (digits.empty()) return std::nullopt;
  std::string_view suffix;
  for (std::string_view sfx : {"z", "i32", "i64"}) {
    if (s.substr(i).starts_with(sfx)) {
      suffix = sfx;
      i += sfx.size();
      break;
    }
  }
  bool tag = i < s.size() && s[i] == ':';
  std::string_view type;
  if (tag) {
    type = s.substr(i + 1);
    for (char c : type) {
      if (!is_hex(c) && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && c != '_') {
        return std::nullopt;
      }
    }
  } else if (i != s.size()) {
    return std::nullopt;
  }
  std::uint64_t u = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, hex ? 16 : 10);
  if (ec != std::errc()) return error_at(at, "'{}' does not fit in 64 bits", shown(s));
  auto value = static_cast<std::int64_t>(u);
  if (negative && value != std::numeric_limits<std::int64_t>::min()) {
    if (value < 0) return error_at(at, "negation overflows: '{}'", shown(s));
    value = -value;
  }
  Symbol sym;
  if (tag) {
    if (suffix == "i32" || suffix == "i64") {
      return error_at(at, "cannot use fixed-width encoding on tag expressions");
    }
    int wire = 0;
    static constexpr std::string_view kTypes[] = {"VARINT", "I64",    "LEN",
                                                  "SGROUP", "EGROUP", "I32"};
    if (type.empty()) {
      sym.inferred_tag = true;
    } else if (auto it = std::find(std::begin(kTypes), std::end(kTypes), type);
               it != std::end(kTypes)) {
      wire = static_cast<int>(it - std::begin(kTypes));
    } else {
      auto [q, ec2] = std::from_chars(type.data(), type.data() + type.size(), wire);
      if (ec2 != std::errc() || q != type.data() + type.size() || wire < 0 || wire > 7) {
        return error_at(at,
                        "'{}': a tag's wire type is VARINT, I64, LEN, SGROUP, EGROUP, I32 "
                        "or a number from 0 to 7",
                        shown(s));
      }
    }
    if ((value >> 61) != 0 && (value >> 61) != -1) {
      return error_at(at, "field number {} too large for three extra bits for the wire type",
                      value);
    }
    sym.field = value;
    value = static_cast<std::int64_t>((static_cast<std::uint64_t>(value) << 3) |
                                      static_cast<std::uint64_t>(wire));
  }
  if (suffix == "i32") {
    if (value > std::int64_t{0xffffffff} || value < std::numeric_limits<std::int32_t>::min()) {
      return error_at(at, "'{}' does not fit in 32 bits", shown(s));
    }
    sym.bytes = little_endian(static_cast<std::uint64_t>(value), 4);
    sym.wire_type = 5;
  } else if (suffix == "i64") {
    sym.bytes = little_endian(static_cast<std::uint64_t>(value), 8);
    sym.wire_type = 1;
  } else {
    std::uint64_t v = static_cast<std::uint64_t>(value);
    if (suffix == "z") v = (v << 1) ^ static_cast<std::uint64_t>(value >> 63);
    sym.value = v;  // encoded by emit(), which knows the pending long-form
    sym.varint = true;
  }
  return sym;
}

// -?[0-9]+\.[0-9]+([eE]-?[0-9]+)?  or  -?0x[0-9a-fA-F]+\.[0-9a-fA-F]+([pP]-?[0-9]+)?, then
// an optional i32 or i64.
Result<std::optional<Symbol>> Scanner::floating(std::string_view s, Pos at) {
  bool is32 = s.ends_with("i32");
  if (is32 || s.ends_with("i64")) s.remove_suffix(3);
  std::size_t i = s.starts_with('-') ? 1 : 0;
  bool hex = s.substr(i).starts_with("0x");
  if (hex) i += 2;
  auto run = [&](bool hexdigits) {
    std::size_t from = i;
    while (i < s.size() && (hexdigits ? is_hex(s[i]) : is_digit(s[i]))) i++;
    return i > from;
  };
  if (!run(hex) || i >= s.size() || s[i++] != '.' || !run(hex)) return std::nullopt;
  if (i < s.size()) {
    char e = static_cast<char>(s[i] | 0x20);
    if (e != (hex ? 'p' : 'e')) return std::nullopt;
    i++;
    if (i < s.size() && s[i] == '-') i++;
    if (!run(false) || i != s.size()) return std::nullopt;
  }
  std::string text(s);
  if (hex) text.erase(text.find("0x"), 2);
  auto format = hex ? std::chars_format::hex : std::chars_format::general;
  Symbol sym;
  auto parse = [&](auto& v) -> bool {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, format);
    if (ec == std::errc::result_out_of_range) {
      // Overflow, or an underflow to zero or a subnormal, which strtod rounds correctly.
      std::string c = hex ? (text[0] == '-' ? "-0x" + text.substr(1) : "0x" + text) : text;
      if constexpr (sizeof v == 4) {
        v = std::strtof(c.c_str(), nullptr);
      } else {
        v = std::strtod(c.c_str(), nullptr);
      }
      return !std::isinf(v);
    }
    return ec == std::errc() && !std::isinf(v) && !std::isnan(v);
  };
  if (is32) {
    float v = 0;
    if (!parse(v)) return error_at(at, "'{}' does not fit in an IEEE 754 binary32", shown(s));
    sym.bytes = little_endian(std::bit_cast<std::uint32_t>(v), 4);
    sym.wire_type = 5;
  } else {
    double v = 0;
    if (!parse(v)) return error_at(at, "'{}' does not fit in an IEEE 754 binary64", shown(s));
    sym.bytes = little_endian(std::bit_cast<std::uint64_t>(v), 8);
    sym.wire_type = 1;
  }
  return sym;
}

Result<Symbol> Scanner::symbol(std::string_view s, Pos at) {
  if (auto sym = REEL_TRY(integer(s, at))) return *sym;
  if (auto sym = REEL_TRY(floating(s, at))) return *sym;
  if (std::string_view n = s.substr(std::min(s.size(), std::size_t{10}));
      s.starts_with("long-form:") && !n.empty() &&
      n.find_first_not_of("0123456789") == std::string_view::npos) {
    int v = 0;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (ec != std::errc() || v > kMaxLongForm) {
      return error_at(at, "{}: at most {} redundant bytes", shown(s), kMaxLongForm);
    }
    Symbol sym;
    sym.kind = Symbol::kLongForm;
    sym.long_form = v;
    return sym;
  }
  struct Keyword {
    std::string_view name;
    std::string_view bytes;
    int wire_type;
  };
  static const Keyword kKeywords[] = {
      {"true", std::string_view("\x01", 1), 0},
      {"false", std::string_view("\x00", 1), 0},
      {"inf32", std::string_view("\x00\x00\x80\x7f", 4), 5},
      {"-inf32", std::string_view("\x00\x00\x80\xff", 4), 5},
      {"inf64", std::string_view("\x00\x00\x00\x00\x00\x00\xf0\x7f", 8), 1},
      {"-inf64", std::string_view("\x00\x00\x00\x00\x00\x00\xf0\xff", 8), 1}};
  for (const auto& k : kKeywords) {
    if (s == k.name) {
      Symbol sym;
      sym.bytes = k.bytes;
      sym.wire_type = k.wire_type;
      return sym;
    }
  }
  return error_at(at, "unrecognized symbol \"{}\"", shown(s));
}

void Scanner::emit(Frame& f, const Symbol& s) {
  if (f.inferred) f.out[*f.inferred] = static_cast<char>(f.out[*f.inferred] | s.wire_type);
  f.inferred.reset();
  if (s.inferred_tag) {
    f.inferred = f.out.size();
    f.inferred_field = s.field;
  }
  if (s.varint) {
    append_varint(f.out, s.value, f.long_form);
    f.long_form = -1;
  } else {
    f.out += s.bytes;
  }
  f.last_was_inferred_tag = s.inferred_tag;
}

// '}': ends the innermost open group of this level, else this {} level.
Result<void> Scanner::close(Pos at) {
  Frame& f = frames_.back();
  f.inferred.reset();
  f.last_was_inferred_tag = false;
  if (!f.groups.empty()) {
    std::uint64_t end_tag = (static_cast<std::uint64_t>(f.groups.back()) << 3) | 4;
    f.groups.pop_back();
    append_varint(f.out, end_tag, f.long_form);
    f.long_form = -1;
    return {};
  }
  if (frames_.size() == 1) return error_at(at, "unmatched '}}'");
  Frame child = std::move(frames_.back());
  frames_.pop_back();
  Frame& parent = frames_.back();
  append_varint(parent.out, child.out.size(), parent.long_form);
  parent.out += child.out;
  parent.long_form = -1;
  return {};
}

Result<std::string> Scanner::run() {
  frames_.emplace_back();
  while (true) {
    skip_space();
    Pos at = pos_;
    Frame& f = frames_.back();
    if (eof()) {
      if (f.long_form >= 0) {
        return error_at(f.long_form_at,
                        "long-form:{} is not followed by a varint, '{{' or a "
                        "group's '}}'",
                        f.long_form);
      }
      if (frames_.size() > 1) return error_at(f.opened_at, "unmatched '{{'");
      if (!f.groups.empty()) return error_at(at, "unmatched '!{{' at the end");
      return std::move(f.out);
    }
    char c = peek();
    std::string token_text;
    std::optional<Symbol> sym;
    if (c == '"') {
      sym.emplace();
      sym->bytes = REEL_TRY(quoted());
    } else if (c == '`') {
      sym.emplace();
      sym->bytes = REEL_TRY(backtick());
    } else if (c != '{' && c != '}' && c != '!') {
      std::size_t start = off_;
      advance();
      while (!eof() &&
             std::string_view(" \t\n\r{}[]`\"#!").find(peek()) == std::string_view::npos) {
        advance();
      }
      sym = REEL_TRY(symbol(in_.substr(start, off_ - start), at));
    }
    bool takes_long_form = c == '{' || (c == '}' && !f.groups.empty()) || (sym && sym->varint);
    if (f.long_form >= 0 && !takes_long_form) {
      return error_at(f.long_form_at,
                      "long-form:{} is not followed by a varint, '{{' or a "
                      "group's '}}'",
                      f.long_form);
    }
    if (sym && sym->kind == Symbol::kLongForm) {
      f.long_form = sym->long_form;
      f.long_form_at = at;
    } else if (sym) {
      emit(f, *sym);
    } else if (c == '{') {
      advance();
      if (f.inferred) f.out[*f.inferred] = static_cast<char>(f.out[*f.inferred] | 2);
      f.inferred.reset();
      f.last_was_inferred_tag = false;
      if (frames_.size() > kMaxNesting)
        return error_at(at, "{{}} nested deeper than {}", kMaxNesting);
      frames_.emplace_back().opened_at = at;
    } else if (c == '}') {
      advance();
      REEL_TRY(close(at));
    } else {  // '!'
      advance();
      if (eof() || peek() != '{') return error_at(at, "expected {{ after !");
      advance();
      if (!f.inferred || !f.last_was_inferred_tag) {
        return error_at(at,
                        "a group !{{}} must immediately follow a field number without a "
                        "wire type (\"N: !{{...}}\")");
      }
      f.out[*f.inferred] = static_cast<char>(f.out[*f.inferred] | 3);
      f.inferred.reset();
      f.last_was_inferred_tag = false;
      f.groups.push_back(f.inferred_field);
    }
  }
}

}  // namespace

Result<std::string> protoscope_scan(std::string_view text) { return Scanner(text).run(); }

}  // namespace reel::protocols::grpc
