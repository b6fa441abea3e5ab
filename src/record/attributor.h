// Ties each call the app makes to a dependency to the test case (inbound request) during which
// it was made, so replay can answer it from that test's mocks alone.
//
// Time alone is wrong as soon as requests overlap, so the thread comes first: the capture
// engine says which thread read each inbound request and which thread wrote each outbound
// call. A call goes to
//   1. the one test whose window [first request byte, last response byte] holds the call and
//      whose request was read by the thread that made the call (thread-per-request servers);
//   2. else the one test whose window holds it (event loops, worker pools);
//   3. else, when several windows hold it and threads cannot tell, to each of them (it is a
//      valid answer for all; counted as ambiguous);
//   4. else to the session: connection set-up, pools, background work (Keploy's "config").
// A call is decided only once every inbound request that started before it has completed (or
// `max_hold_ns` passed), and a test is released only once every call inside its window is
// decided, so a slow request never loses the calls it made.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

namespace reel::record {

// Any value identifying one inbound connection (the capture's (tgid, fd, gen)).
using ConnTag = std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>;

struct AttributorOptions {
  std::uint64_t grace_ns = 150'000'000;       // a completed test waits this long for late calls
  std::uint64_t max_hold_ns = 30'000'000'000;  // a call is decided after this, whatever is open
};

struct AttributorStats {
  std::uint64_t by_thread = 0, by_window = 0, ambiguous = 0, session = 0, late = 0;
};

class Attributor {
 public:
  explicit Attributor(AttributorOptions options = {}) : options_(options) {}

  // An inbound request's bytes arrived on `conn` (read by thread `tid`). Only the first call
  // while nothing is in flight on `conn` counts.
  void inbound_data(const ConnTag& conn, std::uint64_t ts_ns, std::uint32_t tid);
  // The exchange on `conn` completed. Returns the thread that read its request (0: unknown).
  std::uint32_t inbound_done(const ConnTag& conn);
  void inbound_closed(const ConnTag& conn);

  // A test case, with the window of the exchange and the thread from inbound_done.
  void add_test(std::uint64_t test_id, std::uint64_t start_ns, std::uint64_t end_ns,
                std::uint32_t tid, std::uint64_t now_ns);
  // An outbound call: when its request started and the app thread that wrote it (0: unknown).
  void add_call(std::uint64_t call_id, std::uint64_t request_ns, std::uint32_t tid);

  struct Released {
    std::uint64_t test_id;
    std::vector<std::uint64_t> call_ids;
  };
  struct Decisions {
    std::vector<Released> tests;                // in order of their requests
    std::vector<std::uint64_t> session_calls;   // belong to no test
    std::vector<std::uint64_t> startup_calls;   // session calls made before the first request
    // Calls decided now that went to tests, with how many tests hold each (ambiguous > 1).
    std::vector<std::pair<std::uint64_t, std::size_t>> holders;
  };
  // What can be decided at `now_ns`; `flush` decides everything (the recording is ending).
  Decisions decide(std::uint64_t now_ns, bool flush);

  const AttributorStats& stats() const { return stats_; }
  std::size_t pending_tests() const { return tests_.size(); }
  std::size_t pending_calls() const { return calls_.size(); }

 private:
  struct Inflight {
    std::uint64_t start_ns;
    std::uint32_t tid;
  };
  struct Test {
    std::uint64_t id, start_ns, end_ns, arrived_ns;
    std::uint32_t tid;
    std::vector<std::uint64_t> calls;
  };
  struct Call {
    std::uint64_t id, request_ns;
    std::uint32_t tid;
  };

  bool decidable(const Call& c, std::uint64_t now_ns, bool flush) const;
  void assign(const Call& c, Decisions& out);

  AttributorOptions options_;
  std::map<ConnTag, Inflight> inflight_;
  std::deque<Test> tests_;  // not yet released, by start
  std::deque<Call> calls_;  // not yet decided, by request time
  std::uint64_t first_request_ns_ = 0;
  std::uint64_t released_until_ns_ = 0;  // end of the latest released test window
  AttributorStats stats_;
};

}  // namespace reel::record
