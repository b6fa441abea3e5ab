// Finding filesystems (cgroup2, tracefs) from /proc/self/mountinfo, never from habit: on our
// machines cgroup2 sits at /sys/fs/cgroup/unified (hybrid layout), elsewhere at /sys/fs/cgroup.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace reel {

// The mount point of the first filesystem of type `fstype` in mountinfo text.
std::optional<std::string> find_mount(std::string_view mountinfo, std::string_view fstype);

Result<std::string> read_file(const std::string& path);

// The cgroup v2 mount point; mounts cgroup2 at /run/reel/cgroup2 when none is mounted.
Result<std::string> cgroup2_root();

// The tracefs mount point; mounts tracefs at /sys/kernel/tracing when none is mounted, and says so
// through `mounted_now`.
Result<std::string> ensure_tracefs(bool* mounted_now = nullptr);

}  // namespace reel
