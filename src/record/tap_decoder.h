// Outbound calls seen by the relay's tap, decoded: the bytes of each proxied connection go
// through protocol inference and that protocol's decoder, and come out as exchanges tied to
// the connection's endpoints. Tap callbacks run on relay worker threads (one connection is
// always on one thread); exchanges are collected for the main thread with take().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/net.h"
#include "protocols/decoder.h"
#include "proxy/relay.h"

namespace reel::record {

struct OutboundCall {
  ConnId conn = 0;
  Endpoint client, server;
  protocols::Exchange exchange;
};

struct TapDecoderStats {
  std::uint64_t connections = 0;
  std::uint64_t calls = 0;
  std::uint64_t bytes = 0;
  std::uint64_t invalid_frames = 0;
};

class TapDecoder {
 public:
  explicit TapDecoder(protocols::Limits limits = {});
  ~TapDecoder();

  // A RelayTap whose callbacks feed this decoder; the decoder must outlive the relay's use.
  RelayTap tap();

  void open(ConnId id, const Endpoint& client, const Endpoint& server);
  void data(ConnId id, Direction dir, std::span<const std::byte> bytes);
  void close(ConnId id, bool reset);

  // Exchanges completed since the last call.
  std::vector<OutboundCall> take();
  TapDecoderStats stats() const;

  struct Conn;

 private:
  Conn* find(ConnId id);
  void drive(Conn& c);
  void collect(Conn& c, bool flush);

  protocols::Limits limits_;
  mutable std::mutex mu_;  // guards conns_ (the map itself), done_ and stats_
  std::unordered_map<ConnId, std::unique_ptr<Conn>> conns_;
  std::vector<OutboundCall> done_;
  TapDecoderStats stats_;
};

}  // namespace reel::record
