#include "tls/ca_command.h"

#include <cstdio>
#include <filesystem>

#include "core/process.h"
#include "tls/ca.h"

namespace reel::tls {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSystemCopy = "/usr/local/share/ca-certificates/reel.crt";

Result<void> update_ca_certificates() {
  pid_t pid =
      REEL_TRY(spawn({.argv = {"update-ca-certificates"}, .cgroup_fd = -1, .extra_env = {}}));
  int code = REEL_TRY(wait_exit(pid));
  if (code != 0) return fail_msg("update-ca-certificates exited with {}", code);
  return {};
}

Result<int> ca(const std::string& action) {
  if (action == "uninstall") {
    std::error_code ec;
    if (!fs::remove(kSystemCopy, ec)) {
      if (ec) return fail_msg("cannot remove {}: {}", kSystemCopy, ec.message());
      std::printf("reel's CA was not installed (%s absent)\n", kSystemCopy);
      return 0;
    }
    REEL_TRY(update_ca_certificates());
    std::printf("removed %s; the system no longer trusts reel's CA\n", kSystemCopy);
    return 0;
  }
  auto authority = REEL_TRY(CertAuthority::open(default_ca_dir()));
  if (action == "path") {
    std::printf("%s\n", authority->cert_path().c_str());
    return 0;
  }
  if (action == "install") {
    std::error_code ec;
    fs::create_directories(fs::path(kSystemCopy).parent_path(), ec);
    fs::copy_file(authority->cert_path(), kSystemCopy, fs::copy_options::overwrite_existing, ec);
    if (ec) return fail_msg("cannot copy the CA to {}: {}", kSystemCopy, ec.message());
    fs::permissions(kSystemCopy, fs::perms(0644), ec);
    REEL_TRY(update_ca_certificates());
    std::printf("installed %s: the system now trusts reel's CA (undo: reel ca uninstall)\n",
                kSystemCopy);
    return 0;
  }
  return fail_msg("unknown action '{}': path, install or uninstall", action);
}

}  // namespace

int run_ca(const std::string& action) {
  auto r = ca(action);
  if (!r) {
    std::fprintf(stderr, "reel ca: %s\n", r.error().message.c_str());
    return 2;
  }
  return *r;
}

}  // namespace reel::tls
