#include "record/session.h"

#include <cmath>

#include <spdlog/spdlog.h>

#include "bpf/abi/tls.h"
#include "mock/protocols.h"
#include "protocols/http2/types.h"
#include "protocols/infer.h"
#include "protocols/text.h"
#include "testset/noise.h"
#include "trace/shape.h"

namespace reel::record {

namespace {

constexpr std::size_t kWritesKept = 1024;  // per outbound connection, for finding the thread
constexpr std::uint64_t kClosedKeptNs = 10'000'000'000;

ConnTag tag_of(const capture::ConnKey& k) { return {k.tgid, k.fd, k.gen}; }

}  // namespace

RecordSession::RecordSession(testset::TestSetWriter& writer, SessionOptions options)
    : writer_(writer),
      options_(std::move(options)),
      tracker_(capture::TrackerOptions{.limits = options_.limits,
                                       .is_listening = options_.is_listening}),
      attributor_(options_.attribution) {}

// Called after the tracker has seen the open: the tracker decides the role (one that existed
// before the capture is a server's when its local end listens).
void RecordSession::on_open(const capture::OpenEvent& o) {
  const capture::ConnectionInfo* info = tracker_.connection(o.key);
  if (info && info->server) {
    server_conns_[tag_of(o.key)] = ServerConn{};
    return;
  }
  if (o.udp) {
    if (options_.passive) udp_conns_[tag_of(o.key)] = o.remote;
    return;
  }
  std::string local = o.local.to_string();
  client_by_local_[local] = tag_of(o.key);
  ClientConn& conn = client_conns_[tag_of(o.key)];
  conn.local = local;
  if (options_.passive) {
    conn.calls = std::make_unique<ClientConn::Calls>(ClientConn::Calls::kBuffer);
    conn.calls->client = o.local;
    conn.calls->server = o.remote;
    conn.calls->joined = o.role == CAP_ROLE_UNKNOWN;
  }
}

void RecordSession::on_capture_event(const capture::Event& event) {
  const capture::CloseEvent* closed = nullptr;
  if (auto* o = std::get_if<capture::OpenEvent>(&event)) {
    tracker_.on_event(event, batch_);  // an open completes no exchange
    return on_open(*o);
  } else if (auto* d = std::get_if<capture::DataEvent>(&event)) {
    ConnTag tag = tag_of(d->key);
    if (d->dir == CAP_DIR_INGRESS && d->len > 0) {
      if (auto it = server_conns_.find(tag); it != server_conns_.end())
        on_inbound_data(tag, it->second, *d);
    }
    if (auto udp = udp_conns_.find(tag); udp != udp_conns_.end()) on_datagram(tag, udp->second, *d);
    if (auto it = client_conns_.find(tag); it != client_conns_.end()) {
      if (d->dir == CAP_DIR_EGRESS) {
        auto& w = it->second.writes;
        w.emplace_back(d->ts_ns, d->tid);
        if (w.size() > kWritesKept) w.pop_front();
      }
      if (it->second.calls) on_call_data(*it->second.calls, *d);
    }
  } else if (auto* c = std::get_if<capture::CloseEvent>(&event)) {
    closed = c;
    // Kept a while: the relay may still be handing over the calls this connection carried
    // (short-lived connections close before their calls reach the session).
    if (auto it = client_conns_.find(tag_of(c->key)); it != client_conns_.end()) {
      it->second.closed_ns = c->ts_ns;
      end_calls(it->second, c->ts_ns);
    }
    ConnTag tag = tag_of(c->key);
    if (udp_conns_.erase(tag)) {
      auto from = dns_queries_.lower_bound({tag, 0});
      auto to = dns_queries_.upper_bound({tag, 0xffff});
      dns_queries_.erase(from, to);
    }
  } else if (auto* x = std::get_if<capture::ExitEvent>(&event)) {
    for (auto& [tag, conn] : client_conns_)
      if (std::get<0>(tag) == x->tgid && !conn.closed_ns) {
        conn.closed_ns = x->ts_ns;
        end_calls(conn, x->ts_ns);
      }
  }
  tracker_.on_event(event, batch_);
  std::uint64_t now = event.index() == 0   ? std::get<0>(event).ts_ns
                      : event.index() == 1 ? std::get<1>(event).ts_ns
                      : event.index() == 2 ? std::get<2>(event).ts_ns
                                           : std::get<3>(event).ts_ns;
  for (auto& t : batch_) on_exchange(t, now);
  batch_.clear();
  // After the exchanges the close completed, so they still find their streams and threads.
  if (closed) forget_server_conn(tag_of(closed->key));
}

void RecordSession::on_call_data(ClientConn::Calls& c, const capture::DataEvent& d) {
  bool plaintext = (d.flags & CAP_F_TLS) != 0;
  if (plaintext && !c.tls) {
    // The TLS plaintext starts here (its own stream positions): what came before was the
    // handshake, recorded as nothing.
    c.tls = true;
    c.ciphertext = false;
    c.recorder.reset();
    c.egress = capture::StreamBuffer(ClientConn::Calls::kBuffer);
    c.ingress = capture::StreamBuffer(ClientConn::Calls::kBuffer);
  } else if (!plaintext && c.tls) {
    return;
  }
  bool egress = d.dir == CAP_DIR_EGRESS;
  capture::StreamBuffer& buf = egress ? c.egress : c.ingress;
  buf.add_captured(d.pos, d.bytes, d.len, d.ts_ns);
  Direction dir = egress ? Direction::kClientToServer : Direction::kServerToClient;
  while (true) {
    if (buf.gap().kind == capture::GapKind::kLost) buf.skip_gap();
    if (std::uint64_t lost = buf.take_loss()) {
      // The call these bytes belonged to cannot be told whole: it goes, and the connection is
      // joined again at the next bytes, as if reel had attached there.
      stats_.call_bytes_lost += lost;
      if (c.recorder) stats_.call_invalid_frames += c.recorder->invalid_frames();
      c.recorder.reset();
      c.joined = true;
    }
    auto bytes = buf.readable();
    if (bytes.empty()) break;
    if (!c.recorder && !c.tls && options_.tls_plaintext &&
        protocols::infer_protocol(bytes, egress ? protocols::MessageType::kRequest
                                                : protocols::MessageType::kResponse) ==
            protocols::Protocol::kTls)
      c.ciphertext = true;
    if (c.ciphertext) {
      buf.consume(bytes.size());
      continue;
    }
    if (!c.recorder) c.recorder = mock::CallRecorder::create(c.client, c.server, options_.calls);
    c.recorder->data(dir, bytes, buf.time_at(buf.position()));
    buf.consume(bytes.size());
  }
  if (c.recorder) take_calls(c);
}

// A DNS query the app sent on a UDP socket, then its answer (same socket, same id): one DNS
// mock, as the recording forwarder of an active recording makes. Whatever else goes over UDP is
// left alone.
void RecordSession::on_datagram(const ConnTag& tag, const Endpoint& remote,
                                const capture::DataEvent& d) {
  constexpr std::size_t kQueriesHeld = 1024;
  if (d.bytes.size() != d.len || d.bytes.size() < 12) return;  // cut: not a whole message
  std::uint16_t id = static_cast<std::uint16_t>(std::to_integer<unsigned>(d.bytes[0]) << 8 |
                                                std::to_integer<unsigned>(d.bytes[1]));
  if (d.dir == CAP_DIR_EGRESS) {
    if (protocols::infer_protocol(d.bytes, protocols::MessageType::kRequest, true) !=
        protocols::Protocol::kDns)
      return;
    if (dns_queries_.size() >= kQueriesHeld) dns_queries_.erase(dns_queries_.begin());
    dns_queries_[{tag, id}] = DnsQuery{std::string(protocols::as_chars(d.bytes)), d.ts_ns, d.tid,
                                      d.peer.port ? d.peer : remote};
    return;
  }
  auto q = dns_queries_.find({tag, id});
  if (q == dns_queries_.end()) return;
  auto call = mock::dns_call(protocols::as_bytes(q->second.bytes), d.bytes, q->second.ts_ns,
                             d.ts_ns, q->second.server, options_.calls);
  std::uint32_t tid = q->second.tid;
  dns_queries_.erase(q);
  if (call) add_call(std::move(*call), tid);
}

void RecordSession::take_calls(ClientConn::Calls& c) {
  for (auto& call : c.recorder->take()) {
    if (c.tls) mark_as_tls(call);
    if (c.joined) call.mock.metadata[std::string(mock::kMetaJoined)] = "true";
    on_outbound({c.client, c.server, std::move(call)});
  }
}

void RecordSession::end_calls(ClientConn& conn, std::uint64_t ts_ns) {
  if (!conn.calls || !conn.calls->recorder) return;
  conn.calls->recorder->close(false, ts_ns);
  take_calls(*conn.calls);
  stats_.call_invalid_frames += conn.calls->recorder->invalid_frames();
  conn.calls.reset();
}

void RecordSession::on_inbound_data(const ConnTag& tag, ServerConn& conn,
                                    const capture::DataEvent& d) {
  bool plaintext = (d.flags & CAP_F_TLS) != 0;
  if (plaintext && !conn.tls) {
    // The TLS plaintext starts here: what came before was the handshake. An in-flight mark it
    // set would hold calls for a request that is only now arriving.
    attributor_.inbound_closed(tag);
    conn = ServerConn{};
    conn.tls = true;
  } else if (!plaintext && conn.tls) {
    return;
  }
  std::string_view bytes(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size());
  if (conn.kind == ServerConn::Kind::kUnknown) {
    // The client preface tells HTTP/2; anything else is a one-request-at-a-time protocol.
    std::string_view preface = protocols::http2::kPreface;
    std::size_t n = std::min(bytes.size(), preface.size() - conn.head.size());
    if (conn.head.empty()) conn.first_data = {d.ts_ns, d.tid};
    if (d.pos == conn.next_pos && !bytes.empty() &&
        bytes.substr(0, n) == preface.substr(conn.head.size(), n)) {
      conn.head.append(bytes.substr(0, n));
      conn.next_pos = d.pos + n;
      bytes.remove_prefix(n);
      if (conn.head.size() < preface.size()) return;
      conn.kind = ServerConn::Kind::kHttp2;
      conn.head.clear();
      scan_h2_frames(conn, bytes, d);
      return;
    }
    conn.kind = ServerConn::Kind::kHttp1;
    attributor_.inbound_data(tag, conn.first_data.first, conn.first_data.second);
  }
  if (conn.kind == ServerConn::Kind::kHttp1) {
    attributor_.inbound_data(tag, d.ts_ns, d.tid);
    return;
  }
  if (conn.lost) return;
  // Bytes already read (a retransmitted event) are dropped; a hole loses the frame boundaries.
  if (d.pos < conn.next_pos) {
    std::uint64_t seen = conn.next_pos - d.pos;
    if (seen >= d.len) return;
    bytes.remove_prefix(std::min<std::uint64_t>(seen, bytes.size()));
  } else if (d.pos > conn.next_pos) {
    bytes = {};
  }
  scan_h2_frames(conn, bytes, d);
}

void RecordSession::scan_h2_frames(ServerConn& conn, std::string_view bytes,
                                   const capture::DataEvent& d) {
  std::uint64_t end = d.pos + d.len;
  if (d.pos > conn.next_pos || bytes.size() < end - std::max(d.pos, conn.next_pos)) {
    // A gap or bytes not copied: from here on the connection as a whole stays in flight until
    // it closes, the safe side (calls wait rather than go to the wrong test).
    conn.lost = true;
    attributor_.inbound_data(tag_of(d.key), d.ts_ns, d.tid);
    return;
  }
  conn.next_pos = end;
  while (!bytes.empty()) {
    if (conn.skip > 0) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(conn.skip, bytes.size()));
      conn.skip -= n;
      bytes.remove_prefix(n);
      continue;
    }
    std::size_t n = std::min(bytes.size(), protocols::http2::kFrameHeader - conn.head.size());
    conn.head.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (conn.head.size() < protocols::http2::kFrameHeader) return;
    auto u8 = [&](std::size_t i) { return static_cast<std::uint32_t>(std::uint8_t(conn.head[i])); };
    conn.skip = (u8(0) << 16) | (u8(1) << 8) | u8(2);
    std::uint32_t stream = ((u8(5) << 24) | (u8(6) << 16) | (u8(7) << 8) | u8(8)) & 0x7fffffffu;
    bool opens = u8(3) == protocols::http2::kHeaders && (stream & 1) && stream > conn.last_stream;
    conn.head.clear();
    if (!opens) continue;
    conn.last_stream = stream;
    ConnTag tag{0, 0, next_stream_tag_++};
    conn.streams.emplace(stream, tag);
    attributor_.inbound_data(tag, d.ts_ns, d.tid);
  }
}

