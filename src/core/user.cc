#include "core/user.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>

namespace reel {

namespace fs = std::filesystem;

namespace {

std::optional<unsigned long> parse_id(std::string_view text) {
  unsigned long n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  if (n > 0xfffffffeul) return std::nullopt;  // (uid_t)-1 means "unchanged" to chown
  return n;
}

// getpwnam_r / getpwuid_r with a buffer that grows until the entry fits.
Result<std::optional<RunAs>> lookup(std::string_view user) {
  std::vector<char> buf(1024);
  for (;;) {
    passwd pw{};
    passwd* found = nullptr;
    std::string name(user);
    auto uid = parse_id(user);
    int rc = uid ? ::getpwuid_r(static_cast<uid_t>(*uid), &pw, buf.data(), buf.size(), &found)
                 : ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 && rc != ENOENT && rc != ESRCH) return fail_errno("look up user " + name, rc);
    if (found == nullptr) return std::optional<RunAs>{};
    return std::optional<RunAs>{RunAs{.name = pw.pw_name,
                                      .uid = pw.pw_uid,
                                      .gid = pw.pw_gid,
                                      .groups = {},
                                      .home = pw.pw_dir ? pw.pw_dir : "/",
                                      .shell = pw.pw_shell ? pw.pw_shell : ""}};
  }
}

std::atomic<bool> g_owner_set{false};
FileOwner g_owner;

}  // namespace

std::vector<std::string> RunAs::env() const {
  return {"HOME=" + home, "USER=" + name, "LOGNAME=" + name};
}

Result<RunAs> resolve_user(std::string_view user) {
  if (user.empty()) return fail_msg("--user needs a user name");
  auto found = REEL_TRY(lookup(user));
  if (!found) {
    return fail_msg("unknown user '{}' (--user): no such account in the passwd database "
                    "(create it, e.g. useradd --system {}, or give an existing user)",
                    user, user);
  }
  RunAs who = std::move(*found);
  // The groups initgroups(3) would give: every group listing the user, plus the primary one.
  int n = 64;
  for (;;) {
    who.groups.resize(static_cast<std::size_t>(n));
    int want = n;
    if (::getgrouplist(who.name.c_str(), who.gid, who.groups.data(), &want) >= 0) {
      who.groups.resize(static_cast<std::size_t>(want));
      break;
    }
    if (want <= n || n > 65536) return fail_msg("cannot list the groups of user '{}'", who.name);
    n = want;
  }
  return who;
}

// Raw system calls, not glibc's wrappers: those broadcast the change to every thread glibc
// knows of, and a child made by a raw clone3 inherits the parent's thread list but not its
// threads. The child is single-threaded, so changing the calling thread is changing them all.
int drop_to(const RunAs& who) {
  if (::syscall(SYS_setgroups, who.groups.size(), who.groups.data()) != 0) return errno;
  if (::syscall(SYS_setresgid, who.gid, who.gid, who.gid) != 0) return errno;
  if (::syscall(SYS_setresuid, who.uid, who.uid, who.uid) != 0) return errno;
  return 0;
}

std::optional<FileOwner> sudo_owner(const char* sudo_uid, const char* sudo_gid, uid_t euid) {
  if (euid != 0 || sudo_uid == nullptr || sudo_gid == nullptr) return std::nullopt;
  auto uid = parse_id(sudo_uid);
  auto gid = parse_id(sudo_gid);
  if (!uid || !gid) return std::nullopt;
  return FileOwner{static_cast<uid_t>(*uid), static_cast<gid_t>(*gid)};
}

void set_file_owner(std::optional<FileOwner> owner) {
  if (owner) g_owner = *owner;
  g_owner_set.store(owner.has_value(), std::memory_order_release);
}

std::optional<FileOwner> file_owner() {
  if (!g_owner_set.load(std::memory_order_acquire)) return std::nullopt;
  return g_owner;
}

Result<void> own_fd(int fd, const fs::path& what) {
  auto owner = file_owner();
  if (!owner) return {};
  if (::fchown(fd, owner->uid, owner->gid) != 0) {
    return fail_errno(fmt::format("give {} to uid {} (SUDO_UID)", what.string(), owner->uid));
  }
  return {};
}

Result<void> own_path(const fs::path& path) {
  auto owner = file_owner();
  if (!owner) return {};
  if (::lchown(path.c_str(), owner->uid, owner->gid) != 0) {
    return fail_errno(fmt::format("give {} to uid {} (SUDO_UID)", path.string(), owner->uid));
  }
  return {};
}

Result<void> create_dirs(const fs::path& dir, mode_t mode) {
  if (dir.empty()) return {};
  fs::path at;
  for (const auto& part : dir) {
    at /= part;
    if (::mkdir(at.c_str(), mode) == 0) {
      if (::chmod(at.c_str(), mode) != 0) return fail_errno("chmod " + at.string());
      REEL_TRY(own_path(at));
      continue;
    }
    if (errno != EEXIST) return fail_errno("create directory " + at.string());
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) return fail_errno("create directory " + dir.string());
  if (!S_ISDIR(st.st_mode)) return fail_msg("{} exists and is not a directory", dir.string());
  return {};
}

}  // namespace reel
