// SQL text as the Postgres and MySQL mocks compare and show it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reel::mock {

enum class SqlDialect : std::uint8_t { kPostgres, kMysql };

// SQL with literals (numbers, quoted strings) replaced by '?', whitespace collapsed and a
// trailing ';' dropped: two statements that differ only in their values normalize alike.
// MySQL: backslash escapes, "..." is a string and `...` an identifier; PostgreSQL: "..." is an
// identifier and a backslash is an ordinary character.
std::string normalize_sql(std::string_view sql, SqlDialect dialect);

// One line (whitespace runs collapsed), at most `max` bytes and an ellipsis, for summaries.
std::string one_line(std::string_view text, std::size_t max = 120);

}  // namespace reel::mock
