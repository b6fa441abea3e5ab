#include "mock/sql_text.h"

#include <cctype>

namespace reel::mock {

namespace {

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Index just past the literal opened by sql[i]; a doubled quote stays inside it.
std::size_t skip_quoted(std::string_view sql, std::size_t i, bool backslash) {
  char quote = sql[i++];
  while (i < sql.size()) {
    char c = sql[i];
    if (backslash && c == '\\') {
      i += 2;
    } else if (c == quote && i + 1 < sql.size() && sql[i + 1] == quote) {
      i += 2;
    } else {
      ++i;
      if (c == quote) break;
    }
  }
  return std::min(i, sql.size());
}

}  // namespace

std::string normalize_sql(std::string_view sql, SqlDialect dialect) {
  bool mysql = dialect == SqlDialect::kMysql;
  std::string out;
  std::size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      ++i;
    } else if (c == '\'' || (mysql && c == '"')) {
      i = skip_quoted(sql, i, mysql);
      out.push_back('?');
    } else if (c == '"' || c == '`') {  // a quoted identifier stays
      std::size_t end = skip_quoted(sql, i, false);
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (std::isdigit(static_cast<unsigned char>(c)) &&
               (out.empty() || !is_word(out.back()))) {
      while (i < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '.')) {
        ++i;
      }
      out.push_back('?');
    } else {
      out.push_back(c);
      ++i;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

std::string one_line(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() <= max) return out;
  out.resize(max);
  // Never end inside a UTF-8 sequence.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  return out + "…";
}

}  // namespace reel::mock
