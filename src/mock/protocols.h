// Per-protocol recorders and responders behind CallRecorder::create and Responder::create.
// Each protocol lives in its own pair of files: src/mock/<protocol>_record.cc and
// src/mock/<protocol>_replay.cc.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mock/mock.h"

namespace reel::mock {

// Recording. `server` is the real destination (written as reel.server).
std::unique_ptr<CallRecorder> make_http_recorder(const Endpoint& server, const RecordOptions& o);
// HTTP/2 (client preface seen): each stream a call, gRPC ones as gRPC mocks, the rest as Http
// mocks with proto_major 2.
std::unique_ptr<CallRecorder> make_http2_recorder(const Endpoint& server, const RecordOptions& o);
std::unique_ptr<CallRecorder> make_redis_recorder(const Endpoint& server, const RecordOptions& o);
std::unique_ptr<CallRecorder> make_postgres_recorder(const Endpoint& server,
                                                     const RecordOptions& o);
std::unique_ptr<CallRecorder> make_mysql_recorder(const Endpoint& server, const RecordOptions& o);
// Anything else: client burst then server burst, kind Generic.
std::unique_ptr<CallRecorder> make_generic_recorder(const Endpoint& server,
                                                    const RecordOptions& o);

// Replay.
std::unique_ptr<Responder> make_http_responder(const Responder::Context& ctx);
// HTTP/2 server (libnghttp2 session): gRPC streams from gRPC mocks, other streams from Http mocks.
std::unique_ptr<Responder> make_http2_responder(const Responder::Context& ctx);
// The ALPN protocol a TLS terminator should select for the app's offer to `server`: "h2" when it
// is offered and the mocks for `server` hold gRPC or HTTP/2 calls (or, for a server no mock names,
// when any gRPC mock exists), or when h2 is all the app offers; else "http/1.1" when offered;
// else "" (none).
std::string mock_alpn(const MockPool& pool, const Endpoint& server,
                      const std::vector<std::string>& offered);
// gRPC messages as they travel in DATA frames (testset::grpc_frame_messages), sent uncompressed
// where reel cannot produce the recorded grpc-encoding.
std::string grpc_wire_messages(std::vector<testset::GrpcMessage> messages,
                               std::string_view encoding);
std::unique_ptr<Responder> make_redis_responder(const Responder::Context& ctx);
std::unique_ptr<Responder> make_postgres_responder(const Responder::Context& ctx);
std::unique_ptr<Responder> make_mysql_responder(const Responder::Context& ctx);
std::unique_ptr<Responder> make_generic_responder(const Responder::Context& ctx);
// Why a Postgres mock cannot be replayed ("line 12: RowDescription without its fields"); empty
// when it can. Start-up mocks never fail here: reel answers any login itself.
std::string postgres_mock_problem(const testset::Mock& mock);
// The same for a MySQL mock ("line 40: COM_STMT_EXECUTE without statement_id").
std::string mysql_mock_problem(const testset::Mock& mock);

// DNS, message by message (UDP datagrams, or TCP without the length prefix).
// Recording: a query and the real server's answer become a DNS mock.
Result<RecordedCall> dns_call(std::span<const std::byte> query, std::span<const std::byte> answer,
                              std::uint64_t request_ns, std::uint64_t response_ns,
                              const Endpoint& server, const RecordOptions& o);
// Replay: the answer for a query from the pool's DNS mocks (id and question copied from the
// query); SERVFAIL, recorded as unmatched, when no mock fits; nullopt for bytes that are not a
// DNS query at all.
std::optional<std::string> dns_answer(MockPool& pool, std::span<const std::byte> query,
                                      const Endpoint& client, const Endpoint& server);

}  // namespace reel::mock
