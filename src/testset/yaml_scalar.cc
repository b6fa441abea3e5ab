// Scalar styles as Go's yaml.v3 chooses and writes them: its encoder's stringv, and the
// analyze_scalar / select_scalar_style / write_*_scalar steps of its libyaml-derived emitter,
// with line wrapping off as yaml.v3 has it.
#include "testset/yaml_scalar.h"

#include <regex>

#include "core/encoding.h"

namespace reel::testset::yaml_detail {

namespace {

int width(unsigned char c) {
  return c < 0x80             ? 1
         : (c & 0xe0) == 0xc0 ? 2
         : (c & 0xf0) == 0xe0 ? 3
         : (c & 0xf8) == 0xf0 ? 4
                              : 1;
}

unsigned char at(std::string_view s, std::size_t i) {
  return i < s.size() ? static_cast<unsigned char>(s[i]) : 0;
}

// yaml.v3's is_printable: note that tab, C1 controls and 4-byte sequences are not.
bool is_printable(std::string_view s, std::size_t i) {
  unsigned char b = at(s, i), b1 = at(s, i + 1), b2 = at(s, i + 2);
  return b == 0x0a || (b >= 0x20 && b <= 0x7e) || (b == 0xc2 && b1 >= 0xa0) ||
         (b > 0xc2 && b < 0xed) || (b == 0xed && b1 < 0xa0) || b == 0xee ||
         (b == 0xef && !(b1 == 0xbb && b2 == 0xbf) && !(b1 == 0xbf && (b2 == 0xbe || b2 == 0xbf)));
}

bool is_break(std::string_view s, std::size_t i) {
  unsigned char b = at(s, i), b1 = at(s, i + 1), b2 = at(s, i + 2);
  return b == '\r' || b == '\n' || (b == 0xc2 && b1 == 0x85) ||
         (b == 0xe2 && b1 == 0x80 && (b2 == 0xa8 || b2 == 0xa9));
}

bool is_blank(std::string_view s, std::size_t i) { return at(s, i) == ' ' || at(s, i) == '\t'; }

struct Analysis {
  bool multiline = false;
  bool flow_plain = true;
  bool block_plain = true;
  bool single_quoted = true;
  bool block = true;
};

void note_indicators(std::string_view s, std::size_t i, bool preceded_ws, bool& flow_ind,
                     bool& block_ind) {
  char c = s[i];
  bool followed_ws = i + width(at(s, i)) >= s.size() || is_blank(s, i + width(at(s, i)));
  if (i == 0) {
    if (std::string_view("#,[]{}&*!|>'\"%@`").find(c) != std::string_view::npos) {
      flow_ind = block_ind = true;
    } else if (c == '?' || c == ':') {
      flow_ind = true;
      block_ind = block_ind || followed_ws;
    } else if (c == '-' && followed_ws) {
      flow_ind = block_ind = true;
    }
    return;
  }
  if (std::string_view(",?[]{}").find(c) != std::string_view::npos) flow_ind = true;
  if (c == ':') {
    flow_ind = true;
    block_ind = block_ind || followed_ws;
  }
  if (c == '#' && preceded_ws) flow_ind = block_ind = true;
}

Analysis analyze(std::string_view s) {
  Analysis a;
  if (s.empty()) return {false, false, true, true, false};
  bool flow_ind = false, block_ind = false, breaks = false, special = false, tabs = false;
  bool lead_space = false, lead_break = false, trail_space = false, trail_break = false;
  bool break_space = false, space_break = false, prev_space = false, prev_break = false;
  if (s.starts_with("---") || s.starts_with("...")) flow_ind = block_ind = true;
  bool preceded_ws = true;
  for (std::size_t i = 0; i < s.size(); i += width(at(s, i))) {
    note_indicators(s, i, preceded_ws, flow_ind, block_ind);
    bool last = i + width(at(s, i)) >= s.size();
    if (s[i] == '\t') {
      tabs = true;
    } else if (!is_printable(s, i)) {
      special = true;
    }
    if (s[i] == ' ') {
      lead_space = lead_space || i == 0;
      trail_space = trail_space || last;
      break_space = break_space || prev_break;
      prev_space = true;
      prev_break = false;
    } else if (is_break(s, i)) {
      breaks = true;
      lead_break = lead_break || i == 0;
      trail_break = trail_break || last;
      space_break = space_break || prev_space;
      prev_space = false;
      prev_break = true;
    } else {
      prev_space = prev_break = false;
    }
    preceded_ws = is_blank(s, i) || is_break(s, i);
  }
  a.multiline = breaks;
  if (lead_space || lead_break || trail_space || trail_break) a.flow_plain = a.block_plain = false;
  if (trail_space) a.block = false;
  if (break_space || space_break || tabs || special) {
    a.flow_plain = a.block_plain = a.single_quoted = false;
  }
  if (space_break || special) a.block = false;
  if (breaks) a.flow_plain = a.block_plain = false;
  if (flow_ind) a.flow_plain = false;
  if (block_ind) a.block_plain = false;
  return a;
}

// True when yaml.v3 would read `s`, written plain, as something other than a string (null,
// bool, number, timestamp, merge key), or as a YAML 1.1 bool or base-60 float: such strings
// must be quoted.
bool resolves_as_non_string(std::string_view s) {
  static const std::regex kNonString(
      "|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|<<"
      "|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
      "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)"
      "|[-+]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|[0-9][0-9_]*)"
      "|[-+]?(\\.[0-9_]+|[0-9][0-9_]*(\\.[0-9_]*)?)([eE][-+]?[0-9]+)?"
      "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?"
      "|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\\.[0-9]*)?"
      "([ \\t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?");
  if (s.size() > 64) return false;  // none of the forms above is this long in practice
  // Most scalars are words: only the few that start like one of the forms above go to the
  // regex, which otherwise costs a quarter of a recording's CPU.
  static constexpr std::string_view kWordStarts = "~nNtTfF<yYoO";
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos) return true;
  if (!s.empty()) {
    char c = s[0] == '+' || s[0] == '-' ? (s.size() > 1 ? s[1] : '\0') : s[0];
    bool numeric = (c >= '0' && c <= '9') || c == '.';
    if (!numeric && kWordStarts.find(s[0]) == std::string_view::npos) return false;
    if (!numeric && s.size() > 5 && s != "<<") return false;  // longest word: "false"
  }
  return std::regex_match(s.begin(), s.end(), kNonString);
}

void write_escape(std::uint32_t cp, std::string& out) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  out += '\\';
  switch (cp) {
    case 0x00:
      out += '0';
      return;
    case 0x07:
      out += 'a';
      return;
    case 0x08:
      out += 'b';
      return;
    case 0x09:
      out += 't';
      return;
    case 0x0a:
      out += 'n';
      return;
    case 0x0b:
      out += 'v';
      return;
    case 0x0c:
      out += 'f';
      return;
    case 0x0d:
      out += 'r';
      return;
    case 0x1b:
      out += 'e';
      return;
    case 0x22:
      out += '"';
      return;
    case 0x5c:
      out += '\\';
      return;
    case 0x85:
      out += 'N';
      return;
    case 0xa0:
      out += '_';
      return;
    case 0x2028:
      out += 'L';
      return;
    case 0x2029:
      out += 'P';
      return;
    default:
      break;
  }
  int digits = cp <= 0xff ? 2 : cp <= 0xffff ? 4 : 8;
  out += digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
  for (int k = digits - 1; k >= 0; k--) out += kHex[(cp >> (4 * k)) & 0xf];
}

}  // namespace

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