std::uint32_t RecordSession::inbound_done(const capture::TracedExchange& t) {
  ConnTag tag = tag_of(t.conn.key);
  auto conn = server_conns_.find(tag);
  if (conn == server_conns_.end() || conn->second.kind != ServerConn::Kind::kHttp2)
    return attributor_.inbound_done(tag);
  auto id = t.exchange.fields.find("http2.stream");
  std::int64_t stream = 0;
  if (id == t.exchange.fields.end() || !protocols::parse_int64(id->second, stream)) return 0;
  auto it = conn->second.streams.find(static_cast<std::uint32_t>(stream));
  if (it == conn->second.streams.end()) return 0;
  std::uint32_t tid = attributor_.inbound_done(it->second);
  conn->second.streams.erase(it);
  return tid;
}

void RecordSession::forget_server_conn(const ConnTag& tag) {
  attributor_.inbound_closed(tag);
  auto it = server_conns_.find(tag);
  if (it == server_conns_.end()) return;
  for (auto& [id, stream] : it->second.streams) attributor_.inbound_closed(stream);
  server_conns_.erase(it);
}

void RecordSession::on_exchange(capture::TracedExchange& t, std::uint64_t now_ns) {
  if (!t.conn.server) return;  // the app's own calls: recorded by the relay, not here
  std::uint32_t tid = inbound_done(t);
  const auto& x = t.exchange;
  if (x.protocol != protocols::Protocol::kHttp1 && x.protocol != protocols::Protocol::kHttp2)
    return;
  if (options_.app_port && t.conn.local.port != options_.app_port) return;
  if (!x.has_request || !x.has_response) {
    stats_.not_converted++;
    return;
  }
  // A request left out is still timed like a test, so that the calls it made go with it rather
  // than to the session.
  auto leave_out = [&] {
    std::uint64_t id = next_id_++;
    attributor_.add_test(id, x.request_time.first_ns,
                         std::max(x.request_time.last_ns, x.response_time.last_ns), tid, now_ns);
    left_out_.insert(id);
  };
  if (x.fields.contains("http2.unfinished")) {
    stats_.not_converted++;  // still in flight when the app or the recording stopped
    return leave_out();
  }
  if (protocols::headers_partial(x)) {
    // Without its path and headers a test would be a different request.
    if (stats_.h2_joined++ == 0)
      spdlog::warn("HTTP/2 requests not recorded: {}; new connections are recorded whole",
                   mock::kJoinedMidFlight);
    stats_.not_converted++;
    return leave_out();
  }
  if (!admit(x)) return leave_out();
  testset::ConvertOptions convert = options_.convert;
  convert.app_port = t.conn.local.port;
  convert.scheme = t.conn.tls ? "https" : "http";
  auto test = testset::test_case_from_exchange(x, convert);
  if (!test) {
    stats_.not_converted++;
    spdlog::warn("{} {}: not recorded: {}", x.method, x.target, test.error().message);
    return;
  }
  auto noise = test->kind == testset::TestKind::kGrpc
                   ? testset::compute_grpc_noise(test->grpc_resp, options_.noise, writer_.name())
                   : testset::compute_noise(test->resp, options_.noise, writer_.name());
  if (noise) {
    testset::merge_noise(test->noise, *noise);
  } else {
    spdlog::warn("noise rules: {}", noise.error().message);
  }
  if (x.gap) stats_.tests_with_gaps++;
  std::uint64_t id = next_id_++;
  spdlog::debug("test {} {} [{}, {}] thread {}", x.method, x.target, x.request_time.first_ns,
                x.response_time.last_ns, tid);
  attributor_.add_test(id, x.request_time.first_ns, x.response_time.last_ns, tid, now_ns);
  tests_.emplace(id, PendingTest{std::move(*test), x});
}

