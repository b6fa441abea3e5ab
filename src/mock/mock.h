// Recording the calls an app makes to its dependencies, and answering them again from mocks.
//
// Recording: the relay taps each redirected connection; one CallRecorder per connection turns
// its two byte streams into RecordedCalls (a testset::Mock each, plus the monotonic times the
// recorder needs to tie the call to the test case during which it happened).
//
// Replay: the MockServer accepts the app's redirected connections; one Responder per connection
// parses what the client sends, asks the MockPool for the best recorded answer and writes it
// back. Nothing is invented: a call with no mock gets a protocol-correct error (HTTP 502, a
// PostgreSQL ErrorResponse, a MySQL ERR packet, a Redis error, DNS SERVFAIL) and is listed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/net.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "protocols/types.h"
#include "proxy/relay.h"
#include "testset/convert.h"
#include "testset/model.h"
#include "testset/redact.h"

namespace reel::mock {

// Metadata keys reel adds to a mock (Keploy ignores keys it does not know).
inline constexpr std::string_view kMetaType = "type";        // "config" or "mocks" (Keploy's)
inline constexpr std::string_view kMetaTest = "reel.test";   // the test the call belongs to
inline constexpr std::string_view kMetaServer = "reel.server";  // "127.0.0.1:5432", "[::1]:6379"
inline constexpr std::string_view kMetaProtocol = "reel.protocol";  // protocols::protocol_name
// Why a recorded call cannot replay, said when it is recorded (a statement prepared before reel
// joined the connection); the self-check lists it as a problem.
inline constexpr std::string_view kMetaUnreplayable = "reel.unreplayable";
// "true" on a call recorded on a connection reel joined after it began (reel record --pid): its
// start-up was never seen. A fresh start-up at replay is then answered by the protocol (session
// set-up statements and commands with nothing recorded for them).
inline constexpr std::string_view kMetaJoined = "reel.joined";
// Why an HTTP/2 stream's headers could not be read: peers index header fields (HPACK), and the
// table they refer to was built before reel joined.
inline constexpr std::string_view kJoinedMidFlight =
    "HTTP/2 headers on a connection reel joined mid-flight could not all be read (they refer to "
    "HPACK table entries made before reel attached)";

// ---------------------------------------------------------------------------------- recording

struct RecordedCall {
  // kind, spec, timestamps, metadata: type ("config" when `startup`, else "mocks"),
  // reel.server, reel.protocol. reel.test is left for the session to fill.
  testset::Mock mock;
  std::uint64_t request_ns = 0;   // first request byte, CLOCK_MONOTONIC (core/clock.h)
  std::uint64_t response_ns = 0;  // last response byte
  // Connection set-up or session state (handshake, auth, SET, prepared statements outlive a
  // test): belongs to no single test and is replayed whenever it matches.
  bool startup = false;
  std::string summary;  // one line for progress and logs: "GET /v1/rates", "SELECT …", "GET k"
};

struct RecordOptions {
  testset::ConvertOptions convert;  // clock_to_unix_ns and utc_offset_s for the timestamps
  // Secrets in handshakes (PostgreSQL password/SASL messages, MySQL auth data, Redis AUTH) go
  // through it before they are kept anywhere; nullptr keeps them as sent.
  const testset::Redactor* redactor = nullptr;
  // A message bigger than this is kept cut and the mock marked truncated (metadata
  // "reel.truncated": "true"): the call is still listed, never replayed as if whole.
  std::size_t max_message = 16 * 1024 * 1024;
};

// One per proxied connection; not thread-safe (a connection lives on one relay thread).
class CallRecorder {
 public:
  // Picks the protocol from the first bytes either side sends (protocols::infer_protocol; MySQL
  // speaks first), falling back to Generic byte exchanges.
  static std::unique_ptr<CallRecorder> create(const Endpoint& client, const Endpoint& server,
                                              const RecordOptions& options);
  virtual ~CallRecorder() = default;

  // Bytes as the relay read them, `ts_ns` from core/clock.h monotonic_ns(). Empty: that side
  // closed its direction (FIN).
  virtual void data(Direction dir, std::span<const std::byte> bytes, std::uint64_t ts_ns) = 0;
  // The connection ended; pending bytes become a call (one without an answer is still kept,
  // with metadata "reel.unanswered": "true").
  virtual void close(bool reset, std::uint64_t ts_ns) = 0;
  // Calls completed since the last take, in the order their requests started.
  std::vector<RecordedCall> take() { return std::exchange(done_, {}); }
  virtual protocols::Protocol protocol() const = 0;
  // Frames that did not parse (each skipped by a resync): hostile or not the protocol we thought.
  virtual std::uint64_t invalid_frames() const { return invalid_; }

