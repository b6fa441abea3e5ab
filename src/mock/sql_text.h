// SQL text as the Postgres and MySQL mocks compare and show it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/sql_shape.h"

namespace reel::mock {

using protocols::SqlDialect;

// SQL's shape (protocols::sql_shape: literals as placeholders, comments and whitespace runs
// dropped, lists kept whole) without a trailing ';': two statements that differ only in their
// values normalize alike.
std::string normalize_sql(std::string_view sql, SqlDialect dialect);

// The command tag a server answers a statement with when that answer follows from the
// statement's text alone: statements that return no rows and count none (BEGIN, COMMIT,
// ROLLBACK, SAVEPOINT, SET, RESET, DISCARD, LISTEN, DO, CREATE/ALTER/DROP of an object, COMMENT,
// GRANT, REVOKE, TRUNCATE, LOCK, VACUUM, ANALYZE; for MySQL also USE and UNLOCK TABLES). The tag
// is PostgreSQL's CommandComplete text; a MySQL server answers each with OK. nullopt for
// anything else (SELECT, INSERT, CREATE TABLE ... AS, several statements). `sql` as
// normalize_sql gives it.
std::optional<std::string> state_statement_tag(std::string_view sql, SqlDialect dialect);

// One line (whitespace runs collapsed), at most `max` bytes and an ellipsis, for summaries.
std::string one_line(std::string_view text, std::size_t max = 120);

}  // namespace reel::mock
