// The address a redirected connection was originally headed for, read the way every stock
// transparent proxy reads it, so reel's relay and HAProxy/Envoy see the same answer.
#pragma once

#include "core/net.h"
#include "core/result.h"

namespace reel {

// For an accepted TCP socket: getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST) on IPv6 sockets (falling
// back to SOL_IP for IPv4-mapped peers), getsockopt(SOL_IP, SO_ORIGINAL_DST) on IPv4 sockets.
// Fails with "connection was not redirected: ..." when neither level answers.
[[nodiscard]] Result<Endpoint> original_destination(int fd);

}  // namespace reel
