// Passive recording (reel record --pid): the app's calls read from the capture alone, on
// connections that were open before reel attached, replayed to a fresh start-up.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include "bpf/abi/capture.h"
#include "bpf/abi/tls.h"
#include "mock/mock.h"
#include "mock_test_util.h"
#include "record/self_check.h"
#include "record/session.h"
#include "testset/reader.h"
#include "testset/writer.h"
#include "wire_builders.h"

namespace reel::record {
namespace {

namespace fs = std::filesystem;
using mock::testing::ep;
using namespace wire;

constexpr std::uint32_t kApp = 100, kThread = 7;
const Endpoint kAppPort = ep("127.0.0.1:8080");

std::uint64_t ms(std::uint64_t v) { return v * 1'000'000; }

// One connection's events, positions counted per direction from where reel joined (0).
class Conn {
 public:
  Conn(std::uint32_t fd, Endpoint local, Endpoint remote) : key_{kApp, fd, 1}, local_(local), remote_(remote) {}

  // An established connection: the capture first sees it with its role unknown.
  capture::OpenEvent open(std::uint64_t at) const {
    return {key_, kThread, ms(at), CAP_ROLE_UNKNOWN, local_, remote_, false, "app"};
  }
  capture::DataEvent send(std::uint64_t at, const std::string& bytes, int flags = 0) {
    return data(CAP_DIR_EGRESS, at, bytes, flags);
  }
  capture::DataEvent recv(std::uint64_t at, const std::string& bytes, int flags = 0) {
    return data(CAP_DIR_INGRESS, at, bytes, flags);
  }
  capture::CloseEvent close(std::uint64_t at) const { return {key_, ms(at), 0, 0}; }
  // A hole of `n` bytes the kernel could not deliver.
  void lose(int dir, std::uint64_t n) { (dir == CAP_DIR_EGRESS ? out_ : in_) += n; }

 private:
  capture::DataEvent data(int dir, std::uint64_t at, const std::string& bytes, int flags) {
    std::uint64_t& pos = dir == CAP_DIR_EGRESS ? out_ : in_;
    capture::DataEvent e{key_, kThread, ms(at), dir, flags, pos,
                         static_cast<std::uint32_t>(bytes.size()),
                         std::as_bytes(std::span(bytes.data(), bytes.size())), {}};
    pos += bytes.size();
    return e;
  }
  capture::ConnKey key_;
  Endpoint local_, remote_;
  std::uint64_t out_ = 0, in_ = 0;
};

std::string pg_query(const std::string& sql) { return msg('Q', cstr(sql)); }
std::string pg_answer(const std::string& value) {
  std::string row_desc = be16(1) + cstr("name") + be32(0) + be16(0) + be32(25) + be16(0xffff) +
                         be32(0xffffffff) + be16(0);
  std::string row = be16(1) + be32(static_cast<std::uint32_t>(value.size())) + value;
  return msg('T', row_desc) + msg('D', row) + msg('C', cstr("SELECT 1")) + msg('Z', "I");
}
std::string resp_cmd(std::vector<std::string> args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (auto& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}
std::string http_get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
}
std::string http_ok(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

class PassiveRecordTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reel-passive-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto w = testset::TestSetWriter::open(root_ / "test-set-0");
    ASSERT_TRUE(w) << w.error().message;
    writer_.emplace(std::move(*w));
    start({});
  }
  void start(SessionOptions so) {
    so.passive = true;
    so.is_listening = [](const Endpoint& local) { return local == kAppPort; };
    session_.emplace(*writer_, so);
  }
  void TearDown() override { fs::remove_all(root_); }

