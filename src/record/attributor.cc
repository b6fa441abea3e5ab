#include "record/attributor.h"

#include <algorithm>

namespace reel::record {

void Attributor::inbound_data(const ConnTag& conn, std::uint64_t ts_ns, std::uint32_t tid) {
  if (inflight_.contains(conn)) return;
  inflight_.emplace(conn, Inflight{ts_ns, tid});
  if (first_request_ns_ == 0 || ts_ns < first_request_ns_) first_request_ns_ = ts_ns;
}

std::uint32_t Attributor::inbound_done(const ConnTag& conn) {
  auto it = inflight_.find(conn);
  if (it == inflight_.end()) return 0;
  std::uint32_t tid = it->second.tid;
  inflight_.erase(it);
  return tid;
}

void Attributor::inbound_closed(const ConnTag& conn) { inflight_.erase(conn); }

void Attributor::add_test(std::uint64_t test_id, std::uint64_t start_ns, std::uint64_t end_ns,
                          std::uint32_t tid, std::uint64_t now_ns) {
  Test t{test_id, start_ns, std::max(start_ns, end_ns), now_ns, tid, {}};
  auto pos = std::upper_bound(tests_.begin(), tests_.end(), start_ns,
                              [](std::uint64_t s, const Test& x) { return s < x.start_ns; });
  tests_.insert(pos, std::move(t));
  if (first_request_ns_ == 0 || start_ns < first_request_ns_) first_request_ns_ = start_ns;
}

void Attributor::add_call(std::uint64_t call_id, std::uint64_t request_ns, std::uint32_t tid) {
  Call c{call_id, request_ns, tid};
  auto pos = std::upper_bound(calls_.begin(), calls_.end(), request_ns,
                              [](std::uint64_t r, const Call& x) { return r < x.request_ns; });
  calls_.insert(pos, c);
}

bool Attributor::decidable(const Call& c, std::uint64_t now_ns, bool flush) const {
  if (flush || now_ns >= c.request_ns + options_.max_hold_ns) return true;
  // A request still open that began before the call may turn out to hold it.
  return std::none_of(inflight_.begin(), inflight_.end(),
                      [&](const auto& kv) { return kv.second.start_ns <= c.request_ns; });
}

void Attributor::assign(const Call& c, Decisions& out) {
  std::vector<Test*> windows, same_thread;
  for (auto& t : tests_) {
    if (t.start_ns > c.request_ns) break;
    if (c.request_ns > t.end_ns) continue;
    windows.push_back(&t);
    if (c.tid != 0 && t.tid == c.tid) same_thread.push_back(&t);
  }
  if (same_thread.size() == 1) {
    same_thread[0]->calls.push_back(c.id);
    out.holders.emplace_back(c.id, 1);
    stats_.by_thread++;
  } else if (windows.size() == 1) {
    windows[0]->calls.push_back(c.id);
    out.holders.emplace_back(c.id, 1);
    stats_.by_window++;
  } else if (!windows.empty()) {
    auto& holders = same_thread.empty() ? windows : same_thread;
    for (Test* t : holders) t->calls.push_back(c.id);
    out.holders.emplace_back(c.id, holders.size());
    stats_.ambiguous++;
  } else {
    if (c.request_ns <= released_until_ns_) stats_.late++;
    stats_.session++;
    bool startup = first_request_ns_ == 0 || c.request_ns < first_request_ns_;
    (startup ? out.startup_calls : out.session_calls).push_back(c.id);
  }
}

Attributor::Decisions Attributor::decide(std::uint64_t now_ns, bool flush) {
  Decisions out;
  while (!calls_.empty() && decidable(calls_.front(), now_ns, flush)) {
    assign(calls_.front(), out);
    calls_.pop_front();
  }
  for (auto it = tests_.begin(); it != tests_.end();) {
    bool settled = flush || now_ns >= it->arrived_ns + options_.grace_ns;
    bool calls_decided = calls_.empty() || calls_.front().request_ns > it->end_ns;
    if (!settled || !calls_decided) {
      ++it;
      continue;
    }
    released_until_ns_ = std::max(released_until_ns_, it->end_ns);
    out.tests.push_back({it->id, std::move(it->calls)});
    it = tests_.erase(it);
  }
  return out;
}

}  // namespace reel::record
