// TLS interception for `reel record`: a connection whose client opens with a TLS ClientHello is
// taken from the relay (RelayTakeover), terminated with a leaf certificate of reel's CA for the
// name the client asked for, and re-encrypted toward the real upstream with the same name. The
// plaintext of both directions goes to the relay's tap, so an HTTPS call is recorded like any
// clear one.
//
// Where interception cannot work the bytes pass through untouched and unrecorded: a client that
// rejected reel's certificate (pinning, its own trust store) has its later connections to that
// name passed through; an upstream that asks for a client certificate is passed through at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "proxy/relay.h"
#include "tls/bridge.h"

namespace reel::tls {

struct InterceptOptions {
  bool verify_upstream = true;         // against the system trust store (+ extra_ca)
  std::vector<std::string> extra_cas;  // PEM files with more CAs to trust upstream
};

struct InterceptStats {
  std::uint64_t intercepted = 0;
  std::uint64_t passed_through = 0;
  std::uint64_t failed = 0;
  std::uint64_t refused = 0;  // the app refused reel's certificate (those connections are lost)
  // name -> why it was passed through or failed, for the summary
  std::map<std::string, std::string> passed_hosts;
  std::map<std::string, std::string> failed_hosts;
};

class Interceptor {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Interceptor>> create(CertAuthority& ca,
                                                                   InterceptOptions options);
  ~Interceptor() { stop(); }

  // For RelayOptions::takeover. `on_tls(id)` runs (on a bridge thread) once a connection is
  // intercepted, before any of its plaintext reaches the tap.
  RelayTakeover takeover(std::function<void(ConnId)> on_tls);
  // Ends every bridge (the app is gone by then) and joins their threads.
  void stop() { threads_.stop(); }
  InterceptStats stats() const;

 private:
  Interceptor(CertAuthority& ca, InterceptOptions options)
      : ca_(ca), options_(std::move(options)) {}
  void bridge(TakenConnection c, const std::function<void(ConnId)>& on_tls);
  void pass_through(TakenConnection& c, const Endpoint& dest, bool reconnect);
  Result<SSL_CTX*> leaf_context(const std::string& host);
  void note(bool failed, const std::string& host, const std::string& why);

  CertAuthority& ca_;
  InterceptOptions options_;
  SslCtxPtr upstream_ctx_;
  mutable std::mutex mu_;
  std::map<std::string, SslCtxPtr> leaf_ctx_;
  std::set<std::string> pass_hosts_;  // clients rejected reel's certificate for these
  // Clients accepted reel's certificate for these: no need to know which program connects (see
  // process_at_other_end) in case it refuses.
  std::set<std::string> accepted_hosts_;
  InterceptStats stats_;
  BridgeThreads threads_;
};

}  // namespace reel::tls
