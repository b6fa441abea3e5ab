// What reel may do: loading and attaching BPF programs needs root or the right capabilities.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace reel {

struct Capability {
  int number;
  const char* name;
  const char* why;
};

// Capabilities reel's programs need, with the reason for each.
const std::vector<Capability>& needed_capabilities();

// Names of needed capabilities missing from the effective set.
std::vector<std::string> missing_capabilities();

// An error naming what is missing and how to fix it, or nothing when all is there.
Result<void> require_privileges(const std::string& command);

}  // namespace reel
