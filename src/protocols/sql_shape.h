// SQL as its shape, the form pg_stat_statements and APMs group by and the mocks match by: the
// statement with its literals as placeholders. One lexer for PostgreSQL and MySQL, used by the
// trace summary (src/trace/summary.cc) and the SQL mocks (src/mock/sql_text.h). Pure functions
// over untrusted text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reel::protocols {

enum class SqlDialect : std::uint8_t { kPostgres, kMysql };

// SQL with its literals (numbers, strings, E'' and dollar-quoted text) as placeholders — `$n`
// numbered after the statement's own parameters for PostgreSQL, `?` for MySQL — comments
// dropped and whitespace runs as one space. PostgreSQL: "..." is an identifier and a backslash
// an ordinary character; MySQL: backslash escapes, "..." is a string and `...` an identifier.
// With `group_lists`, a list of literals in IN (...) becomes its first and ", ...", and a run of
// VALUES tuples of one shape the first tuple and ", ..." (the summary's grouping; the mocks keep
// lists whole, so that IN (1, 2) and IN (1, 2, 3) stay different calls).
std::string sql_shape(std::string_view sql, SqlDialect dialect, bool group_lists = true);

}  // namespace reel::protocols
