// The recording itself, apart from the kernel: capture events in, outbound calls in, test
// cases with their mocks out to disk as each test is settled.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "capture/capture.h"
#include "capture/stream_buffer.h"
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
  // Passive (`reel record --pid`, nothing in the app's path): the app's calls to its
  // dependencies are read from the capture's client connections, with these options, instead of
  // arriving from a relay through on_outbound.
  bool passive = false;
  mock::RecordOptions calls;
  // Passive with the TLS probes on: a connection's ciphertext is never a call (its plaintext
  // comes from the probes, or nothing does).
  bool tls_plaintext = false;
  // Whether a local endpoint listens, for connections open before the capture (their role was
  // not seen): capture::TrackerOptions::is_listening, which the tracker defaults.
  std::function<bool(const Endpoint& local)> is_listening;
  // Bounds on the work done for a live service (0: none). An inbound request left out still
  // takes its calls with it: they become no mock at all, not session-wide ones.
  double sample = 1.0;                 // share of each endpoint's requests kept; its first always
  std::uint64_t max_tests = 0;         // tests in all
  std::uint64_t max_per_endpoint = 0;  // tests per method and path shape ("GET /products/:id")
};

struct SessionStats {
  std::uint64_t tests = 0;
  std::uint64_t tests_with_gaps = 0;
  std::uint64_t mocks = 0;
  std::uint64_t session_mocks = 0;  // type config
  std::map<std::string, std::uint64_t> mocks_by_kind;
  std::uint64_t unanswered_calls = 0;
  std::uint64_t not_converted = 0;  // inbound exchanges that could not become a test
  std::uint64_t h2_joined = 0;      // of those: HTTP/2 on a connection joined mid-flight
  // Passive: bytes of dependency calls lost in the capture (each loss drops the call it cut),
  // and frames the calls' recorders could not parse.
  std::uint64_t call_bytes_lost = 0;
  std::uint64_t call_invalid_frames = 0;
  // Inbound requests left out by the bounds, and the calls they took with them.
  std::uint64_t sampled_out = 0;
  std::uint64_t over_cap = 0;
  std::uint64_t calls_left_out = 0;
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
    // Passive: the connection's calls, from its bytes in stream order.
    struct Calls {
      // A hole is a loss at once: one socket's bytes in one direction come in order (one thread
      // at a time reads or writes a dependency's connection), so nothing is worth waiting for.
      static constexpr capture::StreamBufferOptions kBuffer{.reorder_window = 0};
      explicit Calls(capture::StreamBufferOptions o) : egress(o), ingress(o) {}
      Endpoint client, server;
      std::unique_ptr<mock::CallRecorder> recorder;  // null after a loss until the next bytes
      capture::StreamBuffer egress, ingress;
      bool tls = false;  // following the TLS plaintext (the ciphertext is ignored)
      bool joined = false;  // begun before reel saw it (or bytes lost): its start-up unseen
      bool ciphertext = false;  // TLS records before any plaintext: dropped (tls_plaintext)
    };
    std::unique_ptr<Calls> calls;
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

  void on_open(const capture::OpenEvent& o);
  void on_datagram(const ConnTag& tag, const Endpoint& remote, const capture::DataEvent& d);
  void on_call_data(ClientConn::Calls& c, const capture::DataEvent& d);
  void end_calls(ClientConn& conn, std::uint64_t ts_ns);
  void take_calls(ClientConn::Calls& c);
  void on_inbound_data(const ConnTag& tag, ServerConn& conn, const capture::DataEvent& d);
  void scan_h2_frames(ServerConn& conn, std::string_view bytes, const capture::DataEvent& d);
  std::uint32_t inbound_done(const capture::TracedExchange& t);
  void forget_server_conn(const ConnTag& tag);
  void on_exchange(capture::TracedExchange& t, std::uint64_t now_ns);
  bool admit(const protocols::Exchange& x);
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
  // Passive: the app's UDP sockets (their remote, when connected), and DNS queries sent on them
  // waiting for their answer, by socket and query id.
  std::map<ConnTag, Endpoint> udp_conns_;
  struct DnsQuery {
    std::string bytes;
    std::uint64_t ts_ns = 0;
    std::uint32_t tid = 0;
    Endpoint server;
  };
  std::map<std::pair<ConnTag, std::uint16_t>, DnsQuery> dns_queries_;
  std::unordered_map<std::uint64_t, PendingTest> tests_;
  std::unordered_set<std::uint64_t> left_out_;  // tests not to be written (bounds)
  std::uint64_t admitted_ = 0;
  std::unordered_map<std::string, std::uint64_t> seen_by_endpoint_, kept_by_endpoint_;
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
