#include "protocols/postgres/conversation.h"

#include <string_view>
#include <utility>

#include "protocols/postgres/decode.h"

namespace reel::protocols::postgres {

namespace {

// Client messages the server answers only at their end, with ReadyForQuery.
bool answered_through_ready(char client) {
  return client == 'Q' || client == 'S' || client == 'F' || client == kUntyped;
}

// Client messages that get no answer of their own.
bool silent(char client) {
  return client == 'H' || client == 'd' || client == 'c' || client == 'f' || client == 'X' ||
         client == 'p';
}

// Whether `server` is the last message of the answer to `client`.
bool completes(char client, char server) {
  if (server == 'Z' || server == kEncryptionReply) return true;
  switch (client) {
    case 'P':
      return server == '1' || server == 'E';
    case 'B':
      return server == '2' || server == 'E';
    case 'D':
      return server == 'T' || server == 'n' || server == 'E';
    case 'E':
      return server == 'C' || server == 'I' || server == 's' || server == 'E';
    case 'C':
      return server == '3' || server == 'E';
    default:
      return false;
  }
}

// Whether `server` may be (part of) the answer to `client`.
bool may_answer(char client, char server) {
  // Anywhere: errors, notices, notifications, parameter status.
  if (server == 'E' || server == 'N' || server == 'A' || server == 'S') return true;
  switch (client) {
    case 'P':
      return server == '1';
    case 'B':
      return server == '2';
    case 'D':
      return server == 't' || server == 'T' || server == 'n';
    case 'E':  // rows, the end of the portal, COPY
      return std::string_view("DCIsGHWdc").find(server) != std::string_view::npos;
    case 'C':
      return server == '3';
    case 'S':
      return server == 'Z';
    case 'Q':
      return std::string_view("TDCIGHWdcZ").find(server) != std::string_view::npos;
    case 'F':
      return server == 'V' || server == 'Z';
    default:
      return false;
  }
}

std::string message_name(char tag, bool client) {
  if (client) {
    switch (tag) {
      case 'P': return "Parse";
      case 'B': return "Bind";
      case 'D': return "Describe";
      case 'E': return "Execute";
      case 'C': return "Close";
      case 'S': return "Sync";
      case 'H': return "Flush";
      case 'Q': return "Query";
      case 'F': return "FunctionCall";
      default: return std::string("'") + tag + "'";
    }
  }
  switch (tag) {
    case '1': return "ParseComplete";
    case '2': return "BindComplete";
    case '3': return "CloseComplete";
    case 't': return "ParameterDescription";
    case 'T': return "RowDescription";
    case 'n': return "NoData";
    case 'D': return "DataRow";
    case 'C': return "CommandComplete";
    case 'I': return "EmptyQueryResponse";
    case 's': return "PortalSuspended";
    case 'Z': return "ReadyForQuery";
    case 'V': return "FunctionCallResponse";
    default: return std::string("'") + tag + "'";
  }
}

}  // namespace

std::string answer_problem(std::span<const char> client, std::span<const char> server) {
  if (client.empty()) return server.empty() ? "" : "an answer with no request";
  AnswerMap map(std::vector<char>(client.begin(), client.end()));
  for (char s : server) {
    std::size_t i = map.add(s);
    if (!may_answer(client[i], s)) {
      return message_name(s, false) + " cannot answer a " + message_name(client[i], true);
    }
  }
  bool closed = false;
  for (char c : client) closed = closed || closes_request(c);
  if (closed && (server.empty() || server.back() != 'Z')) {
    return "the answer ends before ReadyForQuery";
  }
  return "";
}

bool unanswered(const Message& m) {
  return m.tag == 'X' || (m.tag == kUntyped && request_code(m) == kCancelRequest);
}

AnswerMap::AnswerMap(std::vector<char> client_tags) : client_(std::move(client_tags)) {}

void AnswerMap::skip_silent() {
  while (at_ + 1 < client_.size() &&
         (silent(client_[at_]) || (failed_ && !answered_through_ready(client_[at_])))) {
    ++at_;
  }
}

std::size_t AnswerMap::add(char server_tag) {
  if (client_.empty()) return 0;
  skip_silent();
  std::size_t index = at_;
  char client = client_[at_];
  if (server_tag == 'Z') failed_ = false;
  if (completes(client, server_tag)) {
    if (server_tag == 'E') failed_ = true;
    if (at_ + 1 < client_.size()) ++at_;
  }
  return index;
}

std::vector<std::size_t> answer_owed(std::span<const char> client, std::span<const char> server) {
  std::vector<std::size_t> owed(client.size() + 1, 0);
  AnswerMap map(std::vector<char>(client.begin(), client.end()));
  for (char s : server) {
    std::size_t i = map.add(s);
    // Server message answering client message i is owed once the first i+1 have been sent.
    for (std::size_t k = i + 1; k < owed.size(); ++k) owed[k]++;
  }
  return owed;
}

}  // namespace reel::protocols::postgres
