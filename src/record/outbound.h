// The record side of the relay: one CallRecorder per proxied connection, fed from the relay's
// tap on worker threads; finished calls are queued for the main thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/net.h"
#include "mock/mock.h"
#include "proxy/relay.h"

namespace reel::record {

struct OutboundCall {
  Endpoint client;  // the app's end of the connection (its local address)
  Endpoint server;  // where the app was headed
  mock::RecordedCall call;
};

// The call was read as the plaintext of a TLS connection: metadata reel.tls "true" and, for
// HTTP, an https:// URL.
void mark_as_tls(mock::RecordedCall& call);

class OutboundRecorder {
 public:
  explicit OutboundRecorder(mock::RecordOptions options) : options_(std::move(options)) {}

  // Callbacks for RelayOptions::tap; this object must outlive the relay's use of them.
  RelayTap tap();
  // Calls finished since the last take, and connections still open.
  std::vector<OutboundCall> take();
  std::size_t open_connections() const;
  // Frames the recorders could not parse, on every connection so far (see CallRecorder).
  std::uint64_t invalid_frames() const;
  // The connection's bytes are the plaintext of a TLS connection (tls::Interceptor): its mocks
  // get metadata reel.tls "true" and an https:// URL.
  void mark_tls(ConnId id);

 private:
  struct Conn {
    Endpoint client, server;
    std::unique_ptr<mock::CallRecorder> recorder;
    bool tls = false;
  };
  void collect(Conn& c);

  mock::RecordOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<ConnId, std::unique_ptr<Conn>> conns_;
  std::vector<OutboundCall> done_;
  std::uint64_t invalid_closed_ = 0;  // of connections already closed
};

}  // namespace reel::record