Form choose(std::string_view s, bool is_string, Context ctx) {
  Analysis a = analyze(s);
  bool can_plain = !is_string || !resolves_as_non_string(s);
  // yaml.v3 picks a literal block for any string with a newline, whatever its tag.
  if (s.find('\n') != std::string_view::npos) {
    return ctx.flow || ctx.key || !a.block ? Form::kDouble : Form::kLiteral;
  }
  if (!can_plain) return Form::kDouble;
  bool plain = ctx.flow ? a.flow_plain : a.block_plain;
  if (s.empty() && (ctx.flow || ctx.key)) plain = false;
  if (plain) return Form::kPlain;
  return a.single_quoted ? Form::kSingle : Form::kDouble;
}

void write_double(std::string_view s, std::string& out) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    int w = width(at(s, i));
    bool bom = at(s, i) == 0xef && at(s, i + 1) == 0xbb && at(s, i + 2) == 0xbf;
    if (!is_printable(s, i) || bom || is_break(s, i) || s[i] == '"' || s[i] == '\\') {
      auto c = at(s, i);
      std::uint32_t cp = w == 1 ? c : c & (0xff >> (w + 1));
      for (int k = 1; k < w; k++) cp = (cp << 6) | (at(s, i + k) & 0x3f);
      write_escape(cp, out);
    } else {
      out.append(s.substr(i, w));
    }
    i += w;
  }
  out += '"';
}

void write_single(std::string_view s, std::string& out) {
  out += '\'';
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
}

void write_literal(std::string_view s, int indent, std::string& out) {
  out += '|';
  if (!s.empty() && (s[0] == ' ' || is_break(s, 0))) out += static_cast<char>('0' + kIndentStep);
  std::size_t n = s.size();
  bool ends_break = n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r');
  bool ends_two = ends_break && (n == 1 || s[n - 2] == '\n' || s[n - 2] == '\r');
  if (!ends_break) out += '-';
  if (ends_two) out += '+';
  out += '\n';
  bool line_start = true;
  for (char c : s) {
    if (c == '\n') {
      out += '\n';
      line_start = true;
      continue;
    }
    if (line_start) out.append(static_cast<std::size_t>(indent), ' ');
    line_start = false;
    out += c;
  }
  if (!ends_break) out += '\n';
}

std::string base64_lines(std::string_view bytes) {
  std::string enc = base64_encode(bytes);
  constexpr std::size_t kLine = 70;
  if (enc.size() < kLine) return enc;
  std::string out;
  for (std::size_t i = 0; i < enc.size(); i += kLine) {
    out.append(enc, i, kLine);
    out += '\n';
  }
  return out;
}

}  // namespace reel::testset::yaml_detail
