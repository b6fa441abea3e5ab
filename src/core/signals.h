// Signals as file descriptor events, so the main loop never runs code in a signal handler.
#pragma once

#include <initializer_list>

#include "core/result.h"
#include "core/unique_fd.h"

namespace reel {

// Blocks `signals` in the calling thread (threads started later inherit the mask) and returns a
// non-blocking signalfd that reports them.
Result<UniqueFd> block_signals_to_fd(std::initializer_list<int> signals);

// Reads one pending signal from a signalfd; 0 when none is pending.
int read_signal(int signal_fd);

}  // namespace reel
