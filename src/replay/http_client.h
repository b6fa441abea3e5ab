// Sends one recorded request to the app under test and reads its response: an HTTP/1.1 client,
// over TLS when the recorded URL is https:// (the app's certificate is not verified: it is the
// app under test), one connection per request, so a test never depends on the previous one's
// connection state.
#pragma once

#include <chrono>

#include "core/net.h"
#include "core/result.h"
#include "testset/model.h"

namespace reel::replay {

// `app` is where to connect; the request's own Host header and path are sent as recorded.
// Errors name what went wrong ("connection refused", "no response within 10 s", "the app
// closed the connection before answering").
Result<testset::HttpResponse> send_request(const Endpoint& app, const testset::HttpRequest& req,
                                           std::chrono::milliseconds timeout);

// Path and query of an absolute URL ("http://h:1/a?b" -> "/a?b"); the input when it has none.
std::string request_target(std::string_view url);
// Authority of an absolute URL ("http://h:1/a" -> "h:1"); up to the first '/' otherwise.
std::string_view url_host(std::string_view url);

}  // namespace reel::replay
