#include "record/audit.h"

#include <pwd.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <ctime>

#include <fmt/format.h>

namespace reel::record {

namespace {

// A value as logfmt writes it: bare when it is one word, else in quotes with \" and \\.
std::string value(std::string_view v) {
  bool bare = !v.empty();
  for (char c : v) bare = bare && c > ' ' && c != '"' && c != '\\' && c != '=' && c != 0x7f;
  if (bare) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<unsigned char>(c) < ' ' ? '?' : c;
  }
  return out + "\"";
}

std::string user_name(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) return found->pw_name;
  return std::to_string(uid);
}

std::string utc_text(std::uint64_t unix_ns) {
  std::time_t t = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

}  // namespace

std::string audit_line(const AuditRecord& r) {
  uid_t uid = ::getuid();
  std::string line = fmt::format("reel record: mode={} target={} user={} uid={}", value(r.mode),
                                 value(r.target), value(user_name(uid)), uid);
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo)
    line += fmt::format(" sudo_user={}", value(sudo));
  line += fmt::format(" start={} duration_s={:.1f} tests={} mocks={} bytes={} dir={}",
                      utc_text(r.started_unix_ns), double(r.duration_ns) / 1e9, r.tests, r.mocks,
                      r.bytes, value(r.dir));
  return line;
}

std::uint64_t bytes_under(const std::string& dir) {
  namespace fs = std::filesystem;
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  return n;
}

std::string write_audit(const AuditRecord& r) {
  std::string line = audit_line(r);
  ::openlog("reel", LOG_PID, LOG_AUTHPRIV);
  ::syslog(LOG_NOTICE, "%s", line.c_str());
  ::closelog();
  return line;
}

}  // namespace reel::record
