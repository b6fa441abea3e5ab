// Crash-safe file replacement: a reader (or a crash at any instant) sees either the old content
// or the new, never a mix or a truncated file.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace reel::testset {

// Writes `content` to a temporary in the same directory (same filesystem, so rename is
// atomic), fsyncs it, renames it over `path` and fsyncs the directory so the rename itself is
// durable. The file gets exactly `mode` (not filtered by the umask) and file_owner() (core/user.h)
// when set. On error the temporary is
// removed and `path` is untouched.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content,
                               mode_t mode = 0644);

// Appends `content` to `path` (created with exactly `mode` when missing) and fdatasyncs it; when
// the write fails part-way (a full disk), the file is cut back to `expected_size`, its length
// before the append, so what was there stays whole. Refuses to append when the file is not
// `expected_size` long: someone else wrote to it.
Result<void> append_file_durable(const std::filesystem::path& path, std::string_view content,
                                 std::uint64_t expected_size, mode_t mode = 0644);

// Cuts `path` to `size` bytes and syncs it.
Result<void> truncate_file(const std::filesystem::path& path, std::uint64_t size);

// Temporaries are named ".<target>.tmp-XXXXXX": hidden, and never "*.yaml", so a reader that
// lists tests/*.yaml cannot mistake a leftover for a test.
bool is_temp_name(std::string_view filename);

// Deletes temporaries left in `dir` by a crash mid-write; returns how many were removed.
Result<std::size_t> remove_stale_temps(const std::filesystem::path& dir);

// Whole file into memory; refuses files over `max_bytes` rather than exhausting memory.
Result<std::string> read_file(const std::filesystem::path& path,
                              std::size_t max_bytes = std::size_t{1} << 30);

}  // namespace reel::testset
