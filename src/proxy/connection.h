// One relayed connection: the accepted client socket, the upstream socket and a pump each way.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/unique_fd.h"
#include "proxy/pump.h"
#include "proxy/relay.h"

namespace reel {

// One worker's counters. Only that worker writes them, so a plain load+store keeps the data path
// free of locked instructions; stats() may read them from any thread.
struct alignas(64) Counters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> upstream_failed{0};
  std::atomic<std::uint64_t> bytes_up{0};
  std::atomic<std::uint64_t> bytes_down{0};
  std::atomic<std::uint64_t> no_destination{0};
  std::atomic<std::uint64_t> loops_refused{0};
};

inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// What a connection borrows from its worker.
struct ConnContext {
  PipePool* pipes;  // null: read/write only
  BufferPool& buffers;
  Counters& counters;
  const RelayTap& tap;
  const RelayTakeover* takeover;  // null: never hand a connection over
};

// Sends a RST instead of a FIN when `fd` is closed, so the peer learns the connection failed.
void set_linger_zero(int fd);

class Connection {
 public:
  enum class Side : std::uint8_t { kClient = 0, kUpstream = 1 };
  enum class Outcome : std::uint8_t {
    kOpen,
    kMore,    // a pump yielded with work left: call resume() soon
    kClosed,  // both sockets are closed; the worker may free this object after its batch
    kTakeover,  // RelayTakeover::wants it: the worker hands its sockets over (hand_over())
  };

  // `tapped`: the tap's open() accepted this connection, so its bytes go through tap.data.
  // `fds`: the budget's claim on the two sockets, given back when this object is freed.
  Connection(ConnId id, UniqueFd client, UniqueFd upstream, bool tapped, ConnContext ctx,
             FdClaim fds = {});
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The upstream connect finished synchronously: start relaying without waiting for an edge.
  Outcome connected();
  Outcome on_event(Side side, std::uint32_t events);
  Outcome resume();
  // For kTakeover: gives up both sockets, untouched, and closes without telling the tap.
  TakenConnection hand_over();
  // Resets both sockets (relay shutdown).
  void abort() { close(true); }

  ConnId id() const { return id_; }
  int fd(Side side) const { return side == Side::kClient ? client_.get() : upstream_.get(); }
  bool closed() const { return state_ == State::kClosed; }
  std::size_t slot = 0;      // the worker's index for this connection
  bool queued_more = false;  // already on the worker's resume list
  bool doomed = false;       // already on the worker's list to free

 private:
  enum class State : std::uint8_t { kConnecting, kRelaying, kClosed };

  Outcome on_connect_event(Side side, std::uint32_t events);
  Outcome run(bool up, bool down);
  Outcome settle();
  void count_bytes();
  void close(bool reset);
  bool sniff(bool client_readable, bool upstream_readable);

  ConnId id_;
  FdClaim fds_;  // before the sockets: given back after they are closed
  UniqueFd client_;
  UniqueFd upstream_;
  bool tapped_;
  bool sniffing_;  // takeover is set and neither side has spoken yet
  ConnContext ctx_;
  State state_ = State::kConnecting;
  bool more_up_ = false;
  bool more_down_ = false;
  Pump up_;    // client to upstream
  Pump down_;  // upstream to client
};

}  // namespace reel
