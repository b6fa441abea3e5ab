#include <gtest/gtest.h>

#include "mock/protocols.h"
#include "mock/redis_common.h"
#include "mock_test_util.h"
#include "testset/codec.h"
#include "testset/redact.h"

namespace reel::mock {
namespace {

using namespace testing;

const Endpoint kServer = ep("127.0.0.1:6379");

std::string cmd(std::vector<std::string> args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (auto& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

std::vector<RecordedCall> session(const testset::Redactor* redactor = nullptr) {
  RecordOptions o;
  o.redactor = redactor;
  auto r = CallRecorder::create(ep("127.0.0.1:40000"), kServer, o);
  return record(*r, {{kUp, cmd({"AUTH", "hunter2"})},
                     {kDown, "+OK\r\n"},
                     {kUp, cmd({"SET", "user:7", "ann"}) + cmd({"GET", "user:7"}) +
                               cmd({"HGETALL", "h"})},
                     {kDown, "+OK\r\n$3\r\nann\r\n*2\r\n$1\r"},
                     {kDown, "\n"
                             "f\r\n$1\r\nv\r\n"}});
}

const testset::PayloadMockSpec& payload(const testset::Mock& m) {
  return std::get<testset::PayloadMockSpec>(m.spec);
}

TEST(MockRedis, RecordsOneCallPerPipelinedCommand) {
  auto calls = session();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_TRUE(calls[0].startup);
  EXPECT_EQ(calls[0].mock.metadata.at("type"), "config");
  EXPECT_EQ(calls[1].summary, "SET user:7");
  EXPECT_FALSE(calls[1].startup);
  EXPECT_EQ(calls[1].mock.metadata.at("type"), "mocks");
  EXPECT_EQ(calls[1].mock.kind, testset::MockKind::kRedis);
  const auto& p = payload(calls[2].mock);
  ASSERT_EQ(p.requests.size(), 1u);
  EXPECT_EQ(p.requests[0].origin, "client");
  EXPECT_EQ(p.requests[0].message[0].data, cmd({"GET", "user:7"}));
  EXPECT_EQ(p.responses[0].origin, "server");
  EXPECT_EQ(p.responses[0].message[0].data, "$3\r\nann\r\n");
  EXPECT_EQ(payload(calls[3].mock).responses[0].message[0].data, "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
}

TEST(MockRedis, AuthIsRedactedAndStillReplays) {
  testset::Redactor redactor(std::string(32, 'k'));
  auto calls = session(&redactor);
  std::string stored = payload(calls[0].mock).requests[0].message[0].data;
  EXPECT_EQ(stored.find("hunter2"), std::string::npos);
  EXPECT_NE(stored.find("REDACTED:"), std::string::npos);
  MockPool pool(mocks_of(calls), {});
  auto r = Responder::create({&pool, {}, kServer});
  EXPECT_EQ(r->feed(bytes(cmd({"AUTH", "whatever"}))).bytes, "+OK\r\n");
}

TEST(MockRedis, UnmatchedAuthNeverShowsThePassword) {
  // The summary goes into the error reply, stderr and reel test's report files.
  MockPool pool({}, {});
  auto r = Responder::create({&pool, {}, kServer});
  EXPECT_EQ(r->feed(bytes(cmd({"AUTH", "app", "hunter2"}))).bytes,
            "-ERR reel: no recorded answer for AUTH\r\n");
  auto misses = pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].summary, "AUTH");
  EXPECT_EQ(redis::summary_of({"auth", "hunter2"}), "AUTH");
}

// A recording made by joining pooled connections (reel.joined) has no start-up; the app's fresh
// connections at replay still send one, and get what a Redis server would say. (A recording
// that saw every start-up keeps an unrecorded AUTH unmatched: above.)
TEST(MockRedis, SetUpNobodyRecordedIsAnsweredAsAServerWould) {
  testset::Mock joined;  // one call recorded on a joined connection, nothing like what follows
  joined.kind = testset::MockKind::kRedis;
  joined.metadata[std::string(kMetaJoined)] = "true";
  MockPool pool({joined}, {});
  auto r = Responder::create({&pool, {}, kServer});
  EXPECT_EQ(r->feed(bytes(cmd({"AUTH", "app", "hunter2"}))).bytes, "+OK\r\n");
  EXPECT_EQ(r->feed(bytes(cmd({"SELECT", "3"}) + cmd({"CLIENT", "SETNAME", "shop"}) +
                          cmd({"client", "setinfo", "LIB-NAME", "redis-py"}) + cmd({"PING"}) +
                          cmd({"PING", "hi"})))
                .bytes,
            "+OK\r\n+OK\r\n+OK\r\n+PONG\r\n$2\r\nhi\r\n");
  std::string hello3 = r->feed(bytes(cmd({"HELLO", "3", "AUTH", "app", "pw"}))).bytes;
  EXPECT_TRUE(hello3.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")) << hello3;
  EXPECT_NE(hello3.find("$5\r\nproto\r\n:3\r\n"), std::string::npos) << hello3;
  // Every value is whole: the reply parses as one RESP3 value.
  redis::Value v;
  std::size_t used = 0;
  EXPECT_EQ(redis::next_value(hello3, false, v, used), redis::Split::kValue);
  EXPECT_EQ(used, hello3.size());
  std::string hello2 = r->feed(bytes(cmd({"HELLO"}))).bytes;
  EXPECT_TRUE(hello2.starts_with("*14\r\n")) << hello2;
  EXPECT_EQ(redis::next_value(hello2, false, v, used), redis::Split::kValue);
  EXPECT_EQ(used, hello2.size());
  EXPECT_EQ(r->feed(bytes(cmd({"HELLO", "4"}))).bytes, "-NOPROTO unsupported protocol version\r\n");
  std::string info = r->feed(bytes(cmd({"INFO"}))).bytes;  // ioredis's ready check
  EXPECT_TRUE(info.starts_with("$")) << info;
  EXPECT_NE(info.find("\r\nloading:0\r\n"), std::string::npos) << info;
  EXPECT_EQ(redis::next_value(info, false, v, used), redis::Split::kValue);
  EXPECT_EQ(used, info.size());
  EXPECT_EQ(pool.stats().unmatched, 0u);
  EXPECT_TRUE(pool.take_unmatched().empty());
  // Anything else still needs a recording.
  EXPECT_EQ(r->feed(bytes(cmd({"CLIENT", "LIST"}))).bytes,
            "-ERR reel: no recorded answer for CLIENT LIST\r\n");
}

TEST(MockRedis, ReplaysExactStructuralAndUnmatched) {
  MockPool pool(mocks_of(session()), {});
  auto r = Responder::create({&pool, {}, kServer});
  // Pipelined, split mid-command.
  std::string burst = cmd({"GET", "user:7"}) + cmd({"set", "user:7", "bob"}) + cmd({"GET", "k"});
  std::string got = r->feed(bytes(burst.substr(0, 10))).bytes;
  got += r->feed(bytes(burst.substr(10))).bytes;
  EXPECT_EQ(got, "$3\r\nann\r\n+OK\r\n-ERR reel: no recorded answer for GET k\r\n");
  EXPECT_EQ(pool.stats().exact, 1u);
  EXPECT_EQ(pool.stats().structural, 1u);
  auto misses = pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].summary, "GET k");
  auto bye = r->feed(bytes(cmd({"QUIT"})));
  EXPECT_EQ(bye.bytes, "+OK\r\n");
  EXPECT_TRUE(bye.close);
}

TEST(MockRedis, RecordedQuitClosesTheConnection) {
  // ioredis' quit() resolves only when the server closes, as Redis does after QUIT's OK: a
  // recorded QUIT must close too, or the app never exits.
  auto rec = CallRecorder::create(ep("127.0.0.1:40000"), kServer, {});
  auto calls = record(*rec, {{kUp, cmd({"get", "io:missing"})},
                             {kDown, "$-1\r\n"},
                             {kUp, cmd({"quit"})},
                             {kDown, "+OK\r\n"}});
  ASSERT_EQ(calls.size(), 2u);
  MockPool pool(mocks_of(calls), {});
  auto r = Responder::create({&pool, {}, kServer});
  auto get = r->feed(bytes(cmd({"get", "io:missing"})));
  EXPECT_EQ(get.bytes, "$-1\r\n");
  EXPECT_FALSE(get.close);
  auto bye = r->feed(bytes(cmd({"quit"})));
  EXPECT_EQ(bye.bytes, "+OK\r\n");
  EXPECT_TRUE(bye.close);
  EXPECT_EQ(pool.stats().exact, 2u);
}

// The recorder pairs replies with the tracer's model (protocols/redis/conversation.h).
const std::string& replies_of(const RecordedCall& c, std::size_t i = 0) {
  return payload(c.mock).responses.at(i).message.at(0).data;
}

TEST(MockRedis, BareUnsubscribeRecordsEveryConfirmation) {
  // redis-py: pubsub() subscribes to two channels, then unsubscribe() names none; Redis confirms
  // each channel, the last with count 0. The second confirmation used to be left over.
  auto rec = CallRecorder::create(ep("127.0.0.1:40000"), kServer, {});
  std::string unsub =
      "*3\r\n$11\r\nunsubscribe\r\n$7\r\npy:news\r\n:1\r\n"
      "*3\r\n$11\r\nunsubscribe\r\n$10\r\npy:weather\r\n:0\r\n";
  auto calls = record(*rec, {{kUp, cmd({"SUBSCRIBE", "py:news", "py:weather"})},
                             {kDown,
                              "*3\r\n$9\r\nsubscribe\r\n$7\r\npy:news\r\n:1\r\n"
                              "*3\r\n$9\r\nsubscribe\r\n$10\r\npy:weather\r\n:2\r\n"},
                             {kUp, cmd({"UNSUBSCRIBE"})},
                             {kDown, unsub.substr(0, 30)},
                             {kDown, unsub.substr(30)},
                             {kUp, cmd({"PING"})},
                             {kDown, "+PONG\r\n"}});
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].summary, "UNSUBSCRIBE");
  const auto& p = payload(calls[1].mock);
  std::string joined;
  for (const auto& r : p.responses) joined += r.message.at(0).data;
  EXPECT_EQ(joined, unsub);
  EXPECT_EQ(replies_of(calls[2]), "+PONG\r\n");
  for (const auto& c : calls) EXPECT_FALSE(c.mock.metadata.count("reel.unanswered"));