bool RecordSession::admit(const protocols::Exchange& x) {
  if (options_.max_tests && admitted_ >= options_.max_tests) {
    stats_.over_cap++;
    return false;
  }
  if (options_.sample >= 1.0 && !options_.max_per_endpoint) {
    admitted_++;  // no bound per endpoint: no shape to compute, nothing to count per shape
    return true;
  }
  std::string endpoint = x.method + " " + trace::path_shape(x.target);
  std::uint64_t n = seen_by_endpoint_[endpoint]++;
  // The n-th request of an endpoint is kept when it crosses the next multiple of 1/sample:
  // with 0.1, the 1st, 11th, 21st...
  if (options_.sample < 1.0 &&
      std::ceil(double(n + 1) * options_.sample) <= std::ceil(double(n) * options_.sample)) {
    stats_.sampled_out++;
    return false;
  }
  std::uint64_t& kept = kept_by_endpoint_[endpoint];
  if (options_.max_per_endpoint && kept >= options_.max_per_endpoint) {
    stats_.over_cap++;
    return false;
  }
  kept++;
  admitted_++;
  return true;
}

std::uint32_t RecordSession::writer_thread(const Endpoint& app_local, std::uint64_t ts_ns) const {
  auto by_local = client_by_local_.find(app_local.to_string());
  if (by_local == client_by_local_.end()) return 0;
  auto conn = client_conns_.find(by_local->second);
  if (conn == client_conns_.end()) return 0;
  std::uint32_t tid = 0;
  for (auto& [ts, t] : conn->second.writes) {
    if (ts > ts_ns) break;
    tid = t;  // the last write the app made before the relay read the request
  }
  return tid;
}

