#include "mock/sql_text.h"

#include <cctype>
#include <set>
#include <vector>

namespace reel::mock {

std::string normalize_sql(std::string_view sql, SqlDialect dialect) {
  std::string out = protocols::sql_shape(sql, dialect, false);
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

std::optional<std::string> state_statement_tag(std::string_view sql, SqlDialect dialect) {
  if (sql.find(';') != sql.npos) return std::nullopt;  // one statement only
  // The first words, upper case.
  std::vector<std::string> w;
  for (std::size_t i = 0; i < sql.size() && w.size() < 8;) {
    while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t')) i++;
    std::size_t start = i;
    while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' ||
                              sql[i] == '.' || sql[i] == '"'))
      i++;
    if (i == start) {
      if (i < sql.size()) w.emplace_back(1, sql[i++]);  // punctuation, as a word of its own
      continue;
    }
    std::string word(sql.substr(start, i - start));
    for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    w.push_back(std::move(word));
  }
  if (w.empty()) return std::nullopt;
  const std::string& first = w[0];
  auto word = [&](std::size_t i) { return i < w.size() ? w[i] : std::string(); };
  if (first == "BEGIN" || first == "COMMIT" || first == "SAVEPOINT" || first == "RELEASE" ||
      first == "SET" || first == "RESET" || first == "LISTEN" || first == "UNLISTEN" ||
      first == "DO" || first == "COMMENT" || first == "GRANT" || first == "REVOKE" ||
      first == "VACUUM" || first == "ANALYZE")
    return first == "SET" && word(1) == "CONSTRAINTS" ? "SET CONSTRAINTS" : first;
  if (first == "END") return "COMMIT";
  if (first == "ROLLBACK" || first == "ABORT") return "ROLLBACK";
  if (first == "START" && word(1) == "TRANSACTION") return "START TRANSACTION";
  if (first == "DISCARD" && !word(1).empty()) return "DISCARD " + (word(1) == "TEMPORARY" ? "TEMP" : word(1));
  if (dialect == SqlDialect::kMysql && (first == "USE" || (first == "UNLOCK" && word(1) == "TABLES")))
    return first;
  if (first == "TRUNCATE") return "TRUNCATE TABLE";
  if (first == "LOCK") return "LOCK TABLE";
  if (first != "CREATE" && first != "ALTER" && first != "DROP") return std::nullopt;
  static const std::set<std::string, std::less<>> kObjects = {
      "TABLE", "INDEX", "SCHEMA", "EXTENSION", "SEQUENCE", "VIEW", "FUNCTION", "PROCEDURE",
      "TYPE", "TRIGGER", "DOMAIN", "ROLE", "USER", "DATABASE", "POLICY", "AGGREGATE", "COLLATION"};
  std::size_t i = 1;
  if (first == "CREATE" && word(1) == "OR" && word(2) == "REPLACE") i = 3;
  while (word(i) == "TEMP" || word(i) == "TEMPORARY" || word(i) == "UNLOGGED" ||
         word(i) == "UNIQUE" || word(i) == "GLOBAL" || word(i) == "LOCAL")
    i++;
  std::string object = word(i);
  if (object == "MATERIALIZED") return std::nullopt;  // CREATE ... AS counts rows
  if (!kObjects.contains(object)) return std::nullopt;
  if (first == "CREATE" && object == "TABLE") {
    // CREATE TABLE [IF NOT EXISTS] name AS ...: "SELECT n", a count.
    std::size_t name = i + 1;
    if (word(name) == "IF") name += 3;
    if (word(name + 1) == "AS") return std::nullopt;
  }
  return first + " " + object;
}

}  // namespace reel::mock
