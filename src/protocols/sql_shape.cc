#include "protocols/sql_shape.h"

#include <algorithm>
#include <array>
#include <vector>

namespace reel::protocols {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_word(char c) { return is_word_start(c) || is_digit(c) || c == '$'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

struct Token {
  enum Kind { kWord, kLiteral, kParam, kPunct } kind;
  std::string_view text;
  bool space;  // whitespace or a comment before it
};

// Words after which a '-' starts a negative number rather than a subtraction.
bool takes_operand(std::string_view word) {
  static constexpr std::array<std::string_view, 20> kWords = {
      "select", "where", "and",    "or",  "not", "values", "by", "then",    "else", "when",
      "return", "limit", "offset", "set", "as",  "is",     "in", "between", "like", "case"};
  return std::any_of(kWords.begin(), kWords.end(),
                     [&](std::string_view k) { return iequals(k, word); });
}

class Lexer {
 public:
  Lexer(std::string_view s, SqlDialect d) : s_(s), mysql_(d == SqlDialect::kMysql) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    bool space = false;
    while (i_ < s_.size()) {
      std::size_t start = i_;
      char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        i_++;
        space = true;
        continue;
      }
      if (skip_comment()) {
        space = true;
        continue;
      }
      Token::Kind kind = Token::kPunct;
      if (c == '\'') {
        quoted('\'', mysql_);
        kind = Token::kLiteral;
      } else if (c == '"') {
        quoted('"', mysql_);
        kind = mysql_ ? Token::kLiteral : Token::kWord;  // MySQL's default: "..." is a string
      } else if (c == '`') {
        quoted('`', false);
        kind = Token::kWord;
      } else if (c == '$' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1])) {
        i_++;
        while (i_ < s_.size() && is_digit(s_[i_])) i_++;
        kind = Token::kParam;
      } else if (c == '$' && !mysql_ && dollar_quoted()) {
        kind = Token::kLiteral;
      } else if (is_digit(c) || (c == '.' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) {
        number();
        kind = Token::kLiteral;
      } else if (c == '-' && i_ + 1 < s_.size() && (is_digit(s_[i_ + 1]) || s_[i_ + 1] == '.') &&
                 unary(out)) {
        i_++;
        number();
        kind = Token::kLiteral;
      } else if (is_word_start(c)) {
        while (i_ < s_.size() && is_word(s_[i_])) i_++;
        kind = Token::kWord;
        // E'...', B'...', X'...', N'...': a prefixed string is one literal.
        if (i_ - start == 1 && i_ < s_.size() && s_[i_] == '\'' &&
            std::string_view("EeBbXxNn").find(c) != std::string_view::npos) {
          quoted('\'', mysql_ || c == 'E' || c == 'e');
          kind = Token::kLiteral;
        }
      } else {
        i_++;
      }
      out.push_back({kind, s_.substr(start, i_ - start), space});
      space = false;
    }
    return out;
  }

 private:
  bool skip_comment() {
    if (s_.compare(i_, 2, "--") == 0 || (mysql_ && s_[i_] == '#')) {
      auto nl = s_.find('\n', i_);
      i_ = nl == std::string_view::npos ? s_.size() : nl + 1;
      return true;
    }
    if (s_.compare(i_, 2, "/*") != 0) return false;
    int depth = 0;  // PostgreSQL nests block comments
    while (i_ < s_.size()) {
      if (s_.compare(i_, 2, "/*") == 0) {
        depth += mysql_ && depth > 0 ? 0 : 1;
        i_ += 2;
      } else if (s_.compare(i_, 2, "*/") == 0) {
        i_ += 2;
        if (--depth == 0) break;
      } else {
        i_++;
      }
    }
    return true;
  }

  // From the opening quote at i_ to past the closing one; a doubled quote is one character.
  // Unterminated (a capped statement): to the end.
  void quoted(char q, bool backslash) {
    while (s_[i_] != q) i_++;  // past a prefix letter
    i_++;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (backslash && c == '\\') {
        if (i_ < s_.size()) i_++;
      } else if (c == q) {
        if (i_ < s_.size() && s_[i_] == q)
          i_++;
        else
          return;
      }
    }
  }

  // $tag$...$tag$ starting at i_; false (nothing consumed) when i_ does not open one.
  bool dollar_quoted() {
    std::size_t j = i_ + 1;
    while (j < s_.size() && s_[j] != '$') {
      if (!(is_word_start(s_[j]) || (j > i_ + 1 && is_digit(s_[j])))) return false;
      j++;
    }
    if (j >= s_.size()) return false;
    std::string_view tag = s_.substr(i_, j + 1 - i_);
    auto end = s_.find(tag, j + 1);
    i_ = end == std::string_view::npos ? s_.size() : end + tag.size();
    return true;
  }

  void number() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if ((c == 'e' || c == 'E') && i_ + 2 < s_.size() &&
          (s_[i_ + 1] == '-' || s_[i_ + 1] == '+') && is_digit(s_[i_ + 2])) {
        i_ += 2;
      } else if (!(is_digit(c) || c == '.' || is_word_start(c))) {
        break;
      }
      i_++;
    }
  }

  // A '-' before a number is a sign unless it follows an operand.
  static bool unary(const std::vector<Token>& out) {
    if (out.empty()) return true;
    const Token& t = out.back();
    if (t.kind == Token::kLiteral || t.kind == Token::kParam) return false;
    if (t.kind == Token::kWord) return takes_operand(t.text);
    return t.text != ")" && t.text != "]";
  }

  std::string_view s_;
  bool mysql_;
  std::size_t i_ = 0;
};

