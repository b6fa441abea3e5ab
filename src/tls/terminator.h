// TLS termination for `reel test` / `reel mock`: the mock server hands over a connection whose
// client opened with a TLS ClientHello; a bridge thread completes the handshake with a leaf of
// reel's CA (for the SNI, else the original destination's IP) and relays the plaintext through a
// socketpair whose other end the mock server serves like any clear connection.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/net.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "tls/bridge.h"

namespace reel::tls {

// Which application protocol to select for a connection to `server`, given the client's ALPN
// offer (in its order); "" selects none. For the mock server: mock::mock_alpn over its pool.
using AlpnPolicy =
    std::function<std::string(const Endpoint& server, const std::vector<std::string>& offered)>;

class Terminator {
 public:
  // Without a policy: "http/1.1" when the client offers it, else nothing.
  explicit Terminator(CertAuthority& ca, AlpnPolicy alpn = {}) : ca_(ca), alpn_(std::move(alpn)) {}
  ~Terminator() { stop(); }

  // Takes the client's socket (ClientHello peeked, unread); returns the socket of plaintext to
  // serve in its place.
  [[nodiscard]] Result<UniqueFd> take(UniqueFd client, const Endpoint& server);
  void stop() { threads_.stop(); }

 private:
  void bridge(UniqueFd client, UniqueFd plain, Endpoint server);
  Result<SSL_CTX*> leaf_context(const std::string& host);

  CertAuthority& ca_;
  AlpnPolicy alpn_;
  std::mutex mu_;
  std::map<std::string, SslCtxPtr> leaf_ctx_;
  std::set<std::string> accepted_hosts_;  // the app took reel's certificate for these
  BridgeThreads threads_;
};

}  // namespace reel::tls
