#include "record/progress.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace reel::record {

std::int32_t local_utc_offset_s() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  return static_cast<std::int32_t>(tm.tm_gmtoff);
}

std::string format_ms(std::uint64_t ns) { return fmt::format("{:.1f} ms", double(ns) / 1e6); }

std::string kinds_text(const std::map<std::string, std::uint64_t>& by_kind) {
  std::string out;
  for (auto& [kind, n] : by_kind) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", kind, n);
  return out;
}

void print_test(const WrittenTest& w, bool color) {
  std::string mocks;
  for (auto& [kind, n] : w.mocks_by_kind)
    mocks += fmt::format("{}{} {}", mocks.empty() ? "" : ", ", kind, n);
  const char* green = color ? "\033[32m" : "";
  const char* dim = color ? "\033[2m" : "";
  const char* reset = color ? "\033[0m" : "";
  std::fprintf(stderr, "%s%-8s%s %-6s %-40s %3d %10s  %smocks: %s%s\n", green, w.name.c_str(),
               reset, w.method.c_str(), w.target.substr(0, 40).c_str(), w.status,
               format_ms(w.latency_ns).c_str(), dim, mocks.empty() ? "none" : mocks.c_str(),
               reset);
}

void print_session_summary(const std::filesystem::path& dir, const RecordSession& session,
                           std::uint64_t events_lost, std::uint64_t call_invalid_frames) {
  const auto& st = session.stats();
  const auto& at = session.attribution();
  std::fprintf(stderr, "\nrecorded %s: %llu tests, %llu mocks (%s; %llu session-wide)\n",
               dir.c_str(), (unsigned long long)st.tests, (unsigned long long)st.mocks,
               st.mocks_by_kind.empty() ? "none" : kinds_text(st.mocks_by_kind).c_str(),
               (unsigned long long)st.session_mocks);
  std::fprintf(stderr,
               "calls tied to tests: %llu by thread, %llu by time, %llu ambiguous (copied to each "
               "overlapping test); %llu outside any test\n",
               (unsigned long long)at.by_thread, (unsigned long long)at.by_window,
               (unsigned long long)at.ambiguous, (unsigned long long)at.session);
  if (st.sampled_out + st.over_cap + st.h2_joined)
    std::fprintf(stderr, "left out: %llu requests sampled out, %llu over a cap, %llu HTTP/2 on "
                 "connections joined mid-flight; %llu calls they made left out with them\n",
                 (unsigned long long)st.sampled_out, (unsigned long long)st.over_cap,
                 (unsigned long long)st.h2_joined, (unsigned long long)st.calls_left_out);
  auto& ts = session.tracker_stats();
  call_invalid_frames += st.call_invalid_frames;
  std::fprintf(stderr, "capture: %llu events lost, %llu bytes in gaps (%llu of them cut "
               "dependency calls), %llu tests with gaps, %llu requests not recorded, %llu calls "
               "without an answer; %llu frames unparsable (%llu inbound, %llu in dependency "
               "calls)\n",
               (unsigned long long)events_lost, (unsigned long long)ts.bytes_lost,
               (unsigned long long)st.call_bytes_lost, (unsigned long long)st.tests_with_gaps,
               (unsigned long long)st.not_converted, (unsigned long long)st.unanswered_calls,
               (unsigned long long)(ts.invalid_frames + call_invalid_frames),
               (unsigned long long)ts.invalid_frames, (unsigned long long)call_invalid_frames);
}

// The recording read back and replayed to itself (self_check.h): the problems are what a
// replay would stumble on, named by test so that the user can record those again.
void print_check(const CheckReport& c) {
  std::fprintf(stderr, "self-check: %zu calls replayed to themselves, %zu answered by the protocol "
               "(start-up), %zu not replayable here; %zu problems\n",
               c.replayed, c.by_protocol, c.skipped, c.problems.size());
  if (c.over_budget)
    std::fprintf(stderr, "self-check: %zu more calls not replayed (a recording this large takes "
                 "too long to replay whole at exit)\n", c.over_budget);
  constexpr std::size_t kShown = 20;
  for (std::size_t i = 0; i < c.problems.size() && i < kShown; ++i) {
    const auto& p = c.problems[i];
    spdlog::warn("{} ({}): {}: {}", p.mock, p.test.empty() ? "session-wide" : p.test, p.summary,
                 p.what);
  }
  if (c.problems.size() > kShown) spdlog::warn("... and {} more", c.problems.size() - kShown);
  if (!c.problems.empty())
    spdlog::warn("this recording will not replay as recorded: the calls above will fail under "
                 "reel test / reel mock (--strict makes this exit 3)");
}

int finish_recording(const AuditRecord& audit, bool strict, int exit_code) {
  std::fprintf(stderr, "audit (system log, authpriv): %s\n", write_audit(audit).c_str());
  auto check = check_test_set(audit.dir);
  if (!check) {
    std::fprintf(stderr, "self-check: could not read the recording back: %s\n",
                 check.error().message.c_str());
    return 3;
  }
  print_check(*check);
  return strict && !check->problems.empty() ? 3 : exit_code;
}

}  // namespace reel::record