void RecordSession::on_outbound(OutboundCall call) {
  std::uint32_t tid = writer_thread(call.client, call.call.request_ns);
  spdlog::debug("call {} from {} at {}: thread {}", call.call.summary, call.client.to_string(),
                call.call.request_ns, tid);
  add_call(std::move(call.call), tid);
}

void RecordSession::on_dns(mock::RecordedCall call) { add_call(std::move(call), 0); }

void RecordSession::add_call(mock::RecordedCall call, std::uint32_t tid) {
  std::uint64_t id = next_id_++;
  bool startup = call.startup;
  std::uint64_t request_ns = call.request_ns;
  calls_.emplace(id, HeldCall{std::move(call), 0});
  if (startup) {
    startup_ids_.push_back(id);
  } else {
    attributor_.add_call(id, request_ns, tid);
  }
}

testset::Mock RecordSession::take_mock(std::uint64_t id, bool session) {
  auto it = calls_.find(id);
  testset::Mock m = it->second.call.mock;
  if (session) m.metadata["type"] = "config";
  if (m.metadata.contains("reel.unanswered")) stats_.unanswered_calls++;
  if (session || --it->second.holders == 0) calls_.erase(it);
  return m;
}

void RecordSession::count_mock(const testset::Mock& m, bool session) {
  stats_.mocks++;
  if (session) stats_.session_mocks++;
  stats_.mocks_by_kind[std::string(testset::mock_kind_name(m.kind))]++;
}

