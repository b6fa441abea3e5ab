// How a PostgreSQL conversation pairs, written once: which client messages make one request,
// which server messages answer it, and which client message each server message answers. The
// tracer's stitcher cuts exchanges with it, the mock recorder cuts mocks with it, and the mock
// responder uses it to send, at a Flush, exactly the part of a recorded answer that the server
// had owed by then.
//
// A request is everything the client sends up to a message that the server must answer in full
// before it is ready again (simple Query, Sync, FunctionCall, a start-up message), plus the COPY
// data and authentication replies that follow it. Flush ends no request: the server sends what
// it has, and the request goes on to its Sync, whether the client waited in between or not.
// The answer is everything up to ReadyForQuery (or the one-byte answer to SSLRequest).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "protocols/postgres/types.h"

namespace reel::protocols::postgres {

// The client messages after which the server owes a complete answer, ReadyForQuery last.
inline bool closes_request(char tag) {
  return tag == 'Q' || tag == 'S' || tag == 'F' || tag == kUntyped;
}
inline bool closes_request(const Message& m) { return closes_request(m.tag); }
// Messages the client sends while the server answers: COPY data, authentication replies.
inline bool continues_request(const Message& m) {
  return m.tag == 'd' || m.tag == 'c' || m.tag == 'f' || m.tag == 'p';
}
// Client messages the server never answers: Terminate and CancelRequest.
bool unanswered(const Message& m);
// The last server message of an answer.
inline bool ends_answer(const Message& m) { return m.tag == 'Z' || m.tag == kEncryptionReply; }

// The number of leading client messages that form one complete request; 0 while incomplete.
template <class Messages>
std::size_t request_length(const Messages& requests) {
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (!closes_request(requests[i])) continue;
    std::size_t n = i + 1;
    while (n < requests.size() && continues_request(requests[n])) ++n;
    return n;
  }
  return 0;
}

// The number of leading server messages that form one complete answer; 0 while incomplete.
template <class Messages>
std::size_t answer_length(const Messages& responses) {
  for (std::size_t i = 0; i < responses.size(); ++i) {
    if (ends_answer(responses[i])) return i + 1;
  }
  return 0;
}

// Which client message of one request each server message answers (typed messages only):
// ParseComplete answers Parse, BindComplete Bind, ParameterDescription plus RowDescription or
// NoData a Describe, DataRows through CommandComplete, EmptyQueryResponse or PortalSuspended an
// Execute (COPY in between), CloseComplete a Close, everything through ReadyForQuery a simple
// Query, FunctionCall or Sync. After an ErrorResponse the server skips to the next Sync. Flush,
// COPY data and Terminate get nothing; notices, notifications and parameter status belong to
// the message being answered.
class AnswerMap {
 public:
  explicit AnswerMap(std::vector<char> client_tags);
  // The index of the client message that `server_tag` answers (the last one when the server
  // says more than the request asked for).
  std::size_t add(char server_tag);

 private:
  void skip_silent();
  std::vector<char> client_;
  std::size_t at_ = 0;
  bool failed_ = false;
};

// For a recorded request (client tags) and its answer (server tags): owed[k] is how many of the
// server messages answer the first k client messages, for k = 0..client.size().
std::vector<std::size_t> answer_owed(std::span<const char> client, std::span<const char> server);

// Why `server` cannot be the answer to `client` (a recording that paired them wrong): a
// message that no client message of the request asks for ("ParseComplete answers a Sync"), or
// an answer that stops short of the ReadyForQuery a closed request is owed. Empty when it fits.
std::string answer_problem(std::span<const char> client, std::span<const char> server);

}  // namespace reel::protocols::postgres
