// The pool of recorded mocks a replay answers from: who may use which mock, and which one wins.
#include <algorithm>

#include "mock/mock.h"

namespace reel::mock {

struct MockPool::Entry {
  testset::Mock mock;
  Scope scope = Scope::kSession;
  std::string test;                // owning test when scope is kTest
  std::optional<Endpoint> server;  // from reel.server
  std::uint64_t used_seq = 0;      // 0: never used; else the order of its last use
};

namespace {

const std::string* meta(const testset::Mock& m, std::string_view key) {
  auto it = m.metadata.find(std::string(key));
  return it == m.metadata.end() ? nullptr : &it->second;
}

// The test a mock was recorded in: reel.test, else the window its request falls in.
std::string owning_test(const testset::Mock& m, const std::vector<TestWindow>& tests) {
  if (const auto* t = meta(m, kMetaTest); t && !t->empty()) return *t;
  if (m.req_timestamp.is_zero()) return {};
  std::int64_t at = m.req_timestamp.unix_ns;
  for (const auto& w : tests) {
    if (at >= w.start.unix_ns && at <= w.end.unix_ns) return w.name;
  }
  return {};
}

}  // namespace

MockPool::MockPool(std::vector<testset::Mock> mocks, std::vector<TestWindow> tests) {
  entries_.reserve(mocks.size());
  for (auto& m : mocks) {
    Entry e;
    const std::string* type = meta(m, kMetaType);
    if (type == nullptr || *type != "config") {
      e.test = owning_test(m, tests);
      if (!e.test.empty()) e.scope = Scope::kTest;
    }
    if (const auto* s = meta(m, kMetaServer); s && !s->empty()) {
      if (auto ep = parse_endpoint(*s)) e.server = *ep;
    }
    e.mock = std::move(m);
    entries_.push_back(std::move(e));
  }
}

MockPool::~MockPool() = default;

void MockPool::begin_test(std::string name) {
  std::lock_guard lock(mu_);
  current_ = std::move(name);
}

std::string MockPool::current_test() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::optional<MockPool::Pick> MockPool::pick(testset::MockKind kind, const Endpoint& server,
                                             const std::function<Fit(const testset::Mock&)>& fit) {
  std::string test = current_test();
  bool named = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return e.mock.kind == kind && e.server && *e.server == server;
  });
  // Mocks never change after construction, so rating them needs no lock; only the used marks do.
  struct Rated {
    std::size_t index;
    Fit fit;
  };
  std::vector<Rated> test_group, session_group;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (e.mock.kind != kind) continue;
    if (named && !(e.server && *e.server == server)) continue;
    bool in_test = e.scope == Scope::kTest;
    if (!test.empty() && in_test && e.test != test) continue;  // another test's call
    Fit f = fit(e.mock);
    if (f == Fit::kNone) continue;
    // With no test running every mock is one candidate list in recorded order.
    (test.empty() || !in_test ? session_group : test_group).push_back({i, f});
  }
  std::lock_guard lock(mu_);
  for (auto* group : {&test_group, &session_group}) {
    if (group->empty()) continue;
    Fit best = Fit::kNone;
    for (const auto& r : *group) best = std::max(best, r.fit);
    Entry* chosen = nullptr;
    Entry* last_used = nullptr;
    for (const auto& r : *group) {
      if (r.fit != best) continue;
      Entry& e = entries_[r.index];
      if (e.used_seq == 0) {
        chosen = &e;
        break;
      }
      if (last_used == nullptr || e.used_seq > last_used->used_seq) last_used = &e;
    }
    if (chosen == nullptr) chosen = last_used;
    // Every pick counts once in exact or structural, so their sum orders the uses.
    chosen->used_seq = stats_.exact + stats_.structural + 1;
    (best == Fit::kExact ? stats_.exact : stats_.structural)++;
    if (keep_picks_) picks_.push_back(&chosen->mock);
    return Pick{&chosen->mock, best, chosen->scope};
  }
  return std::nullopt;
}

std::vector<testset::MockKind> MockPool::kinds_for(const Endpoint& server) const {
  std::vector<testset::MockKind> out;
  for (const auto& e : entries_) {
    if (!e.server || *e.server != server) continue;
    if (std::find(out.begin(), out.end(), e.mock.kind) == out.end()) out.push_back(e.mock.kind);
  }
  return out;
}

bool MockPool::joined(testset::MockKind kind, const Endpoint& server) const {
  bool named = false, joined_named = false, joined_any = false;
  for (const auto& e : entries_) {
    if (e.mock.kind != kind) continue;
    auto it = e.mock.metadata.find(std::string(kMetaJoined));
    bool j = it != e.mock.metadata.end() && it->second == "true";
    joined_any = joined_any || j;
    if (e.server && *e.server == server) {
      named = true;
      joined_named = joined_named || j;
    }
  }
  return named ? joined_named : joined_any;
}

std::vector<const testset::Mock*> MockPool::all_of(testset::MockKind kind) const {
  std::vector<const testset::Mock*> out;
  for (const auto& e : entries_) {
    if (e.mock.kind == kind) out.push_back(&e.mock);
  }
  return out;
}

void MockPool::record_unmatched(Unmatched miss) {
  std::lock_guard lock(mu_);
  stats_.unmatched++;
  unmatched_.push_back(std::move(miss));
}

std::vector<const testset::Mock*> MockPool::take_picks() {
  std::lock_guard lock(mu_);
  return std::exchange(picks_, {});
}

std::vector<Unmatched> MockPool::take_unmatched() {
  std::lock_guard lock(mu_);
  return std::exchange(unmatched_, {});
}

PoolStats MockPool::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace reel::mock
