#include "kernel/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "kernel/mountinfo.h"

namespace reel {

namespace {

Result<std::pair<UniqueFd, std::uint64_t>> open_dir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno(fmt::format("cannot open cgroup {}", path));
  struct statfs sfs;
  if (::fstatfs(fd.get(), &sfs) != 0) return fail_errno("statfs " + path);
  if (sfs.f_type != CGROUP2_SUPER_MAGIC)
    return fail_msg("{} is not a cgroup v2 directory (cgroup v1 and other filesystems cannot "
                    "scope BPF programs); the cgroup2 hierarchy is at {}",
                    path, cgroup2_root().value_or("<not mounted>"));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail_errno("stat " + path);
  return std::pair{std::move(fd), static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace

Result<std::string> unified_path_from_proc(std::string_view text) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.starts_with("0::")) return std::string(line.substr(3));
  }
  return fail_msg("no cgroup v2 entry (\"0::\") in /proc/PID/cgroup");
}

Result<Cgroup> Cgroup::open(const std::string& path) {
  auto [fd, id] = REEL_TRY(open_dir(path));
  return Cgroup(path, std::move(fd), id, false);
}

Result<Cgroup> Cgroup::of_pid(pid_t pid) {
  auto text = read_file(fmt::format("/proc/{}/cgroup", pid));
  if (!text) return fail_msg("no process with pid {} (or it is not visible here)", pid);
  std::string rel = REEL_TRY(with_context(unified_path_from_proc(*text), fmt::format("pid {}", pid)));
  std::string root = REEL_TRY(cgroup2_root());
  return open(rel == "/" ? root : root + rel);
}

Result<Cgroup> Cgroup::root() { return open(REEL_TRY(cgroup2_root())); }

Result<Cgroup> Cgroup::create_child(const std::string& name) {
  std::string root = REEL_TRY(cgroup2_root());
  std::string parent = root + "/reel";
  if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST)
    return fail_errno("cannot create " + parent + " (run as root?)");
  std::string path = parent + "/" + name;
  // Another reel may remove an empty parent between our two mkdirs: retry once.
  if (::mkdir(path.c_str(), 0755) != 0 && !(errno == ENOENT && ::mkdir(parent.c_str(), 0755) == 0 &&
                                            ::mkdir(path.c_str(), 0755) == 0))
    return fail_errno("cannot create cgroup " + path);
  auto opened = open_dir(path);
  if (!opened) {
    ::rmdir(path.c_str());
    return fail(opened.error());
  }
  return Cgroup(path, std::move(opened->first), opened->second, true);
}

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    fd_ = std::move(other.fd_);
    id_ = other.id_;
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

Cgroup::~Cgroup() { remove(); }

void Cgroup::remove() {
  if (!owned_ || !fd_) return;
  owned_ = false;
  (void)kill_all(std::chrono::seconds(5));
  fd_.reset();
  ::rmdir(path_.c_str());
  // Leave the hierarchy as we found it: the shared parent goes when the last child has gone.
  auto slash = path_.rfind('/');
  if (slash != std::string::npos) ::rmdir(path_.substr(0, slash).c_str());
}

Result<std::vector<pid_t>> Cgroup::pids() const {
  auto text = REEL_TRY(read_file(path_ + "/cgroup.procs"));
  std::vector<pid_t> out;
  std::istringstream in(text);
  pid_t p;
  while (in >> p) out.push_back(p);
  return out;
}

Result<void> Cgroup::kill_all(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::ofstream kill_file(path_ + "/cgroup.kill");
  bool used_kill_file = false;
  if (kill_file) {
    kill_file << "1" << std::flush;
    used_kill_file = kill_file.good();
  }
  for (;;) {
    auto left = REEL_TRY(pids());
    if (left.empty()) return {};
    if (!used_kill_file)
      for (pid_t p : left) ::kill(p, SIGKILL);
    if (std::chrono::steady_clock::now() > deadline)
      return fail_msg("{} processes still in {} after SIGKILL", left.size(), path_);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void sweep_stale_cgroups() {
  auto root = cgroup2_root();
  if (!root) return;
  std::string parent = *root + "/reel";
  DIR* d = ::opendir(parent.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || e->d_type != DT_DIR) continue;
    // Names are "<reel pid>-<what>": only sweep those whose reel is gone.
    pid_t owner = std::atoi(name.c_str());
    if (owner > 0 && ::kill(owner, 0) == 0) continue;
    ::rmdir((parent + "/" + name).c_str());  // fails, harmlessly, if processes remain
  }
  ::closedir(d);
}

}  // namespace reel
