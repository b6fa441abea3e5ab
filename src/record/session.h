// The recording itself, apart from the kernel: capture events in, outbound calls in, test
// cases with their mocks out to disk as each test is settled.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "capture/capture.h"
#include "capture/tracker.h"
#include "record/attributor.h"
#include "record/outbound.h"
#include "testset/config.h"
#include "testset/convert.h"
#include "testset/writer.h"

namespace reel::record {

struct SessionOptions {
  std::uint16_t app_port = 0;  // 0: every HTTP server connection of the app makes test cases
  testset::ConvertOptions convert;
  testset::NoiseConfig noise;
  protocols::Limits limits;
  AttributorOptions attribution;
};

struct SessionStats {
  std::uint64_t tests = 0;
  std::uint64_t tests_with_gaps = 0;
  std::uint64_t mocks = 0;
  std::uint64_t session_mocks = 0;  // type config
  std::map<std::string, std::uint64_t> mocks_by_kind;
  std::uint64_t unanswered_calls = 0;
  std::uint64_t not_converted = 0;  // inbound exchanges that could not become a test
};

// What one written test looked like, for the progress display.
struct WrittenTest {
  std::string name;
  std::string method, target;
  int status = 0;
  std::uint64_t latency_ns = 0;
  std::map<std::string, int> mocks_by_kind;
};

class RecordSession {
 public:
  RecordSession(testset::TestSetWriter& writer, SessionOptions options);

  void on_capture_event(const capture::Event& event);
  void on_outbound(OutboundCall call);
  void on_dns(mock::RecordedCall call);
  // Writes what is settled at `now_ns` (everything when `flush`). Returns the tests written.
  Result<std::vector<WrittenTest>> settle(std::uint64_t now_ns, bool flush);

  const SessionStats& stats() const { return stats_; }
  const capture::TrackerStats& tracker_stats() const { return tracker_.stats(); }
  const AttributorStats& attribution() const { return attributor_.stats(); }

 private:
  struct ClientConn {
    std::string local;  // the app's end, as "ip:port"
    std::uint64_t closed_ns = 0;
    std::deque<std::pair<std::uint64_t, std::uint32_t>> writes;  // (ts, tid), ascending
  };
  struct PendingTest {
    testset::TestCase test;
    protocols::Exchange exchange;
  };
  // An inbound connection of the app. An HTTP/2 one carries many requests at once, so each of
  // its streams stands in the attributor as an inbound connection of its own (tag {0, 0, n}:
  // no process has tgid 0), opened when the client's HEADERS frame arrives and done when the
  // stream's exchange is. The client's bytes are read only as far as frame headers for that.
  struct ServerConn {
    enum class Kind : std::uint8_t { kUnknown, kHttp1, kHttp2 } kind = Kind::kUnknown;
    bool tls = false;             // following the TLS plaintext (the ciphertext is ignored)
    std::string head;             // the preface, then a frame header, read so far
    std::pair<std::uint64_t, std::uint32_t> first_data{};  // (ts, tid) of the first client bytes
    std::uint64_t next_pos = 0;   // position of the next client byte
    std::uint64_t skip = 0;       // payload bytes of the current frame still to come
    bool lost = false;            // bytes went missing: new streams cannot be followed
    std::uint32_t last_stream = 0;
    std::map<std::uint32_t, ConnTag> streams;  // open streams
  };

  void on_inbound_data(const ConnTag& tag, ServerConn& conn, const capture::DataEvent& d);
  void scan_h2_frames(ServerConn& conn, std::string_view bytes, const capture::DataEvent& d);
  std::uint32_t inbound_done(const capture::TracedExchange& t);
  void forget_server_conn(const ConnTag& tag);
  void on_exchange(capture::TracedExchange& t, std::uint64_t now_ns);
  void forget_closed(std::uint64_t now_ns);
  std::uint32_t writer_thread(const Endpoint& app_local, std::uint64_t ts_ns) const;
  void add_call(mock::RecordedCall call, std::uint32_t tid);
  testset::Mock take_mock(std::uint64_t id, bool session);
  void count_mock(const testset::Mock& m, bool session);

  testset::TestSetWriter& writer_;
  SessionOptions options_;
  capture::Tracker tracker_;
  Attributor attributor_;
  std::map<ConnTag, ServerConn> server_conns_;            // role server, from open events
  std::uint64_t next_stream_tag_ = 1;
  std::unordered_map<std::string, ConnTag> client_by_local_;  // app's local endpoint -> conn
  std::map<ConnTag, ClientConn> client_conns_;
  std::unordered_map<std::uint64_t, PendingTest> tests_;
  struct HeldCall {
    mock::RecordedCall call;
    std::size_t holders = 0;  // tests still to be written that hold it
  };
  std::unordered_map<std::uint64_t, HeldCall> calls_;
  std::vector<std::uint64_t> startup_ids_;  // set-up calls: session mocks at once
  std::uint64_t next_id_ = 1;
  std::vector<capture::TracedExchange> batch_;
  SessionStats stats_;
};

}  // namespace reel::record