  MockPool pool(mocks_of(calls), {});
  auto r = Responder::create({&pool, {}, kServer});
  r->feed(bytes(cmd({"SUBSCRIBE", "py:news", "py:weather"})));
  EXPECT_EQ(r->feed(bytes(cmd({"UNSUBSCRIBE"}))).bytes, unsub);
  EXPECT_EQ(r->feed(bytes(cmd({"PING"}))).bytes, "+PONG\r\n");
}

TEST(MockRedis, PubSubMessagesAnswerNoCommand) {
  // RESP2: a message published while the subscriber's UNSUBSCRIBE is on its way arrives before
  // the confirmation. RESP3: a push for one channel while SUBSCRIBE of another waits.
  auto rec = CallRecorder::create(ep("127.0.0.1:40000"), kServer, {});
  auto calls = record(*rec, {{kUp, cmd({"SUBSCRIBE", "news"})},
                             {kDown, "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"},
                             {kUp, cmd({"UNSUBSCRIBE", "news"})},
                             {kDown,
                              "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
                              "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n"},
                             {kUp, cmd({"HELLO", "3"})},
                             {kDown, "%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n"},
                             {kUp, cmd({"SUBSCRIBE", "a"})},
                             {kDown, ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"},
                             {kUp, cmd({"SUBSCRIBE", "b"})},
                             {kDown,
                              ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nyo\r\n"
                              ">3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"}});
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[1].summary, "UNSUBSCRIBE news");
  EXPECT_EQ(replies_of(calls[1]), "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n");
  EXPECT_EQ(calls[4].summary, "SUBSCRIBE b");
  EXPECT_EQ(replies_of(calls[4]), ">3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n");
  for (const auto& c : calls) EXPECT_FALSE(c.mock.metadata.count("reel.unanswered"));
}

