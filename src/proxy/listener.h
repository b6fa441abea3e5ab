// Listening sockets for the relay: one SO_REUSEPORT socket per endpoint per worker.
#pragma once

#include <vector>

#include "core/net.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace reel {

struct ListenerSet {
  std::vector<Endpoint> bound;                   // per endpoint, port 0 resolved
  std::vector<std::vector<UniqueFd>> by_worker;  // [worker][endpoint], non-blocking
};

// Binds every endpoint `copies` times with SO_REUSEPORT. An endpoint someone else already
// listens on is an error even if that someone also set SO_REUSEPORT: silently sharing a port
// with another proxy would send it half our connections. Endpoints with port 0 all try to share
// the port the first one was given, so 127.0.0.1:P and [::1]:P pair up.
[[nodiscard]] Result<ListenerSet> open_listeners(const std::vector<Endpoint>& endpoints,
                                                 int copies);

}  // namespace reel