void RecordSession::forget_closed(std::uint64_t now_ns) {
  for (auto it = client_conns_.begin(); it != client_conns_.end();) {
    if (it->second.closed_ns == 0 || now_ns < it->second.closed_ns + kClosedKeptNs) {
      ++it;
      continue;
    }
    auto by_local = client_by_local_.find(it->second.local);
    if (by_local != client_by_local_.end() && by_local->second == it->first)
      client_by_local_.erase(by_local);
    it = client_conns_.erase(it);
  }
}

Result<std::vector<WrittenTest>> RecordSession::settle(std::uint64_t now_ns, bool flush) {
  forget_closed(now_ns);
  if (flush) {
    tracker_.flush_all(batch_);
  } else {
    tracker_.expire_idle(now_ns, batch_);
  }
  for (auto& t : batch_) on_exchange(t, now_ns);
  batch_.clear();

  Attributor::Decisions d = attributor_.decide(now_ns, flush);
  for (auto& [id, n] : d.holders) calls_.at(id).holders = n;

  std::vector<testset::Mock> session;
  for (auto* ids : {&startup_ids_, &d.startup_calls, &d.session_calls})
    for (std::uint64_t id : *ids) session.push_back(take_mock(id, true));
  startup_ids_.clear();
  if (!session.empty()) {
    std::sort(session.begin(), session.end(), [](const auto& a, const auto& b) {
      return a.req_timestamp.unix_ns < b.req_timestamp.unix_ns;
    });
    for (auto& m : session) count_mock(m, true);
    REEL_TRY(writer_.append_mocks(std::move(session)));
  }

  std::vector<WrittenTest> written;
  for (auto& released : d.tests) {
    if (left_out_.erase(released.test_id)) {
      for (std::uint64_t cid : released.call_ids) {
        auto it = calls_.find(cid);
        if (--it->second.holders == 0) calls_.erase(it);
      }
      stats_.calls_left_out += released.call_ids.size();
      continue;
    }
    auto node = tests_.extract(released.test_id);
    PendingTest& p = node.mapped();
    std::vector<testset::Mock> mocks;
    WrittenTest w{.method = p.exchange.method, .target = p.exchange.target,
                  .status = p.exchange.status, .latency_ns = p.exchange.latency_ns};
    if (p.test.kind == testset::TestKind::kGrpc) {
      w.method = "grpc";
      w.status = testset::grpc_status(p.test.grpc_resp);
    }
    for (std::uint64_t cid : released.call_ids) {
      mocks.push_back(take_mock(cid, false));
      count_mock(mocks.back(), false);
      w.mocks_by_kind[std::string(testset::mock_kind_name(mocks.back().kind))]++;
    }
    w.name = REEL_TRY(writer_.record(std::move(p.test), std::move(mocks)));
    stats_.tests++;
    written.push_back(std::move(w));
  }
  return written;
}

}  // namespace reel::record
