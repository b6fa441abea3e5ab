// PostgreSQL messages as the mock recorder stores them and the responder reads them back.
//
// A mock holds one request as protocols/postgres/conversation.h cuts them: its client messages
// and the server's answer, grouped in segments that alternate (client, server, client,
// server...). Most requests have one of each; the start-up phase and COPY FROM STDIN have more. Each segment is one packet Value in
// Keploy's Postgres v1 shape: {header: [tags], identifier, length, payload: base64, ...}.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "protocols/postgres/types.h"
#include "testset/redact.h"
#include "testset/yaml_value.h"

namespace reel::mock::pg {

using protocols::postgres::Message;

// Statement name -> SQL on one connection, as Parse defines and Close forgets them.
using Statements = std::map<std::string, std::string>;

// The bytes of a message as it went over the wire.
std::string wire(const Message& m);
std::string wire(const std::vector<Message>& msgs);
// Splits one segment's bytes; untyped start-up messages are recognised first in a client
// segment. False when the bytes are not whole, well-formed messages.
bool split(std::string_view bytes, bool from_client, std::vector<Message>& out);

void learn(const std::vector<Message>& client, Statements& statements);
// The SQL a client segment runs ("; "-joined): Query text, Parse queries, or the statements
// that Binds name. Empty when it runs none (a lone Sync).
std::string segment_sql(const std::vector<Message>& client, const Statements& statements);
// The message with counters in statement and portal names set aside, for exact comparison.
std::string canonical(const Message& m);
std::string tags(const std::vector<Message>& msgs);

// Packet Values. A client segment with a password message keeps no payload when a redactor
// is given: the password field holds its placeholder instead.
// `sql` is segment_sql() as of when the segment was sent.
testset::Value request_value(const std::vector<Message>& client, const std::string& sql,
                             const testset::Redactor* redactor);
testset::Value response_value(const std::vector<Message>& server);

// Keploy's decoded packets (no payload): the messages rebuilt from the header list and the
// fields Keploy writes for each (postgres_keploy.cc). The error names what could not be used.
Result<std::vector<Message>> from_keploy(const testset::Value& packet, bool from_client);

// Message builders for the responder.
Message typed(char tag, std::string payload);
Message error_response(std::string_view code, std::string_view message,
                       std::string_view severity = "ERROR");
Message ready_for_query(char status);

}  // namespace reel::mock::pg
