#include "kernel/proc_net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <string>

#include "kernel/mountinfo.h"

namespace reel {

namespace {

constexpr int kTcpListen = 10;

std::optional<std::uint32_t> hex32(std::string_view s) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "0100007F:1F90" (IPv4) or 32 hex digits ":" port (IPv6); words are in host byte order.
std::optional<Endpoint> parse_addr(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto port = hex32(s.substr(colon + 1));
  std::string_view ip = s.substr(0, colon);
  if (!port || *port > 65535) return std::nullopt;
  Endpoint ep;
  ep.port = static_cast<std::uint16_t>(*port);
  if (ip.size() == 8) {
    auto w = hex32(ip);
    if (!w) return std::nullopt;
    ep.ip = IpAddr::from_v4(*w);  // the kernel prints the __be32 as a host-order integer
  } else if (ip.size() == 32) {
    in6_addr a;
    for (int i = 0; i < 4; i++) {
      auto w = hex32(ip.substr(i * 8, 8));
      if (!w) return std::nullopt;
      std::memcpy(reinterpret_cast<char*>(&a) + i * 4, &*w, 4);
    }
    ep.ip = IpAddr::from_v6(a);
  } else {
    return std::nullopt;
  }
  return ep;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') j++;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

std::vector<TcpSocketEntry> parse_proc_net_tcp(std::string_view text) {
  std::vector<TcpSocketEntry> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    auto f = fields(line);
    if (f.size() < 10 || !f[0].ends_with(':')) continue;
    auto local = parse_addr(f[1]), remote = parse_addr(f[2]);
    auto st = hex32(f[3]);
    std::uint64_t inode = 0;
    auto [p, ec] = std::from_chars(f[9].data(), f[9].data() + f[9].size(), inode);
    if (!local || !remote || !st || ec != std::errc()) continue;
    out.push_back({*local, *remote, static_cast<int>(*st), inode});
  }
  return out;
}

std::optional<std::uint64_t> find_listener_inode(const Endpoint& ep) {
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    auto text = read_file(file);
    if (!text) continue;
    for (const auto& e : parse_proc_net_tcp(*text)) {
      if (e.state != kTcpListen || e.local.port != ep.port) continue;
      // 0.0.0.0 accepts IPv4 only; "::" accepts IPv6, and IPv4 too unless it is V6ONLY.
      bool wildcard = e.local.ip.is_unspecified() && (!e.local.ip.is_v4() || ep.ip.is_v4());
      if (e.local.ip == ep.ip || wildcard) return e.inode;
    }
  }
  return std::nullopt;
}

std::vector<pid_t> pids_holding_socket(std::uint64_t inode) {
  std::vector<pid_t> out;
  std::string want = fmt::format("socket:[{}]", inode);
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (dirent* p = ::readdir(proc)) {
    pid_t pid = std::atoi(p->d_name);
    if (pid <= 0) continue;
    std::string fd_dir = fmt::format("/proc/{}/fd", pid);
    DIR* fds = ::opendir(fd_dir.c_str());
    if (!fds) continue;
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      char target[64];
      std::string link = fd_dir + "/" + f->d_name;
      ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n > 0 && std::string_view(target, n) == want) {
        out.push_back(pid);
        break;
      }
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  return out;
}

}  // namespace reel