 protected:
  std::vector<RecordedCall> done_;
  std::uint64_t invalid_ = 0;
};

// ------------------------------------------------------------------------------------ replay

// How a recorded mock fits a live request.
enum class Fit : std::uint8_t {
  kNone,        // not this request
  kStructural,  // same shape: JSON keys, SQL with other literals/parameters, Redis command+key
  kExact,       // same bytes once noise is set aside
};

// Where a mock sits for matching.
enum class Scope : std::uint8_t {
  kTest,     // recorded during one test case (metadata reel.test, or inside its time window)
  kSession,  // type config: set-up, pools, session state; usable by every test
};

struct Unmatched {
  std::string test;  // the test running when it happened ("" outside a test)
  testset::MockKind kind = testset::MockKind::kGeneric;
  Endpoint server;
  std::string summary;  // "GET /v1/rates?cur=EUR", "SELECT … WHERE id = 7", "GET user:7"
  std::string closest;  // name of the nearest mock and why it did not fit, when there was one
};

// A test's time window, for mocks recorded by Keploy (no reel.test): a mock whose request
// timestamp falls in [start, end] belongs to that test.
struct TestWindow {
  std::string name;
  testset::Timestamp start, end;
};

struct PoolStats {
  std::uint64_t exact = 0, structural = 0, unmatched = 0;
};

// Thread-safe. Order of search for a request: the current test's mocks, then session mocks.
// With no current test (`reel mock`, or between tests) every mock is a candidate. A mock of
// another test is never used while a test runs. Within a scope the best Fit wins; among equal
// fits the first unused one in recorded order, else the last one used (a repeated call).
class MockPool {
 public:
  MockPool(std::vector<testset::Mock> mocks, std::vector<TestWindow> tests);
  ~MockPool();  // out of line: Entry is complete only in mock_pool.cc

  void begin_test(std::string name);  // "" = no test
  std::string current_test() const;

  struct Pick {
    const testset::Mock* mock = nullptr;  // stays valid for the pool's lifetime
    Fit fit = Fit::kNone;
    Scope scope = Scope::kSession;
  };
  // `fit` rates one candidate of kind `kind` for the live request; only mocks recorded for
  // `server` are asked when any were (reel.server), otherwise every mock of the kind.
  std::optional<Pick> pick(testset::MockKind kind, const Endpoint& server,
                           const std::function<Fit(const testset::Mock&)>& fit);
  // Kinds recorded for `server` (by reel.server), for choosing a responder before the client
  // speaks (MySQL's server greeting). Empty when nothing names it.
  std::vector<testset::MockKind> kinds_for(const Endpoint& server) const;
  // Whether any mock of `kind` (for `server`, when any names it) was recorded on a joined
  // connection (kMetaJoined): the recording never saw that dependency's start-ups.
  bool joined(testset::MockKind kind, const Endpoint& server) const;
  // All mocks of a kind (a responder may need a recorded handshake for its greeting).
  std::vector<const testset::Mock*> all_of(testset::MockKind kind) const;

  // For a recording's self-check (record/self_check.h): from now on every pick is kept, in
  // order, until taken.
  void keep_picks() { keep_picks_ = true; }
  std::vector<const testset::Mock*> take_picks();

  void record_unmatched(Unmatched miss);
  // Misses since the last call (the runner takes them after each test).
  std::vector<Unmatched> take_unmatched();
  PoolStats stats() const;

 private:
  struct Entry;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  std::string current_;
  std::vector<Unmatched> unmatched_;
  PoolStats stats_;
  bool keep_picks_ = false;
  std::vector<const testset::Mock*> picks_;
};

// One per accepted connection.
class Responder {
 public:
  struct Context {
    MockPool* pool = nullptr;
    Endpoint client;
    Endpoint server;  // the original destination
  };
  // Chooses by the kinds recorded for ctx.server; when that is not conclusive, waits for the
  // client's first bytes (feed infers then). Never null.
  static std::unique_ptr<Responder> create(const Context& ctx);
  virtual ~Responder() = default;

  // Sent as soon as the connection is accepted (MySQL's greeting); empty for most protocols.
  virtual std::string greeting() { return {}; }
  struct Output {
    std::string bytes;   // to send, possibly empty (need more input)
    bool close = false;  // close after sending (client said goodbye, or nothing sane to say)
    bool rejected = false;  // the input did not parse: answered with the protocol's error, closed
  };
  virtual Output feed(std::span<const std::byte> bytes) = 0;
  // The client has said nothing for kSilenceMs since it connected: a server-first protocol that
  // could not be chosen up front (mocks that name no server) greets now. Empty for most.
  static constexpr int kSilenceMs = 300;
  virtual Output silence() { return {}; }
};

// Serves a MockPool to redirected connections: TCP on `listen`, DNS over UDP on `dns` (and TCP
// on the same port). One thread, epoll, non-blocking sockets.
struct MockServerOptions {
  std::vector<Endpoint> listen;     // port 0: any free port
  std::optional<Endpoint> dns;      // UDP (+TCP) DNS endpoint; port 0: any free port
  MockPool* pool = nullptr;
  // Where an accepted connection was headed. Default: reel::original_destination.
  std::function<Result<Endpoint>(int accepted_fd)> destination;
  // The DNS server the app meant a UDP query for (a datagram steered to `dns` carries only our
  // own address); unset or nullopt: named as `dns`. Over TCP the destination above tells.
  std::function<std::optional<Endpoint>()> dns_asked;
  // TLS termination: a connection whose client opens with a TLS ClientHello (and that has no
  // greeting to send first) is handed here, the hello still unread; the socket returned carries
  // its plaintext and is served in its place. Unset: every connection is served as it comes.
  std::function<Result<UniqueFd>(UniqueFd client, const Endpoint& server)> tls;
};

struct MockServerStats {
  std::uint64_t connections = 0;
  std::uint64_t dns_queries = 0;
  std::uint64_t no_destination = 0;
  std::uint64_t rejected = 0;  // connections closed on input that did not parse
};

class MockServer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<MockServer>> start(MockServerOptions options);
  void stop();  // idempotent; closes every connection
  ~MockServer();
  const std::vector<Endpoint>& listening() const;
  std::optional<Endpoint> dns_listening() const;
  MockServerStats stats() const;

  struct State;

 private:
  explicit MockServer(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace reel::mock
