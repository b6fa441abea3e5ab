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

// An exchange and its connection as the tracker hands them over, owned by someone else: what
// reel trace's filter, sinks and summary read, whether from a TracedExchange or straight from
// the tracker (no copy on the way).
struct ExchangeView {
  const ConnectionInfo& conn;
  const protocols::Exchange& exchange;
  ExchangeView(const ConnectionInfo& c, const protocols::Exchange& e) : conn(c), exchange(e) {}
  ExchangeView(const TracedExchange& t) : conn(t.conn), exchange(t.exchange) {}  // NOLINT: a view of it
};

// Receives each exchange as a connection's decoder completes it, in order per connection. It may
// move from `exchange`; `conn` outlives the call only if copied.
class ExchangeHandler {
 public:
  virtual ~ExchangeHandler() = default;
  virtual void on_exchange(const ConnectionInfo& conn, protocols::Exchange& exchange) = 0;
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

  // Completed exchanges are kept and handed to `out` in batches (kBatch, or when deliver is
  // called): decoding a batch and then writing it keeps each phase's code and data in cache,
  // and the exchanges are never copied or moved on the way. With a vector, every exchange is
  // appended to it before the call returns.
  void on_event(const Event& event, ExchangeHandler& out);
  void on_event(const Event& event, std::vector<TracedExchange>& out);
  // Hands every completed exchange to `out` now.
  void deliver(ExchangeHandler& out);
  // Flushes connections idle since before `now_ns - idle_ns`, and delivers.
  void expire_idle(std::uint64_t now_ns, ExchangeHandler& out);
  void expire_idle(std::uint64_t now_ns, std::vector<TracedExchange>& out);
  // Flushes everything (at exit), and delivers.
  void flush_all(ExchangeHandler& out);
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
  static constexpr std::size_t kBatch = 256;

  void on_data(const DataEvent& e, ExchangeHandler& out);
  void close(const ConnKey& key, std::uint64_t ts_ns);
  void on_datagram(Connection& c, const DataEvent& e);
  void drive(Connection& c);
  void collect(Connection& c, bool flush);

  TrackerOptions options_;
  // The connection of the last data event: a process reads a request and writes its answer on
  // one connection, so the next event is often for it too. Forgotten when that connection goes.
  Connection* find(const ConnKey& key);
  Connection* last_ = nullptr;
  // A connection leaving conns_ (closed, or replaced by a new open of its key).
  void retire(std::unique_ptr<Connection> c);

  std::unordered_map<ConnKey, std::unique_ptr<Connection>, KeyHash> conns_;
  TrackerStats stats_;
  // Exchanges completed and not yet delivered, each with its connection; connections closed
  // meanwhile wait in retired_ until then, so those pointers stay valid.
  std::vector<protocols::Exchange> done_;
  std::vector<const ConnectionInfo*> done_conns_;
  std::vector<std::unique_ptr<Connection>> retired_;
};

}  // namespace reel::capture
