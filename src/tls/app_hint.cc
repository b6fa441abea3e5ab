#include "tls/app_hint.h"

#include <arpa/inet.h>
#include <elf.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace reel::tls {
namespace {

namespace fs = std::filesystem;

// An address as /proc/net/tcp{,6} prints it: each 32-bit word of the address as the kernel holds
// it, in hex, then the port.
std::string proc_net_key(const in6_addr& a, uint16_t port) {
  uint32_t w[4];
  std::memcpy(w, &a, sizeof w);
  return fmt::format("{:08X}{:08X}{:08X}{:08X}:{:04X}", w[0], w[1], w[2], w[3], port);
}

// The socket inode of the connection whose local address is `key` in /proc/net/`table`.
std::optional<unsigned long> socket_inode(const char* table, const std::string& key) {
  std::ifstream in(fmt::format("/proc/net/{}", table));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string sl, local, remote, state, queues, timer, retr, uid, timeout;
    unsigned long inode = 0;
    if (!(fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
          inode))
      continue;
    if (local == key && inode != 0) return inode;
  }
  return std::nullopt;
}

std::optional<pid_t> pid_holding(unsigned long inode) {
  const std::string want = fmt::format("socket:[{}]", inode);
  std::error_code ec;
  for (const auto& proc : fs::directory_iterator("/proc", ec)) {
    const std::string name = proc.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    for (const auto& fd : fs::directory_iterator(proc.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      if (fs::read_symlink(fd.path(), link_ec).string() == want) return pid_t(std::stol(name));
    }
  }
  return std::nullopt;
}

// Go writes a ".go.buildinfo" section into every executable it links.
bool is_go_executable(const std::string& exe) {
  std::ifstream in(exe, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum || eh.e_shnum > 4096)
    return false;
  std::vector<Elf64_Shdr> sections(eh.e_shnum);
  in.seekg(std::streamoff(eh.e_shoff));
  if (!in.read(reinterpret_cast<char*>(sections.data()),
               std::streamsize(eh.e_shnum * sizeof(Elf64_Shdr))))
    return false;
  const Elf64_Shdr& names = sections[eh.e_shstrndx];
  if (names.sh_size > (1u << 20)) return false;
  std::string table(names.sh_size, '\0');
  in.seekg(std::streamoff(names.sh_offset));
  if (!in.read(table.data(), std::streamsize(table.size()))) return false;
  for (const auto& s : sections) {
    if (s.sh_name < table.size() && std::strcmp(table.c_str() + s.sh_name, ".go.buildinfo") == 0)
      return true;
  }
  return false;
}

const char* runtime_name(Runtime r) {
  switch (r) {
    case Runtime::kJvm:
      return "a JVM";
    case Runtime::kNode:
      return "Node.js";
    case Runtime::kPython:
      return "Python";
    case Runtime::kCurl:
      return "curl";
    case Runtime::kGo:
      return "a Go program";
    case Runtime::kRuby:
      return "Ruby";
    case Runtime::kDotnet:
      return ".NET";
    case Runtime::kUnknown:
      break;
  }
  return "this program";
}

}  // namespace

std::optional<AppProcess> process_at_other_end(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  std::optional<unsigned long> inode;
  if (ss.ss_family == AF_INET) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
    uint16_t port = ntohs(sin.sin_port);
    inode = socket_inode("tcp", fmt::format("{:08X}:{:04X}", sin.sin_addr.s_addr, port));
    if (!inode) {  // an IPv6 socket connecting to an IPv4 address: ::ffff:a.b.c.d
      in6_addr mapped{};
      mapped.s6_addr[10] = mapped.s6_addr[11] = 0xff;
      std::memcpy(&mapped.s6_addr[12], &sin.sin_addr, 4);
      inode = socket_inode("tcp6", proc_net_key(mapped, port));
    }
  } else if (ss.ss_family == AF_INET6) {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
    inode = socket_inode("tcp6", proc_net_key(sin6.sin6_addr, ntohs(sin6.sin6_port)));
  }
  if (!inode) return std::nullopt;
  auto pid = pid_holding(*inode);
  if (!pid) return std::nullopt;
  std::error_code ec;
  AppProcess app{*pid, fs::read_symlink(fmt::format("/proc/{}/exe", *pid), ec).string()};
  return app;
}

Runtime runtime_of(const std::string& exe) {
  std::string name = fs::path(exe).filename().string();
  if (name == "java" || exe.find("/jvm/") != std::string::npos) return Runtime::kJvm;
  if (name.starts_with("node")) return Runtime::kNode;
  if (name.starts_with("python") || name.starts_with("pypy")) return Runtime::kPython;
  if (name == "curl") return Runtime::kCurl;
  if (name.starts_with("ruby")) return Runtime::kRuby;
  if (name == "dotnet") return Runtime::kDotnet;
  if (is_go_executable(exe)) return Runtime::kGo;
  return Runtime::kUnknown;
}

std::string trust_advice(Runtime runtime, const CertAuthority& ca) {
  const std::string crt = ca.public_cert_path().string(), bundle = ca.bundle_path().string();
  switch (runtime) {
    case Runtime::kJvm:
      return fmt::format(
          "reel gives the JVM its trust store {} through JAVA_TOOL_OPTIONS; an app that sets "
          "its own (javax.net.ssl.trustStore, its own SSLContext or TrustManager) must add {} "
          "to it (keytool -importcert -file {})",
          ca.trust_store_path().string(), crt, crt);
    case Runtime::kNode:
      return fmt::format(
          "Node adds NODE_EXTRA_CA_CERTS (set by reel) to its CAs unless the client passes its "
          "own `ca` option: add {} there",
          crt);
    case Runtime::kPython:
      return fmt::format(
          "requests reads REQUESTS_CA_BUNDLE, ssl/urllib/httpx/aiohttp read SSL_CERT_FILE, "
          "grpcio reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH (all set by reel); a client given its "
          "own CA (verify=..., cafile=..., certifi, ssl_channel_credentials(root_certificates=...)) "
          "must be given {} instead",
          bundle);
    case Runtime::kCurl:
      return fmt::format(
          "curl reads CURL_CA_BUNDLE (set by reel) unless --cacert/--capath is given: use "
          "--cacert {} or drop the option",
          bundle);
    case Runtime::kGo:
      return fmt::format(
          "Go reads SSL_CERT_FILE and SSL_CERT_DIR (set by reel) unless its tls.Config has its "
          "own RootCAs: add {} to them",
          crt);
    case Runtime::kRuby:
      return fmt::format(
          "Ruby's OpenSSL reads SSL_CERT_FILE (set by reel) unless the client sets ca_file or "
          "cert_store: use {}",
          bundle);
    case Runtime::kDotnet:
      return fmt::format(
          ".NET reads SSL_CERT_FILE and SSL_CERT_DIR (set by reel) unless the app validates "
          "certificates itself: trust {}",
          crt);
    case Runtime::kUnknown:
      break;
  }
  return fmt::format(
      "make it trust {} (or all of {}), or run `reel ca install` to trust reel's "
      "CA system-wide",
      crt, bundle);
}

std::string refusal_hint(const std::optional<AppProcess>& app, const CertAuthority& ca) {
  if (!app) return trust_advice(Runtime::kUnknown, ca);
  Runtime runtime = runtime_of(app->exe);
  return fmt::format("{} is {} (pid {}): {}", app->exe, runtime_name(runtime), app->pid,
                     trust_advice(runtime, ca));
}

}  // namespace reel::tls