  void feed(const capture::Event& e) { session_->on_capture_event(e); }
  std::vector<WrittenTest> settle() {
    auto w = session_->settle(ms(60'000), true);
    EXPECT_TRUE(w) << w.error().message;
    return w ? *w : std::vector<WrittenTest>{};
  }

  fs::path root_;
  std::optional<testset::TestSetWriter> writer_;
  std::optional<RecordSession> session_;
};

// The app's pooled PostgreSQL and Redis connections and a client's keep-alive connection were
// all open before reel attached; a request arrives and the app asks both dependencies.
TEST_F(PassiveRecordTest, CallsOnPooledConnectionsBecomeTheTestsMocks) {
  Conn client(10, kAppPort, ep("127.0.0.1:51000"));
  Conn pg(11, ep("127.0.0.1:40001"), ep("127.0.0.1:5432"));
  Conn redis(12, ep("127.0.0.1:40002"), ep("127.0.0.1:6379"));
  feed(client.open(1000));
  feed(pg.open(1000));
  feed(redis.open(1000));

  feed(client.recv(1001, http_get("/products/1")));
  feed(redis.send(1002, resp_cmd({"GET", "product:1"})));
  feed(redis.recv(1003, "$-1\r\n"));
  feed(pg.send(1004, pg_query("SELECT name FROM products WHERE id = 1")));
  feed(pg.recv(1005, pg_answer("lamp")));
  feed(client.send(1006, http_ok(R"({"name":"lamp"})")));

  auto written = settle();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].target, "/products/1");
  EXPECT_EQ(written[0].mocks_by_kind, (std::map<std::string, int>{{"Postgres", 1}, {"Redis", 1}}));
  EXPECT_EQ(session_->stats().session_mocks, 0u);
  EXPECT_EQ(session_->stats().call_bytes_lost, 0u);

  // What was written replays to itself, and a fresh connection's start-up, never recorded, is
  // answered by the PostgreSQL mock before the recorded statement.
  auto check = check_test_set(root_ / "test-set-0");
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_TRUE(check->problems.empty()) << check->problems[0].what;
  EXPECT_EQ(check->replayed, 2u);

