// `reel record` attached to what runs: see passive.cc.
#pragma once

#include "core/result.h"
#include "record/command.h"

namespace reel::record {

// --pid, --cgroup or --passive -- CMD. Returns the exit code, like the active recording.
Result<int> record_passive(const RecordCommandOptions& o);

}  // namespace reel::record
