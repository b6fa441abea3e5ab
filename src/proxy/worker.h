// One relay thread: its own epoll, its own SO_REUSEPORT listeners, the connections it accepted.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"
#include "proxy/connection.h"
#include "proxy/pools.h"
#include "proxy/relay.h"

struct epoll_event;

namespace reel {

// Read-only after start(), shared by every worker; but the budget, which they claim from.
struct WorkerShared {
  RelayOptions options;
  std::vector<Endpoint> listening;
  int workers = 1;
  std::int64_t connection_room = 0;  // the budget at start, in connections (for messages)
  mutable FdBudget budget;
  // Connections reset for want of descriptors, by every worker (rare: one counter for all).
  mutable std::atomic<std::uint64_t> refused{0};
};

class Worker {
 public:
  // `listeners`: this worker's socket for each listening endpoint.
  [[nodiscard]] static Result<std::unique_ptr<Worker>> create(int index, const WorkerShared& shared,
                                                              std::vector<UniqueFd> listeners);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  // The thread body: serves until stop(); then closes its listeners, lets open connections
  // finish until the deadline and resets the rest.
  void run();
  // From any thread.
  void stop(std::chrono::steady_clock::time_point deadline);
  const Counters& counters() const { return counters_; }

 private:
  Worker(int index, const WorkerShared& shared);

  bool finished();
  int wait_ms() const;
  void dispatch(const epoll_event& ev);
  void accept_from(int listener);
  void shed_one(int listener);
  void refuse(int fd);
  void admit(UniqueFd client, FdClaim fds);
  bool loops_back(const Endpoint& dest, int client_fd) const;
  bool tap_wants(ConnId id, int client_fd, const Endpoint& dest) const;
  void adopt(std::unique_ptr<Connection> conn, bool connected);
  void handle(Connection* c, Connection::Outcome outcome);
  void resume_yielded();
  void reap();

  int index_;
  const WorkerShared& shared_;
  UniqueFd epoll_;
  UniqueFd wake_;
  UniqueFd spare_;  // released to accept-and-drop when the process is out of descriptors
  std::vector<UniqueFd> listeners_;
  std::unique_ptr<PipePool> pipes_;
  BufferPool buffers_;
  Counters counters_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::chrono::steady_clock::time_point> deadline_{};  // set before stopping_
  std::uint64_t next_seq_ = 0;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<Connection*> yielded_;   // budget spent, work left: resumed after the batch
  std::vector<Connection*> resuming_;  // yielded_ being resumed (kept to reuse its memory)
  std::vector<Connection*> dead_;
};

}  // namespace reel