  auto set = testset::load_test_set(root_ / "test-set-0");
  ASSERT_TRUE(set) << set.error().message;
  for (const auto& m : set->mocks)  // their connections began before reel: start-ups unseen
    EXPECT_EQ(m.metadata.at(std::string(mock::kMetaJoined)), "true") << m.name;
  mock::MockPool pool(set->mocks, {});
  auto r = mock::Responder::create({&pool, ep("127.0.0.1:40100"), ep("127.0.0.1:5432")});
  std::string startup = untyped(be32(196608) + cstr("user") + cstr("shop") + cstr("database") +
                                cstr("shop") + std::string(1, '\0'));
  std::string hello = r->feed(mock::testing::bytes(startup)).bytes;
  ASSERT_FALSE(hello.empty());
  EXPECT_EQ(hello[0], 'R');           // AuthenticationOk first
  EXPECT_EQ(hello.substr(hello.size() - 6), msg('Z', "I"));  // ready for queries
  std::string got =
      r->feed(mock::testing::bytes(pg_query("SELECT name FROM products WHERE id = 1"))).bytes;
  EXPECT_EQ(got, pg_answer("lamp"));
  EXPECT_EQ(pool.stats().unmatched, 0u);
}

// A hole in a dependency's bytes (the ring was full) loses the calls it cut, and only those:
// the connection is joined again after it.
TEST_F(PassiveRecordTest, ALossDropsTheCallsItCutAndTheNextOneIsRecorded) {
  Conn pg(11, ep("127.0.0.1:40001"), ep("127.0.0.1:5432"));
  feed(pg.open(1000));
  feed(pg.send(1001, pg_query("SELECT name FROM products WHERE id = 1")));
  pg.lose(CAP_DIR_INGRESS, 40);  // the answer never arrived
  feed(pg.send(1003, pg_query("SELECT name FROM products WHERE id = 2")));
  feed(pg.recv(1004, pg_answer("desk")));
  feed(pg.send(1005, pg_query("SELECT name FROM products WHERE id = 3")));
  feed(pg.recv(1006, pg_answer("lamp")));
  feed(pg.close(1007));
  settle();
  EXPECT_EQ(session_->stats().call_bytes_lost, 40u);
  auto set = testset::load_test_set(root_ / "test-set-0");
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(set->mocks.size(), 1u);
  EXPECT_EQ(set->mocks[0].kind, testset::MockKind::kPostgres);
  mock::MockPool pool(set->mocks, {});
  auto r = mock::Responder::create({&pool, ep("127.0.0.1:40100"), ep("127.0.0.1:5432")});
  EXPECT_EQ(r->feed(mock::testing::bytes(pg_query("SELECT name FROM products WHERE id = 3"))).bytes,
            pg_answer("lamp"));
}

// A pooled connection's statement prepared before reel joined: its Binds carry a name whose
// SQL and columns were never seen. The recording says at once that these calls cannot replay;
// a statement prepared while reel watched replays.
TEST_F(PassiveRecordTest, AStatementPreparedBeforeReelJoinedIsNamedAsUnreplayable) {
  Conn pg(11, ep("127.0.0.1:40001"), ep("127.0.0.1:5432"));
  feed(pg.open(1000));
  auto exec = [](const std::string& stmt) {
    return msg('B', cstr("") + cstr(stmt) + be16(0) + be16(1) + be32(1) + "7" + be16(0)) +
           msg('E', cstr("") + be32(0)) + msg('S', "");
  };
  std::string row = msg('D', be16(1) + be32(4) + "lamp");
  feed(pg.send(1001, exec("S_1")));
  feed(pg.recv(1002, msg('2', "") + row + msg('C', cstr("SELECT 1")) + msg('Z', "I")));
  feed(pg.send(1003, msg('P', cstr("S_2") + cstr("SELECT name FROM products WHERE id = $1") +
                                  be16(0)) +
                         exec("S_2")));
  feed(pg.recv(1004, msg('1', "") + msg('2', "") + row + msg('C', cstr("SELECT 1")) +
                         msg('Z', "I")));
  feed(pg.close(1005));
  settle();
  auto check = check_test_set(root_ / "test-set-0");
  ASSERT_TRUE(check) << check.error().message;
  ASSERT_EQ(check->problems.size(), 1u);
  EXPECT_EQ(check->problems[0].what,
            "statement \"S_1\" was prepared before reel joined the connection: its SQL and "
            "columns were never seen");
  EXPECT_EQ(check->problems[0].summary, "Postgres 127.0.0.1:5432 [BES]");  // no raw bytes
  EXPECT_EQ(check->replayed, 1u);  // the one prepared while reel watched
}

// The app resolves a name while serving a request: the query and its answer, read from its UDP
// socket, become a DNS mock of that test.
TEST_F(PassiveRecordTest, ADnsLookupOverUdpBecomesTheTestsDnsMock) {
  Conn client(10, kAppPort, ep("127.0.0.1:51000"));
  capture::ConnKey udp{kApp, 14, 1};
  feed(client.open(1000));
  feed(capture::OpenEvent{udp, kThread, ms(1000), CAP_ROLE_CLIENT, ep("127.0.0.1:45000"),
                          ep("127.0.0.53:53"), true, "app"});
  std::string question = std::string("\x05rates\x04shop\x04test\x00", 17) + be16(1) + be16(1);
  std::string query = be16(0x4242) + be16(0x0100) + be16(1) + be16(0) + be16(0) + be16(0) + question;
  std::string answer = be16(0x4242) + be16(0x8180) + be16(1) + be16(1) + be16(0) + be16(0) +
                       question + be16(0xc00c) + be16(1) + be16(1) + be32(60) + be16(4) +
                       std::string("\x7f\x00\x00\x09", 4);
  auto datagram = [&](int dir, std::uint64_t at, const std::string& bytes, std::uint64_t pos) {
    return capture::DataEvent{udp, kThread, ms(at), dir, 0, pos,
                              static_cast<std::uint32_t>(bytes.size()),
                              std::as_bytes(std::span(bytes.data(), bytes.size())), {}};
  };
  feed(client.recv(1001, http_get("/products/1/price")));
  feed(datagram(CAP_DIR_EGRESS, 1002, query, 0));
  feed(datagram(CAP_DIR_INGRESS, 1003, std::string("not dns"), 0));  // ignored
  feed(datagram(CAP_DIR_INGRESS, 1003, answer, 7));
  feed(client.send(1004, http_ok("{}")));
  auto written = settle();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].mocks_by_kind, (std::map<std::string, int>{{"DNS", 1}}));
  auto set = testset::load_test_set(root_ / "test-set-0");
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(set->mocks.size(), 1u);
  const auto& dns = std::get<testset::DnsMockSpec>(set->mocks[0].spec);
  EXPECT_EQ(dns.name, "rates.shop.test.");
  ASSERT_EQ(dns.answers.size(), 1u);
  EXPECT_NE(dns.answers[0].find("127.0.0.9"), std::string::npos) << dns.answers[0];
  EXPECT_EQ(set->mocks[0].metadata.at("reel.server"), "127.0.0.53:53");
}

