// What `reel record` tells the user as it goes and when it ends, active or passive alike.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "record/audit.h"
#include "record/self_check.h"
#include "record/session.h"

namespace reel::record {

std::int32_t local_utc_offset_s();
std::string kinds_text(const std::map<std::string, std::uint64_t>& by_kind);
// One line per test as it is written.
void print_test(const WrittenTest& w, bool color);
// Tests and mocks by kind, how calls were tied to tests, and what the capture lost.
// `call_invalid_frames`: unparsable frames in dependency calls recorded outside the session
// (the relay's tap).
void print_session_summary(const std::filesystem::path& dir, const RecordSession& session,
                           std::uint64_t events_lost, std::uint64_t call_invalid_frames);
// The recording replayed to itself (self_check.h).
void print_check(const CheckReport& c);
// A recording's last words: its audit line (system log and stderr), then its self-check.
// Returns `exit_code`, or 3 when the check cannot read the recording back or, with `strict`,
// finds problems.
int finish_recording(const AuditRecord& audit, bool strict, int exit_code);

}  // namespace reel::record
