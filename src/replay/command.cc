#include "replay/command.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/signals.h"
#include "kernel/privileges.h"
#include "mock/protocols.h"
#include "replay/environment.h"
#include "replay/h2_client.h"
#include "replay/http_client.h"
#include "replay/report.h"
#include "testset/config.h"
#include "testset/keploy_config.h"
#include "testset/noise.h"
#include "testset/reader.h"

namespace reel::replay {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

milliseconds from_seconds(double s) { return milliseconds(static_cast<std::int64_t>(s * 1000)); }

Result<std::vector<std::string>> chosen_sets(const std::string& dir,
                                             const std::vector<std::string>& wanted) {
  if (!fs::is_directory(dir))
    return fail_msg("{} does not exist: record test sets first (reel record -p {} -- CMD)", dir, dir);
  auto all = REEL_TRY(testset::list_test_sets(dir));
  if (wanted.empty()) {
    if (all.empty()) return fail_msg("no test sets under {}: record some with reel record", dir);
    return all;
  }
  for (const auto& w : wanted)
    if (std::find(all.begin(), all.end(), w) == all.end())
      return fail_msg("no test set {} under {} (there are: {})", w, dir, fmt::join(all, ", "));
  return wanted;
}

// Where the recorded requests go: --app-port, else the port they were recorded on.
std::uint16_t app_port_of(const testset::TestSet& set, std::uint16_t override_port) {
  if (override_port) return override_port;
  for (const auto& t : set.tests) {
    if (t.app_port) return t.app_port;
    std::string_view url = t.req.url;
    if (t.kind == testset::TestKind::kGrpc) {
      auto authority = t.grpc_req.headers.pseudo.find(":authority");
      url = authority == t.grpc_req.headers.pseudo.end() ? "" : authority->second;
    }
    auto scheme = url.find("://");
    std::string_view host = url.substr(scheme == url.npos ? 0 : scheme + 3);
    host = host.substr(0, host.find('/'));
    auto colon = host.rfind(':');
    if (colon != host.npos) {
      unsigned port = 0;
      auto [p, ec] = std::from_chars(host.data() + colon + 1, host.data() + host.size(), port);
      if (ec == std::errc() && port > 0 && port < 65536) return static_cast<std::uint16_t>(port);
    }
  }
  return 0;
}

bool accepts(const Endpoint& ep) {
  UniqueFd fd(::socket(ep.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = ep.to_sockaddr(ss);
  return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0;
}

Result<void> wait_ready(Environment& env, const Endpoint& app, const TestCommandOptions& o) {
  std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(o.ready_timeout_s * 1e9);
  if (o.delay_s > 0) {
    std::uint64_t until = monotonic_ns() + static_cast<std::uint64_t>(o.delay_s * 1e9);
    while (monotonic_ns() < until && !env.app_exited()) ::poll(nullptr, 0, 20);
  }
  testset::HttpRequest health;
  if (!o.health_url.empty()) {
    health.method = "GET";
    health.url = o.health_url;
  }
  for (;;) {
    if (auto code = env.app_exited())
      return fail_msg("the app exited with code {} before it was ready", *code);
    if (o.delay_s > 0 && o.health_url.empty()) return {};
    if (!o.health_url.empty()) {
      if (auto r = send_request(app, health, milliseconds(2000)); r && r->status_code < 500) return {};
    } else if (accepts(app)) {
      return {};
    }
    if (monotonic_ns() > deadline)
      return fail_msg("the app was not ready within {:.0f} s ({}); give --delay, --health-url or "
                      "--app-port",
                      o.ready_timeout_s,
                      o.health_url.empty() ? fmt::format("nothing accepted on {}", app.to_string())
                                           : o.health_url + " never answered below 500");
    ::poll(nullptr, 0, 50);
  }
}

std::vector<testset::NoiseRule> rules_for(const testset::ReelConfig& config, const std::string& set) {
  auto rules = config.noise.global;
  if (auto it = config.noise.test_sets.find(set); it != config.noise.test_sets.end())
    rules.insert(rules.end(), it->second.begin(), it->second.end());
  return rules;
}

// Mocks a set holds that reel cannot replay are said when the set is loaded, by file (and line
// where there is one), never left to surface as "no recorded answer" at replay.
void warn_unusable(const testset::TestSet& set) {
  std::string file = (set.dir / "mocks.yaml").string();
  for (const auto& [kind, n] : set.unknown_mock_kinds)
    spdlog::warn("{}: {} mocks of kind '{}', which reel cannot replay", file, n, kind);
  for (const auto& m : set.mocks) {
    if (m.kind == testset::MockKind::kPostgres) {
      if (auto why = mock::postgres_mock_problem(m); !why.empty())
        spdlog::warn("{}: {} (Postgres) cannot be replayed: {}", file, m.name, why);
    } else if (m.kind == testset::MockKind::kMySql) {
      if (auto why = mock::mysql_mock_problem(m); !why.empty())
        spdlog::warn("{}: {} (MySQL) cannot be replayed: {}", file, m.name, why);
    }
  }
}

// What a result says about its test before it runs: the name, the request line, the answer
// recorded.
TestResult result_for(const testset::TestCase& test) {
  TestResult r;
  r.name = test.name;
  if (test.kind == testset::TestKind::kGrpc) {
    r.grpc = true;
    r.method = "grpc";
    auto path = test.grpc_req.headers.pseudo.find(":path");
    r.url = path == test.grpc_req.headers.pseudo.end() ? "" : path->second;
    r.grpc_expected = test.grpc_resp;
  } else {
    r.method = test.req.method;
    r.url = test.req.url;
    r.expected = test.resp;
  }
  return r;
}

TestResult run_one(const testset::TestCase& test, const Endpoint& app, mock::MockPool& pool,
                   const std::vector<testset::NoiseRule>& rules, const TestCommandOptions& o) {
  TestResult r = result_for(test);
  r.started_unix_ns = static_cast<std::int64_t>(monotonic_ns()) + mono_to_real_offset_ns();
  std::uint64_t start = monotonic_ns();
  auto timeout = from_seconds(o.timeout_s);
  pool.begin_test(test.name);
  std::string error;
  if (r.grpc) {
    auto resp = send_grpc(app, test.grpc_req, timeout);
    if (resp)
      r.grpc_actual = std::move(*resp);
    else
      error = resp.error().message;
  } else {
    auto resp = test.req.proto_major == 2 ? send_h2_request(app, test.req, timeout)
                                          : send_request(app, test.req, timeout);
    if (resp)
      r.actual = std::move(*resp);
    else
      error = resp.error().message;
  }
  pool.begin_test("");
  r.duration_ns = monotonic_ns() - start;
  for (auto& u : pool.take_unmatched()) r.unmatched.push_back(std::move(u));
  if (!error.empty()) {
    r.error = std::move(error);
    return r;
  }
  auto noise = testset::NoiseSet::compile(test.noise, rules);
  if (!noise) {
    r.error = fmt::format("noise rules: {}", noise.error().message);
    return r;
  }
  if (r.grpc) {
    r.grpc_diff = testset::compare_grpc(test.grpc_resp, r.grpc_actual, *noise);
    r.passed = r.grpc_diff.passed();
  } else {
    r.diff = testset::compare_responses(test.resp, r.actual, *noise);
    r.passed = r.diff.passed();
  }
  return r;
}

// A request that failed because the app died says so: its socket closes as the process exits,
// a moment before waitpid() can see it, so wait briefly for the exit before deciding.
void blame_exit(Environment& env, TestResult& r) {
  std::uint64_t until = monotonic_ns() + 500'000'000ull;
  while (!env.app_exited() && monotonic_ns() < until) ::poll(nullptr, 0, 10);
  if (auto code = env.app_exited())
    r.error = fmt::format("the app exited with code {} during this test ({})", *code, r.error);
}

SetResult run_set(const std::string& dir, const std::string& name, const TestCommandOptions& o,
                  const testset::ReelConfig& config, bool color, int signal_fd, bool& interrupted) {
  SetResult result;
  result.name = name;
  std::uint64_t start = monotonic_ns();
  auto loaded = testset::load_test_set(fs::path(dir) / name);
  if (!loaded) {
    result.error = loaded.error().message;
    return result;
  }
  testset::TestSet& set = *loaded;
  warn_unusable(set);
  std::vector<mock::TestWindow> windows;
  for (const auto& t : set.tests) {
    if (t.kind == testset::TestKind::kGrpc)
      windows.push_back({t.name, t.grpc_req.timestamp, t.grpc_resp.timestamp});
    else
      windows.push_back({t.name, t.req.timestamp, t.resp.timestamp});
  }
  mock::MockPool pool(set.mocks, std::move(windows));
  auto env = Environment::start(pool, "test");
  if (!env) {
    result.error = env.error().message;
    return result;
  }
  std::uint16_t port = app_port_of(set, o.app_port);
  if (port == 0) {
    result.error = "the tests name no port to send them to: give --app-port";
    return result;
  }
  Endpoint app{*parse_ip("127.0.0.1"), port};
  std::fprintf(stderr, "%s: %zu tests, %zu mocks; app on %s\n", name.c_str(), set.tests.size(),
               set.mocks.size(), app.to_string().c_str());
  // Another process on the app's port would answer in the app's place, against real
  // dependencies: refuse rather than report its answers.
  if (accepts(app)) {
    result.error = fmt::format("something already listens on {}: stop it (the app under test "
                               "must be the one answering there)",
                               app.to_string());
    return result;
  }
  if (auto r = (*env)->spawn(o.command, o.user); !r) {
    result.error = r.error().message;
    return result;
  }
  if (auto r = wait_ready(**env, app, o); !r) {
    result.error = r.error().message;
    (*env)->stop_app(milliseconds(1000));
    result.unmatched_outside = pool.take_unmatched();
    result.mocks = pool.stats();  // the counts beside the calls just listed
    return result;
  }
  result.unmatched_outside = pool.take_unmatched();  // start-up calls
  const auto rules = rules_for(config, name);
  for (const auto& test : set.tests) {
    while (int sig = read_signal(signal_fd))
      if (sig != SIGCHLD) interrupted = true;
    if (interrupted) break;
    TestResult r;
    if (auto code = (*env)->app_exited()) {
      r = result_for(test);
      r.error = fmt::format("the app exited with code {} before this test", *code);
    } else {
      r = run_one(test, app, pool, rules, o);
      if (!r.error.empty()) blame_exit(**env, r);
    }
    print_test(stderr, r, color);
    result.tests.push_back(std::move(r));
  }
  (*env)->stop_app(milliseconds(3000));
  for (auto& u : pool.take_unmatched()) result.unmatched_outside.push_back(std::move(u));
  result.mocks = pool.stats();
  result.duration_ns = monotonic_ns() - start;
  return result;
}

// Keploy's keploy.yml beside the test sets' directory (or in the working directory) fills in
// what the flags left open: the command, the port, the delay, the test sets, noise.
Result<void> apply_keploy_config(TestCommandOptions& o, testset::ReelConfig& config) {
  for (fs::path where : {fs::absolute(o.dir).parent_path() / "keploy.yml", fs::path("keploy.yml")}) {
    auto found = REEL_TRY(testset::load_keploy_config(where));
    if (!found) continue;
    std::vector<std::string> used;
    if (o.command.empty() && !found->command.empty()) {
      o.command = {"/bin/sh", "-c", found->command};
      used.push_back("command");
    }
    if (o.app_port == 0 && found->port != 0) {
      o.app_port = found->port;
      used.push_back(fmt::format("port {}", found->port));
    }
    if (o.delay_s == 0 && o.health_url.empty() && found->delay_s) {
      o.delay_s = *found->delay_s;
      used.push_back(fmt::format("delay {} s", o.delay_s));
    }
    if (o.test_sets.empty() && !found->test_sets.empty()) {
      o.test_sets = found->test_sets;
      used.push_back(fmt::format("test sets {}", fmt::join(o.test_sets, ",")));
    }
    std::size_t rules = found->noise.global.size();
    config.noise.global.insert(config.noise.global.end(), found->noise.global.begin(),
                               found->noise.global.end());
    for (auto& [set, list] : found->noise.test_sets) {
      rules += list.size();
      auto& into = config.noise.test_sets[set];
      into.insert(into.end(), list.begin(), list.end());
    }
    if (rules) used.push_back(fmt::format("{} noise rules", rules));
    spdlog::info("read {}: {}", where.string(), used.empty() ? "nothing reel uses" : fmt::format("{}", fmt::join(used, ", ")));
    return {};
  }
  return {};
}

Result<int> test(const TestCommandOptions& given) {
  REEL_TRY(require_privileges("test"));
  TestCommandOptions o = given;
  testset::ReelConfig config = REEL_TRY(testset::load_reel_config(o.config));
  REEL_TRY(apply_keploy_config(o, config));
  if (o.command.empty()) return fail_msg("give the app to test: reel test -- CMD ARGS...");
  std::string junit;
  if (!o.report.empty()) {
    if (!o.report.starts_with("junit:") || o.report.size() == 6)
      return fail_msg("--report: expected junit:FILE, got '{}'", o.report);
    junit = o.report.substr(6);
  }
  auto names = REEL_TRY(chosen_sets(o.dir, o.test_sets));
  auto signal_fd = REEL_TRY(block_signals_to_fd({SIGINT, SIGTERM, SIGCHLD, SIGHUP}));
  sweep_stale_cgroups();
  bool color = ::isatty(STDERR_FILENO);
  bool interrupted = false;
  std::vector<SetResult> sets;
  for (const auto& name : names) {
    if (interrupted) break;
    sets.push_back(run_set(o.dir, name, o, config, color, signal_fd.get(), interrupted));
  }
  auto run_dir = write_yaml_reports(o.dir, sets);
  if (!run_dir) spdlog::error("report: {}", run_dir.error().message);
  if (!junit.empty())
    if (auto r = write_junit(junit, sets); !r) spdlog::error("JUnit report: {}", r.error().message);
  std::fputc('\n', stderr);
  print_summary(stderr, sets, color);
  if (run_dir) std::fprintf(stderr, "report: %s\n", run_dir->c_str());
  if (o.json) std::fputs(json_summary(sets).c_str(), stdout);
  if (interrupted) return 130;
  for (const auto& s : sets)
    if (!s.ok()) return 1;
  return 0;
}

Result<int> mock_only(const MockCommandOptions& o) {
  REEL_TRY(require_privileges("mock"));
  if (o.command.empty()) return fail_msg("give the command to run: reel mock -- CMD ARGS...");
  auto names = REEL_TRY(chosen_sets(o.dir, o.test_sets));
  std::vector<testset::Mock> mocks;
  for (const auto& name : names) {
    auto set = REEL_TRY(testset::load_test_set(fs::path(o.dir) / name));
    warn_unusable(set);
    for (auto& m : set.mocks) mocks.push_back(std::move(m));
  }
  auto signal_fd = REEL_TRY(block_signals_to_fd({SIGINT, SIGTERM, SIGCHLD, SIGHUP}));
  sweep_stale_cgroups();
  std::size_t count = mocks.size();
  mock::MockPool pool(std::move(mocks), {});
  auto env = REEL_TRY(Environment::start(pool, "mock"));
  REEL_TRY(env->spawn(o.command, o.user));
  spdlog::info("serving {} mocks from {} to {}", count, fmt::join(names, ", "), o.command[0]);
  std::optional<int> code;
  while (!(code = env->app_exited())) {
    pollfd p{signal_fd.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
    while (int sig = read_signal(signal_fd.get()))
      if (sig != SIGCHLD) ::kill(env->app(), sig);
  }
  env->stop_app(milliseconds(0));
  auto stats = pool.stats();
  auto misses = pool.take_unmatched();
  std::fprintf(stderr, "mocks: %llu exact, %llu structural, %llu unmatched; %llu connections "
               "rejected (input that did not parse)\n",
               (unsigned long long)stats.exact, (unsigned long long)stats.structural,
               (unsigned long long)stats.unmatched,
               (unsigned long long)env->server().stats().rejected);
  for (const auto& u : misses)
    std::fprintf(stderr, "  no recorded answer: %s %s %s\n",
                 std::string(testset::mock_kind_name(u.kind)).c_str(), u.server.to_string().c_str(),
                 u.summary.c_str());
  return *code;
}

template <typename F, typename O>
int report_errors(const char* name, F&& f, const O& opts) {
  auto r = f(opts);
  if (!r) {
    std::fprintf(stderr, "reel %s: %s\n", name, r.error().message.c_str());
    return 2;
  }
  return *r;
}

}  // namespace

int run_test(const TestCommandOptions& opts) { return report_errors("test", test, opts); }
int run_mock(const MockCommandOptions& opts) { return report_errors("mock", mock_only, opts); }

}  // namespace reel::replay