// A live service is sampled: the requests left out take their calls with them (neither a
// test's mocks nor session-wide ones), and a cap per endpoint counts shapes, not paths.
TEST_F(PassiveRecordTest, SampledOutRequestsTakeTheirCallsWithThem) {
  start({.sample = 0.5, .max_per_endpoint = 2});
  Conn client(10, kAppPort, ep("127.0.0.1:51000"));
  Conn redis(12, ep("127.0.0.1:40002"), ep("127.0.0.1:6379"));
  feed(client.open(1000));
  feed(redis.open(1000));
  std::uint64_t t = 1001;
  for (int id = 1; id <= 6; id++) {
    std::string key = "product:" + std::to_string(id);
    feed(client.recv(t++, http_get("/products/" + std::to_string(id))));
    feed(redis.send(t++, resp_cmd({"GET", key})));
    feed(redis.recv(t++, "$1\r\n" + std::to_string(id) + "\r\n"));
    feed(client.send(t++, http_ok(std::to_string(id))));
  }
  auto written = settle();
  std::vector<std::string> targets;
  for (const auto& w : written) {
    targets.push_back(w.target);
    EXPECT_EQ(w.mocks_by_kind, (std::map<std::string, int>{{"Redis", 1}})) << w.target;
  }
  std::sort(targets.begin(), targets.end());
  // 1 and 3 sampled in, 2, 4 and 6 sampled out, 5 over the cap of 2 per shape.
  EXPECT_EQ(targets, (std::vector<std::string>{"/products/1", "/products/3"}));
  const auto& st = session_->stats();
  EXPECT_EQ(st.sampled_out, 3u);
  EXPECT_EQ(st.over_cap, 1u);
  EXPECT_EQ(st.calls_left_out, 4u);
  EXPECT_EQ(st.session_mocks, 0u);
  EXPECT_EQ(st.mocks, 2u);
}

// An HTTPS dependency: the ciphertext before the first SSL call is the handshake and is not a
// call; the uprobes' plaintext is, with an https URL.
TEST_F(PassiveRecordTest, TlsPlaintextIsRecordedAndTheCiphertextIsNot) {
  start({.tls_plaintext = true});
  Conn api(13, ep("127.0.0.1:40003"), ep("127.0.0.1:8443"));
  feed(api.open(1000));
  // Application data of the connection reel joined, before the probes gave plaintext.
  feed(api.send(1001, std::string("\x17\x03\x03\x00\x05hello", 10)));
  feed(api.recv(1002, std::string("\x17\x03\x03\x00\x05world", 10)));
  Conn plain(13, ep("127.0.0.1:40003"), ep("127.0.0.1:8443"));  // plaintext positions start at 0
  feed(plain.send(1003, http_get("/rates/EUR"), CAP_F_TLS));
  feed(plain.recv(1004, http_ok(R"({"rate":1.1})"), CAP_F_TLS));
  feed(api.close(1005));
  settle();
  auto set = testset::load_test_set(root_ / "test-set-0");
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(set->mocks.size(), 1u);
  const auto& m = set->mocks[0];
  EXPECT_EQ(m.kind, testset::MockKind::kHttp);
  EXPECT_EQ(m.metadata.at("reel.tls"), "true");
  EXPECT_EQ(m.metadata.count(std::string(mock::kMetaJoined)), 1u);  // opened before reel too
  EXPECT_EQ(std::get<testset::HttpMockSpec>(m.spec).req.url, "https://127.0.0.1:8080/rates/EUR");
}

}  // namespace
}  // namespace reel::record