TEST(MockRedis, MonitorLinesAnswerNoCommand) {
  auto rec = CallRecorder::create(ep("127.0.0.1:40000"), kServer, {});
  auto calls = record(*rec, {{kUp, cmd({"MONITOR"})},
                             {kDown, "+OK\r\n"},
                             {kUp, cmd({"QUIT"})},
                             {kDown,
                              "+1733497200.123456 [0 127.0.0.1:51234] \"GET\" \"k\"\r\n"
                              "+OK\r\n"}});
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].summary, "QUIT");
  EXPECT_EQ(replies_of(calls[1]), "+OK\r\n");
}

TEST(MockRedis, KeployPipelinedMockReplays) {
  // Keploy keeps a read per payload, so one mock may hold two commands and both replies.
  testset::ByteExchange x;
  x.requests = {cmd({"INCR", "n"}) + cmd({"INCR", "n"})};
  x.responses = {":1\r\n:2\r\n"};
  auto mock = testset::payload_mock(x, testset::MockKind::kRedis, {});
  MockPool pool({mock}, {});
  auto r = Responder::create({&pool, {}, kServer});  // no reel.server: waits and infers
  EXPECT_EQ(r->feed(bytes(cmd({"INCR", "n"}) + cmd({"INCR", "n"}))).bytes, ":1\r\n:2\r\n");
}

