// TLS termination for `reel test` / `reel mock`: the mock server hands over a connection whose
// client opened with a TLS ClientHello; a bridge thread completes the handshake with a leaf of
// reel's CA (for the SNI, else the original destination's IP) and relays the plaintext through a
// socketpair whose other end the mock server serves like any clear connection.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "core/net.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "tls/bridge.h"

namespace reel::tls {

class Terminator {
 public:
  explicit Terminator(CertAuthority& ca) : ca_(ca) {}
  ~Terminator() { stop(); }

  // Takes the client's socket (ClientHello peeked, unread); returns the socket of plaintext to
  // serve in its place.
  [[nodiscard]] Result<UniqueFd> take(UniqueFd client, const Endpoint& server);
  void stop() { threads_.stop(); }

 private:
  void bridge(UniqueFd client, UniqueFd plain, Endpoint server);
  Result<SSL_CTX*> leaf_context(const std::string& host);

  CertAuthority& ca_;
  std::mutex mu_;
  std::map<std::string, SslCtxPtr> leaf_ctx_;
  std::set<std::string> accepted_hosts_;  // the app took reel's certificate for these
  BridgeThreads threads_;
};

}  // namespace reel::tls
