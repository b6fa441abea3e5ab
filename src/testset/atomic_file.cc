#include "testset/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "core/unique_fd.h"
#include "core/user.h"

namespace reel::testset {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTempMarker = ".tmp-";

Result<void> write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(fmt::format("write {}", path.string()));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> sync_dir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno(fmt::format("open directory {}", dir.string()));
  if (::fsync(fd.get()) != 0) return fail_errno(fmt::format("fsync directory {}", dir.string()));
  return {};
}

// Everything after the temporary exists; on failure the caller unlinks it.
Result<void> fill_temp(int fd, const fs::path& temp, std::string_view content, mode_t mode) {
  if (::fchmod(fd, mode) != 0) return fail_errno(fmt::format("chmod {}", temp.string()));
  REEL_TRY(own_fd(fd, temp));
  REEL_TRY(write_all(fd, content, temp));
  if (::fsync(fd) != 0) return fail_errno(fmt::format("fsync {}", temp.string()));
  return {};
}

}  // namespace

Result<void> write_file_atomic(const fs::path& path, std::string_view content, mode_t mode) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::string temp =
      (dir / fmt::format(".{}{}XXXXXX", path.filename().string(), kTempMarker)).string();
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd) return fail_errno(fmt::format("create a temporary file in {}", dir.string()));
  Result<void> filled = fill_temp(fd.get(), temp, content, mode);
  int close_rc = ::close(fd.release());
  if (filled && close_rc != 0) filled = fail_errno(fmt::format("close {}", temp));
  if (filled && ::rename(temp.c_str(), path.c_str()) != 0) {
    filled = fail_errno(fmt::format("rename {} to {}", temp, path.string()));
  }
  if (!filled) {
    ::unlink(temp.c_str());
    return filled;
  }
  return sync_dir(dir);
}

Result<void> append_file_durable(const fs::path& path, std::string_view content,
                                 std::uint64_t expected_size, mode_t mode) {
  bool created = !fs::exists(path);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode));
  if (!fd) return fail_errno(fmt::format("open {}", path.string()));
  if (created && ::fchmod(fd.get(), mode) != 0) return fail_errno(fmt::format("chmod {}", path.string()));
  if (created) REEL_TRY(own_fd(fd.get(), path));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return fail_errno(fmt::format("stat {}", path.string()));
  if (static_cast<std::uint64_t>(st.st_size) != expected_size)
    return fail_msg("{} is {} bytes, expected {}: another process wrote to it", path.string(),
                    st.st_size, expected_size);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error err = fail_errno(fmt::format("write {}", path.string())).error();
      if (::ftruncate(fd.get(), static_cast<off_t>(expected_size)) == 0) ::fdatasync(fd.get());
      return std::unexpected(err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd.get()) != 0) {
    Error err = fail_errno(fmt::format("sync {}", path.string())).error();
    if (::ftruncate(fd.get(), static_cast<off_t>(expected_size)) == 0) ::fdatasync(fd.get());
    return std::unexpected(err);
  }
  if (created) return sync_dir(path.parent_path().empty() ? fs::path(".") : path.parent_path());
  return {};
}

Result<void> truncate_file(const fs::path& path, std::uint64_t size) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return fail_errno(fmt::format("open {}", path.string()));
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0 || ::fdatasync(fd.get()) != 0)
    return fail_errno(fmt::format("truncate {}", path.string()));
  return {};
}

bool is_temp_name(std::string_view filename) {
  return filename.starts_with('.') && filename.find(kTempMarker) != std::string_view::npos;
}

Result<std::size_t> remove_stale_temps(const fs::path& dir) {
  std::error_code ec;
  std::size_t removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!is_temp_name(it->path().filename().string())) continue;
    if (fs::remove(it->path(), ec)) removed++;
    if (ec) break;
  }
  if (ec) return fail_msg("clean up temporary files in {}: {}", dir.string(), ec.message());
  return removed;
}

Result<std::string> read_file(const fs::path& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(fmt::format("open {}", path.string()));
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(fmt::format("read {}", path.string()));
    if (n == 0) return out;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      return fail_msg("{}: larger than {} bytes, refusing to load it", path.string(), max_bytes);
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace reel::testset
