#include "kernel/mountinfo.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "core/unique_fd.h"

namespace reel {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (int k = 1; k <= 3; k++) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') i++;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') j++;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

std::optional<std::string> find_mount(std::string_view mountinfo, std::string_view fstype) {
  while (!mountinfo.empty()) {
    auto nl = mountinfo.find('\n');
    std::string_view line = mountinfo.substr(0, nl);
    mountinfo = nl == std::string_view::npos ? std::string_view{} : mountinfo.substr(nl + 1);
    // id parent major:minor root mountpoint options [optional...] - fstype source superopts
    auto f = split(line);
    size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") dash++;
    if (dash < 5 || dash + 1 >= f.size()) continue;
    if (f[dash + 1] == fstype) return unescape(f[4]);
  }
  return std::nullopt;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail_errno("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

Result<std::string> find_or_mount(std::string_view fstype, const std::string& where,
                                  bool* mounted_now) {
  if (mounted_now) *mounted_now = false;
  std::string info = REEL_TRY(read_file("/proc/self/mountinfo"));
  if (auto m = find_mount(info, fstype)) return *m;
  ::mkdir("/run/reel", 0755);
  if (::mkdir(where.c_str(), 0755) != 0 && errno != EEXIST)
    return fail_errno(fmt::format("no {} is mounted and {} cannot be created", fstype, where));
  std::string type(fstype);
  if (::mount("nodev", where.c_str(), type.c_str(), 0, nullptr) != 0)
    return fail_errno(fmt::format("no {} is mounted and mounting it at {} failed (run as root?)",
                                  fstype, where));
  if (mounted_now) *mounted_now = true;
  return where;
}

}  // namespace

Result<std::string> cgroup2_root() { return find_or_mount("cgroup2", "/run/reel/cgroup2", nullptr); }

Result<std::string> ensure_tracefs(bool* mounted_now) {
  return find_or_mount("tracefs", "/sys/kernel/tracing", mounted_now);
}

}  // namespace reel
