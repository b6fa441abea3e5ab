// From capture events to paired exchanges: one stream buffer per connection direction, protocol
// inference on the first bytes, one decoder per connection, and idle expiry.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "capture/capture.h"
#include "protocols/exchange.h"
#include "protocols/types.h"

namespace reel::capture {

struct ConnectionInfo {
  ConnKey key;
  std::string comm;
  Endpoint local, remote;  // as the traced process sees them
  bool server = false;     // the traced process accepted this connection
  bool udp = false;
  bool tls = false;        // the bytes are TLS plaintext from SSL calls (the ciphertext is not shown)
};

struct TracedExchange {
  ConnectionInfo conn;
  protocols::Exchange exchange;
};

struct TrackerOptions {
  protocols::Limits limits;
  std::uint64_t idle_ns = 30'000'000'000;  // a silent connection is flushed after this
  // Answers "is this local endpoint a listening socket" for connections that existed before the
  // capture started (their role was not seen). Default: /proc/net/tcp{,6}.
  std::function<bool(const Endpoint& local)> is_listening;
};

struct TrackerStats {
  std::uint64_t connections = 0;
  std::uint64_t exchanges = 0;
  std::uint64_t bytes = 0;           // bytes seen in data events, both directions
  std::uint64_t bytes_lost = 0;      // in gaps: capped, dropped or never delivered
  std::uint64_t invalid_frames = 0;  // parse failures (each followed by a resync)
  std::uint64_t orphan_events = 0;   // data for a connection never announced
  std::uint64_t tls_connections = 0; // connections shown as TLS plaintext
  std::uint64_t by_protocol[8] = {}; // exchanges per protocols::Protocol
};

class Tracker {
 public:
  explicit Tracker(TrackerOptions options = {});
  ~Tracker();

  void on_event(const Event& event, std::vector<TracedExchange>& out);
  // Flushes connections idle since before `now_ns - idle_ns`.
  void expire_idle(std::uint64_t now_ns, std::vector<TracedExchange>& out);
  // Flushes everything (at exit).
  void flush_all(std::vector<TracedExchange>& out);
  const TrackerStats& stats() const { return stats_; }
  std::size_t open_connections() const { return conns_.size(); }
  // What is known of an open connection (its role decided at its open event), or nullptr.
  const ConnectionInfo* connection(const ConnKey& key) const;

  struct Connection;

 private:
  struct KeyHash {
    std::size_t operator()(const ConnKey& k) const {
      return std::hash<std::uint64_t>()((std::uint64_t(k.tgid) << 32 | k.fd) ^ (k.gen * 0x9e3779b97f4a7c15ull));
    }
  };

  void on_open(const OpenEvent& e);
  void on_data(const DataEvent& e, std::vector<TracedExchange>& out);
  void close(const ConnKey& key, std::uint64_t ts_ns, std::vector<TracedExchange>& out);
  void on_datagram(Connection& c, const DataEvent& e, std::vector<TracedExchange>& out);
  void drive(Connection& c, std::vector<TracedExchange>& out);
  void collect(Connection& c, bool flush, std::vector<TracedExchange>& out);

  TrackerOptions options_;
  std::unordered_map<ConnKey, std::unique_ptr<Connection>, KeyHash> conns_;
  TrackerStats stats_;
  std::vector<protocols::Exchange> done_;  // collect's scratch, kept to reuse its memory
};

}  // namespace reel::capture
