#pragma once

namespace reel {
// Sends libbpf's own messages to reel's log (debug level; warnings stay warnings).
void route_libbpf_logs();
}  // namespace reel
