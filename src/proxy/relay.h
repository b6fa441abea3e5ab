// A transparent TCP relay: accepts redirected connections, connects to where each was headed and
// pumps bytes both ways, keeping half-closes, resets and backpressure intact end to end.
//
// One worker thread per CPU, each with its own epoll and its own SO_REUSEPORT listening socket per
// endpoint, so the kernel spreads accepts and no lock is shared on the data path. Sockets are
// non-blocking and edge-triggered. Each direction moves small messages with recv/send (three
// syscalls per message, epoll_wait included) and bulk with splice() through a pipe, which costs
// about 20% less CPU per byte than copying through user space.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "core/net.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace reel {

// Unique within one Relay for its lifetime.
using ConnId = std::uint64_t;

enum class Direction : std::uint8_t {
  kClientToServer,  // what the application sent
  kServerToClient,  // what came back
};

// How the recorder sees the bytes. Callbacks run on worker threads, concurrently for different
// connections, and must not block: the worker holds every other connection of its thread meanwhile.
struct RelayTap {
  // Once per connection, after its destination is known and before any byte moves. Returning
  // true sends this connection's bytes through `data`; unset means "tap every connection".
  std::function<bool(ConnId, const Endpoint& client, const Endpoint& server)> open;
  // Bytes as they are read, before they are written on. An empty span marks the end of that
  // direction (an orderly FIN). A tapped connection uses read/write instead of splice.
  std::function<void(ConnId, Direction, std::span<const std::byte>)> data;
  // Once per tapped connection, when it ends; `reset` when it ended abortively.
  std::function<void(ConnId, bool reset)> close;
};

// A connection the relay handed over whole (see RelayTakeover): both sockets connected and
// non-blocking, nothing read from the client yet.
struct TakenConnection {
  ConnId id = 0;
  UniqueFd client;
  UniqueFd upstream;
  // The relay's tap when tap.open accepted the connection, else null: the new owner feeds it
  // what it sees under `id` (data, then close) instead of the relay. It lives as long as the relay.
  const RelayTap* tap = nullptr;
};

// Lets another component own some connections (TLS interception). Only connections whose client
// speaks before the server are offered, so server-first protocols (MySQL) never wait for it;
// nothing changes for the others but a peek at their first bytes.
struct RelayTakeover {
  // The client's first bytes, peeked (still unread). True: the connection goes to `take`.
  std::function<bool(std::span<const std::byte> first)> wants;
  // On the worker thread: must not block. The relay has already forgotten the connection.
  std::function<void(TakenConnection)> take;
};

struct RelayOptions {
  std::vector<Endpoint> listen;
  int threads = 0;  // 0: one per CPU this process may run on
  // Per direction of each connection: the pipe size for splice, or the read/write buffer.
  std::size_t buffer_bytes = 256 * 1024;
  // Zero-copy bulk: a direction that reads big chunks moves them with splice() through a pipe;
  // small messages always use recv/send. Off forces recv/send for everything.
  bool splice = true;
  // Where an accepted connection should go. Default: original_destination().
  std::function<Result<Endpoint>(int accepted_fd)> destination;
  RelayTap tap;
  RelayTakeover takeover;  // unset: the relay keeps every connection
};

struct RelayStats {
  std::uint64_t accepted = 0;
  std::uint64_t active = 0;
  std::uint64_t upstream_failed = 0;  // connect refused, unreachable, timed out
  std::uint64_t bytes_up = 0;         // client to server
  std::uint64_t bytes_down = 0;       // server to client
  std::uint64_t no_destination = 0;   // the destination callback failed
  std::uint64_t loops_refused = 0;    // the destination was the relay itself
  std::uint64_t shed = 0;             // reset at once: the relay was out of file descriptors
};

class Worker;
struct WorkerShared;

class Relay {
 public:
  // Binds every endpoint on every worker, then starts the workers. Errors are a sentence a user
  // can act on ("127.0.0.1:15001 is already in use (EADDRINUSE) ...").
  [[nodiscard]] static Result<std::unique_ptr<Relay>> start(RelayOptions options);

  // Closes the listeners, gives open connections up to `grace` to finish on their own, resets
  // the rest and joins the workers. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));
  RelayStats stats() const;
  // The bound endpoints, in the order given, with port 0 resolved.
  const std::vector<Endpoint>& listening() const { return listening_; }

  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;
  ~Relay();

 private:
  Relay() = default;

  std::unique_ptr<WorkerShared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::vector<Endpoint> listening_;
};

}  // namespace reel