TEST(MockRedis, RoundTripsThroughTheCodec) {
  auto calls = session();
  for (auto& c : calls) {
    c.mock.name = "mock-1";
    auto parsed = testset::parse_mocks(testset::encode_mock(c.mock), "mocks.yaml");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->mocks.at(0), c.mock);
  }
}

TEST(MockRedis, RedisCliPipeEndingRecordsAndReplays) {
  // redis-cli --pipe: inline commands, then an empty inline line (Redis answers nothing) and a
  // RESP ECHO of 20 random bytes it waits for; a replay sees other random bytes.
  std::string magic = std::string("\x00\xff\r\n", 4) + "0123456789abcdef";
  auto rec = CallRecorder::create(ep("127.0.0.1:40000"), kServer, {});
  auto calls = record(*rec, {{kUp, "SET p1 one\r\n\r\n" + cmd({"ECHO", magic})},
                             {kDown, "+OK\r\n$20\r\n" + magic + "\r\n"}});
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].summary, "SET p1");
  EXPECT_EQ(payload(calls[1].mock).requests[0].message[0].data, "\r\n" + cmd({"ECHO", magic}));
  EXPECT_EQ(payload(calls[1].mock).responses[0].message[0].data, "$20\r\n" + magic + "\r\n");
  for (const auto& c : calls) EXPECT_FALSE(c.mock.metadata.count("reel.unanswered"));

  MockPool pool(mocks_of(calls), {});
  auto r = Responder::create({&pool, {}, kServer});
  std::string other = std::string("\x01\x02\r\n", 4) + "zyxwvutsrqponmlk";
  EXPECT_EQ(r->feed(bytes("SET p1 one\r\n\r\n")).bytes, "+OK\r\n");
  EXPECT_EQ(r->feed(bytes(cmd({"ECHO", other}))).bytes, "$20\r\n" + other + "\r\n");
  EXPECT_TRUE(pool.take_unmatched().empty());
}

TEST(MockRedis, GarbageNeverCrashes) {
  MockPool pool(mocks_of(session()), {});
  auto r = Responder::create({&pool, {}, kServer});
  auto out = r->feed(bytes("*2\r\n$abc\r\n"));
  EXPECT_TRUE(out.close);
  auto rec = make_redis_recorder(kServer, {});
  std::string junk;
  for (int i = 0; i < 2048; ++i) junk.push_back(char(i * 13 + 5));
  rec->data(kUp, bytes(junk), 1);
  rec->data(kDown, bytes(junk), 2);
  rec->data(kUp, bytes("*1\r\n$4\r\nPING\r\n"), 3);
  rec->data(kDown, bytes("+PONG\r\n"), 4);
  rec->close(false, 5);
  auto calls = rec->take();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().summary, "PING");
}

}  // namespace
}  // namespace reel::mock