class Shaper {
 public:
  Shaper(const std::vector<Token>& t, SqlDialect d, bool group_lists)
      : t_(t), mysql_(d == SqlDialect::kMysql), group_(group_lists) {
    for (const Token& k : t_) {
      if (k.kind != Token::kParam) continue;
      std::size_t n = 0;
      for (char c : k.text.substr(1)) n = std::min<std::size_t>(n * 10 + (c - '0'), 1'000'000);
      next_ = std::max(next_, n + 1);
    }
  }

  std::string run() {
    for (std::size_t i = 0; i < t_.size();) {
      const Token& k = t_[i];
      emit(k);
      i++;
      if (group_ && k.kind == Token::kWord && iequals(k.text, "in")) i = in_list(i);
      if (group_ && k.kind == Token::kWord && iequals(k.text, "values")) i = tuples(i);
    }
    return std::move(out_);
  }

 private:
  void emit(const Token& k, bool space) {
    if (space && !out_.empty()) out_ += ' ';
    if (k.kind != Token::kLiteral) {
      out_ += k.text;
    } else if (mysql_) {
      out_ += '?';
    } else {
      out_ += '$';
      out_ += std::to_string(next_++);
    }
  }
  void emit(const Token& k) { emit(k, k.space); }

  bool is(std::size_t i, std::string_view punct) const {
    return i < t_.size() && t_[i].kind == Token::kPunct && t_[i].text == punct;
  }
  bool value(std::size_t i) const {
    return i < t_.size() && (t_[i].kind == Token::kLiteral || t_[i].kind == Token::kParam);
  }

  // At "(" after IN: a list of two or more values becomes its first and ", ...".
  std::size_t in_list(std::size_t i) {
    if (!is(i, "(") || !value(i + 1)) return i;
    std::size_t j = i + 2, n = 1;
    while (is(j, ",") && value(j + 1)) j += 2, n++;
    if (!is(j, ")") || n < 2) return i;
    emit(t_[i]);
    emit(t_[i + 1]);
    out_ += ", ...)";
    return j + 1;
  }

  // Past the parenthesised group opening at i (to the end when unbalanced).
  std::size_t group_end(std::size_t i) const {
    int depth = 0;
    for (; i < t_.size(); i++) {
      if (is(i, "(")) depth++;
      if (is(i, ")") && --depth == 0) return i + 1;
    }
    return i;
  }

  bool same_shape(std::size_t a, std::size_t b, std::size_t n) const {
    for (std::size_t k = 0; k < n; k++) {
      const Token &x = t_[a + k], &y = t_[b + k];
      if (x.kind != y.kind || (x.kind != Token::kLiteral && x.text != y.text)) return false;
    }
    return true;
  }

  // At the first tuple after VALUES: tuples of the first one's shape after it become ", ...".
  std::size_t tuples(std::size_t i) {
    if (!is(i, "(")) return i;
    std::size_t end = group_end(i), n = end - i;
    for (std::size_t k = i; k < end; k++) emit(t_[k]);
    std::size_t j = end;
    bool more = false;
    while (is(j, ",") && j + 1 + n <= t_.size() && same_shape(i, j + 1, n)) {
      j += 1 + n;
      more = true;
    }
    if (more) out_ += ", ...";
    return j;
  }

  const std::vector<Token>& t_;
  bool mysql_;
  bool group_;
  std::size_t next_ = 1;
  std::string out_;
};

}  // namespace

std::string sql_shape(std::string_view sql, SqlDialect dialect, bool group_lists) {
  std::vector<Token> tokens = Lexer(sql, dialect).run();
  return Shaper(tokens, dialect, group_lists).run();
}

}  // namespace reel::protocols
