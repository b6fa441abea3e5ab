// `reel ca path|install|uninstall`: where reel's CA is, and trusting it system-wide (Debian
// layout: /usr/local/share/ca-certificates + update-ca-certificates) for users who want that.
#pragma once

#include <string>

namespace reel::tls {

int run_ca(const std::string& action);

}  // namespace reel::tls
