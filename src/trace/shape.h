// The shape of a request, as APMs group them: the summary counts `GET /users/:id` once, not once
// per id (SQL: protocols/sql_shape.h). Pure functions over untrusted text.
#pragma once

#include <string>
#include <string_view>

namespace reel::trace {

// An HTTP path without its query string or fragment, numeric segments, UUIDs and long hex ids
// as ":id": "/users/42/orders?x=1" -> "/users/:id/orders".
std::string path_shape(std::string_view target);

// A Redis key as its prefix up to its last ':' ("user:42" -> "user:*", "s:7:cart" -> "s:7:*"),
// the whole key when it has no ':' and is short, else "*".
std::string redis_key_shape(std::string_view key);

}  // namespace reel::trace
