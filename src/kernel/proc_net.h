// Who listens where, from /proc/net/tcp{,6} and /proc/PID/fd: used to warn about a proxy that is
// not listening and to keep the proxy's own connections from being redirected.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/net.h"

namespace reel {

struct TcpSocketEntry {
  Endpoint local;
  Endpoint remote;
  int state = 0;  // TCP_LISTEN = 10
  std::uint64_t inode = 0;
};

// Parses the text of /proc/net/tcp or /proc/net/tcp6 (lines that do not parse are skipped).
std::vector<TcpSocketEntry> parse_proc_net_tcp(std::string_view text);

// The inode of a listening socket that accepts connections to `ep` (exact or wildcard address).
std::optional<std::uint64_t> find_listener_inode(const Endpoint& ep);

// Processes that hold a socket with this inode open.
std::vector<pid_t> pids_holding_socket(std::uint64_t inode);

}  // namespace reel
