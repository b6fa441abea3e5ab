// The plumbing shared by TLS interception (record) and termination (replay): one thread per TLS
// connection, non-blocking sockets driven with poll(), OpenSSL on top. TLS connections to
// dependencies are few and short next to the relay's clear traffic, which never comes here.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "core/result.h"
#include "tls/ca.h"
#include "tls/client_hello.h"

namespace reel::tls {

using Clock = std::chrono::steady_clock;

// Owns the bridge threads; stop() asks every bridge to end (each polls the flag at least every
// 200 ms) and joins them.
class BridgeThreads {
 public:
  ~BridgeThreads() { stop(); }
  // False when no thread could be started (body not run).
  [[nodiscard]] bool spawn(std::function<void()> body);
  void stop();
  const std::atomic<bool>& stopping() const { return stopping_; }

 private:
  struct Bridge {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::mutex mu_;
  std::list<Bridge> bridges_;
  std::atomic<bool> stopping_{false};
};

// One side of a bridge: a socket, with TLS on it or not.
struct End {
  int fd = -1;
  SSL* ssl = nullptr;  // null: plain bytes
};

// Waits (peeking, consuming nothing) until the client's first TLS record is complete.
Result<ClientHello> peek_client_hello(int fd, Clock::time_point deadline,
                                      const std::atomic<bool>& stopping);

// Runs SSL_accept or SSL_connect on a non-blocking socket until done, the deadline or stop.
Result<void> handshake(SSL* ssl, int fd, bool accept, Clock::time_point deadline,
                       const std::atomic<bool>& stopping);

// Moves bytes both ways until both directions ended (end of stream passed on as close_notify
// plus shutdown(SHUT_WR)) or one side failed. `seen(a_to_b, bytes)` sees the plaintext as it
// passes; empty bytes mark the end of that direction. Returns false when it ended with an error
// (both sockets are then to be reset).
bool pump(End a, End b, const std::atomic<bool>& stopping,
          const std::function<void(bool a_to_b, std::span<const std::byte>)>& seen);

// A server context presenting `leaf` (chain: leaf only; clients know the CA). Its ALPN choice
// is the std::string the SSL's app data points to (none when empty or not offered).
Result<SslCtxPtr> server_context(const Leaf& leaf);

// Both sockets end with a RST.
void reset_both(int a, int b);

Result<void> set_nonblocking(int fd);

}  // namespace reel::tls
