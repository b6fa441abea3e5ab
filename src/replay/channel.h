// One connection from `reel test` to the app under test, clear or TLS, non-blocking. The app's
// certificate is not verified: it is whatever the app was given to serve.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/net.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "tls/openssl_util.h"

namespace reel::replay {

// Milliseconds left until `deadline_ns` (monotonic), rounded up; 0 once it has passed.
int remaining_ms(std::uint64_t deadline_ns);

class Channel {
 public:
  // Connects (and shakes hands when `tls`) before `deadline_ns`. `host` is the recorded
  // authority ("name:port"), used for SNI when it is a name. `alpn`, when set, is the one
  // protocol offered ("h2"); the handshake fails unless the app selects it.
  static Result<Channel> open(const Endpoint& app, bool tls, std::string_view host,
                              std::uint64_t deadline_ns, std::string_view alpn = {});

  int fd() const { return fd_.get(); }
  const std::string& tls_error() const { return tls_error_; }  // what OpenSSL said, if it failed

  // The bytes moved, 0 at end of stream, or -1 with errno set; EAGAIN adds to `wait` the poll
  // events that would let the call go on.
  ssize_t write(std::string_view data, short& wait);
  ssize_t read(char* buf, std::size_t size, short& wait);

  // Polls for `events` until the deadline; fails saying the app did not answer in time.
  Result<void> wait(short events, std::uint64_t deadline_ns, const Endpoint& app);

 private:
  ssize_t ssl_failed(ssize_t ret, short& wait);
  Result<void> handshake(const Endpoint& app, std::string_view host, std::uint64_t deadline_ns,
                         std::string_view alpn);

  UniqueFd fd_;
  tls::SslPtr ssl_;
  std::string tls_error_;
};

}  // namespace reel::replay
