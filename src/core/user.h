// Least privilege for what reel starts and what it writes, while reel itself keeps root.
//  - RunAs: the account the target command runs as (`--user`), resolved once in reel, before
//    the fork, because getpwnam/getgrouplist may allocate or open files and are not safe in the
//    child of a multi-threaded process.
//  - FileOwner: who owns the files reel writes. Under sudo that is the invoking user
//    (SUDO_UID/SUDO_GID), so a recording is theirs to read, edit and delete, not root's.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace reel {

struct RunAs {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;              // primary group, from the passwd entry
  std::vector<gid_t> groups;  // supplementary groups, as initgroups(3) would set them
  std::string home;
  std::string shell;

  // HOME, USER and LOGNAME for the target's environment.
  std::vector<std::string> env() const;
};

// Looks USER (a name, or a numeric uid) up in the passwd and group databases. An unknown user is
// an Error a person can act on.
Result<RunAs> resolve_user(std::string_view user);

// In the child, between clone and exec: supplementary groups, gid, then uid (the order matters:
// after setuid the others are no longer allowed). Async-signal-safe; returns 0 or an errno.
int drop_to(const RunAs& who);

struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// The user who ran `sudo reel ...`, from SUDO_UID and SUDO_GID (both required, both numeric);
// nullopt when they are absent, malformed, or reel is not running as root.
std::optional<FileOwner> sudo_owner(const char* sudo_uid, const char* sudo_gid, uid_t euid);

// Process-wide, set once by main before any command runs (like the umask, an attribute of the
// whole run). nullopt (the default) leaves files owned by whoever reel runs as.
void set_file_owner(std::optional<FileOwner> owner);
std::optional<FileOwner> file_owner();

// Gives a file or directory reel just created to file_owner(); does nothing when it is unset.
Result<void> own_fd(int fd, const std::filesystem::path& what);
Result<void> own_path(const std::filesystem::path& path);

// mkdir -p, where every directory this call creates gets exactly `mode` (not filtered by the
// umask) and file_owner(). Directories that already exist are left alone.
Result<void> create_dirs(const std::filesystem::path& dir, mode_t mode);

}  // namespace reel
