// One error type for all of reel: an errno (0 when none applies) and a sentence a user can act on.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace reel {

struct Error {
  int code = 0;  // errno value, or 0
  std::string message;

  // "context: strerror(code)".
  static Error from_errno(std::string context, int code = errno) {
    return Error{code, fmt::format("{}: {}", context, std::strerror(code))};
  }
  static Error msg(std::string message, int code = 0) { return Error{code, std::move(message)}; }

  // Prefixes more context: "outer: inner".
  Error wrap(std::string_view outer) const& {
    return Error{code, fmt::format("{}: {}", outer, message)};
  }
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Error e) { return std::unexpected<Error>(std::move(e)); }
inline std::unexpected<Error> fail_errno(std::string context, int code = errno) {
  return std::unexpected<Error>(Error::from_errno(std::move(context), code));
}
template <typename... Args>
std::unexpected<Error> fail_msg(fmt::format_string<Args...> f, Args&&... args) {
  return std::unexpected<Error>(Error::msg(fmt::format(f, std::forward<Args>(args)...)));
}

// Adds context to an error result: "outer: inner". (g++ 12's std::expected has no
// transform_error yet.)
template <typename T>
Result<T> with_context(Result<T> r, std::string_view outer) {
  if (!r) return fail(r.error().wrap(outer));
  return r;
}

namespace detail {
template <typename T>
T take_value(Result<T>& r) {
  return std::move(*r);
}
inline void take_value(Result<void>&) {}
}  // namespace detail

}  // namespace reel

// Propagates an error from an expression returning Result<T>; yields the value otherwise.
#define REEL_TRY(expr)                                                  \
  ({                                                                    \
    auto reel_try_result_ = (expr);                                     \
    if (!reel_try_result_) return std::unexpected(reel_try_result_.error()); \
    ::reel::detail::take_value(reel_try_result_);                       \
  })
