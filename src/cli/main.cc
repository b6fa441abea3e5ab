// reel: argument parsing and wiring only.
#include <CLI/CLI.hpp>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdlib>

#include "core/user.h"
#include "doctor/doctor.h"
#include "record/command.h"
#include "redirect/command.h"
#include "replay/command.h"
#include "tls/ca_command.h"
#include "trace/command.h"

namespace {

void setup_logging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("reel");
  logger->set_pattern("reel: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=trace shows libbpf's own messages
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"reel: record what a Linux service says on the network, and play it back"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("--debug", verbose, "debug logging (SPDLOG_LEVEL=trace for libbpf's own)");
  // --user on every command that starts a target command. Without it the target runs as reel's
  // own user: root, also under sudo.
  std::string user_name;
  auto add_user = [&](CLI::App* cmd) {
    cmd->add_option("--user", user_name,
                    "run the command as USER (its uid, groups, HOME) while reel keeps root; "
                    "default: reel's own user (root, even under sudo)");
  };

  reel::RedirectOptions ro;
  auto* redirect = app.add_subcommand(
      "redirect", "steer a process tree's outbound TCP connections to a transparent proxy");
  redirect->add_option("--to", ro.to,
                       "builtin (reel's own relay) or the proxy's HOST:PORT; give one IPv4 and "
                       "one IPv6 address to cover both families")
      ->required()
      ->allow_extra_args(false);
  redirect->add_option("--cgroup", ro.cgroup, "redirect an existing cgroup v2 directory");
  redirect->add_option("--pid", ro.pid, "redirect the cgroup that PID is in");
  redirect->add_option("--proxy-cgroup", ro.proxy_cgroup,
                       "cgroup where the proxy runs (default: found from its listening socket, "
                       "else the cgroup2 root)");
  redirect->add_option("--ports", ro.ports, "only these destination ports, e.g. 80,443,8000-8100");
  redirect->add_option("--exclude", ro.exclude, "CIDR, IP or IP:PORT never redirected (repeatable)")
      ->allow_extra_args(false);
  redirect->add_option("--include", ro.include, "only destinations in these CIDRs (repeatable)")
      ->allow_extra_args(false);
  redirect->add_option("--dns", ro.dns, "also steer DNS (UDP and TCP port 53) to this HOST:PORT");
  redirect->add_flag("--events", ro.events, "print each decision live");
  redirect->add_flag("--json", ro.json, "print events as JSON lines");
  redirect->footer("Target: -- CMD ARGS... (start CMD in a new cgroup), --cgroup PATH or --pid PID.");

  add_user(redirect);
  reel::RelayCommandOptions relay_opts;
  auto* relay = app.add_subcommand(
      "relay", "transparent TCP relay: forwards each connection to its SO_ORIGINAL_DST");
  relay->add_option("--listen", relay_opts.listen, "ADDR:PORT to accept on (repeatable)")
      ->required()
      ->allow_extra_args(false);
  relay->add_option("--threads", relay_opts.threads, "worker threads (default: one per CPU)");

  reel::trace::TraceOptions to;
  auto* trace = app.add_subcommand("trace", "live L7 view of a process: HTTP, PostgreSQL, Redis, MySQL, DNS");
  trace->add_option("--pid", to.pid, "trace PID and its children");
  trace->add_option("--cgroup", to.cgroup, "trace every process in a cgroup v2 directory");
  trace->add_option("--protocol", to.filter.protocols, "only these: http,pgsql,redis,mysql,dns");
  trace->add_option("--method", to.filter.method, "only this method or command (GET, SET, Query, ...)");
  trace->add_option("--path", to.filter.path, "only targets (path, statement, key) matching this regex");
  trace->add_option("--status", to.filter.status,
                    "only these statuses: HTTP (404, 5xx) or, for gRPC calls, codes by number or "
                    "name (5, NOT_FOUND)");
  trace->add_option("--host", to.filter.host, "only this Host header or server address");
  trace->add_option("--min-latency", to.filter.min_latency, "only exchanges slower than this, e.g. 10ms");
  trace->add_option("--max-body", to.max_body, "body bytes kept per message (default 64k)");
  trace->add_option("--format", to.format, "pretty (default), json (one object per line) or har");
  trace->add_option("-o,--output", to.output, "write exchanges to FILE instead of stdout");
  trace->add_option("--duration", to.duration, "stop after this long, e.g. 30s");
  trace->add_option("--count", to.count, "stop after N exchanges");
  trace->add_flag("-v,--verbose", to.verbose, "show headers and bodies (pretty format)");
  trace->footer("Target: -- CMD ARGS... (start CMD and trace it), --pid PID or --cgroup PATH.");

  add_user(trace);
  reel::record::RecordCommandOptions rec;
  auto* record = app.add_subcommand(
      "record", "record an app: calls into it become test cases, calls it makes become mocks");
  record->add_option("-p,--path", rec.dir, "directory for test sets (default ./reel)");
  record->add_option("--app-port", rec.app_port, "only requests to this port become test cases");
  record->add_option("--passthrough", rec.passthrough,
                     "HOST, HOST:PORT or CIDR the app reaches directly, unrecorded (repeatable)")
      ->allow_extra_args(false);
  record->add_option("--config", rec.config, "noise and redaction rules (default ./reel.yaml)");
  record->add_option("--dns-upstream", rec.dns_upstream,
                     "resolver for the app's DNS queries (default: /etc/resolv.conf)");
  record->add_flag("--no-dns", rec.no_dns, "leave DNS alone: no DNS mocks");
  record->add_flag("--strict", rec.strict,
                   "exit 3 when the recording, replayed to itself, would not replay as recorded");
  record->add_flag("--no-tls", rec.no_tls, "record TLS connections as opaque bytes (no interception)");
  record->add_flag("--insecure-upstream", rec.insecure_upstream,
                   "intercepted TLS: do not verify the upstream's certificate");
  record->add_option("--upstream-ca", rec.upstream_cas,
                     "intercepted TLS: also trust this CA (PEM file) upstream (repeatable)")
      ->allow_extra_args(false);
  record->add_option("--pid", rec.pid,
                     "record PID and its children as they run, from the capture alone: no "
                     "restart, no redirect, no proxy");
  record->add_option("--cgroup", rec.cgroup, "record every process in a cgroup v2 directory, passively");
  record->add_flag("--passive", rec.passive,
                   "with -- CMD: start CMD as is and record it passively (nothing in its path)");
  record->add_option("--duration", rec.duration, "passive: detach after this long, e.g. 60s");
  record->add_option("--max-tests", rec.max_tests, "passive: detach after N tests");
  record->add_option("--sample", rec.sample,
                     "passive: share of each endpoint's requests made tests, e.g. 0.1 (default 1)");
  record->add_option("--max-per-endpoint", rec.max_per_endpoint,
                     "passive: at most N tests per method and path shape (GET /users/:id)");
  record->add_option("--max-body", rec.max_body,
                     "passive: bytes captured per message (default 1m); longer ones are kept cut "
                     "and marked");
  record->footer("Target: -- CMD ARGS... (started in a new cgroup, its outbound connections "
                 "through reel's relay), or passively: --pid PID, --cgroup PATH, --passive -- CMD. "
                 "Ctrl-C ends the recording; every finished test is already on disk. A passive "
                 "recording leaves a running app as it was and writes an audit line to the "
                 "system log.");

  add_user(record);
  reel::replay::TestCommandOptions tst;
  auto* test = app.add_subcommand(
      "test", "replay recorded test cases against the app, every dependency served from mocks");
  test->add_option("-p,--path", tst.dir, "directory of test sets (default ./reel)");
  test->add_option("--test-sets", tst.test_sets, "only these test sets, e.g. test-set-0,test-set-2")
      ->delimiter(',')
      ->allow_extra_args(false);
  test->add_option("--delay", tst.delay_s, "seconds to wait for the app instead of polling its port");
  test->add_option("--health-url", tst.health_url, "poll this URL until it answers below 500");
  test->add_option("--app-port", tst.app_port, "send requests here (default: the recorded port)");
  test->add_option("--timeout", tst.timeout_s, "seconds to wait for each response (default 10)");
  test->add_option("--report", tst.report, "also write junit:FILE");
  test->add_flag("--json", tst.json, "print a JSON summary on stdout");
  test->add_option("--config", tst.config, "noise rules (default ./reel.yaml)");
  test->footer("Target: -- CMD ARGS... (the build under test). Exit code 0 when every test "
               "passed, 1 when one failed, 2 on an error.");

  add_user(test);
  reel::replay::MockCommandOptions mck;
  auto* mock = app.add_subcommand(
      "mock", "run a command with every dependency served from recorded mocks (no network)");
  mock->add_option("-p,--path", mck.dir, "directory of test sets (default ./reel)");
  mock->add_option("--test-sets", mck.test_sets, "only the mocks of these test sets")
      ->delimiter(',')
      ->allow_extra_args(false);
  mock->footer("Target: -- CMD ARGS... (e.g. the app's own test suite). Exit code: the command's.");

  add_user(mock);
  std::string ca_action;
  auto* ca = app.add_subcommand("ca", "reel's local CA, which signs what the app sees of its TLS "
                                      "dependencies");
  ca->add_option("action", ca_action, "path (print the CA certificate's path), install (trust it "
                                      "system-wide), uninstall")
      ->required()
      ->check(CLI::IsMember({"path", "install", "uninstall"}));

  bool doctor_json = false;
  auto* doctor = app.add_subcommand("doctor", "check what reel can do on this machine");
  doctor->add_flag("--json", doctor_json, "print the checks as JSON");

  // Everything after the first "--" is the target command, passed on untouched.
  std::vector<std::string> command;
  int front = argc;
  for (int i = 1; i < argc; i++)
    if (std::string_view(argv[i]) == "--") {
      front = i;
      command.assign(argv + i + 1, argv + argc);
      break;
    }
  CLI11_PARSE(app, front, argv);
  ro.command = command;
  to.command = command;
  rec.command = command;
  tst.command = command;
  mck.command = command;
  setup_logging(verbose);

  // Files reel writes belong to whoever ran `sudo reel`, not to root.
  reel::set_file_owner(
      reel::sudo_owner(std::getenv("SUDO_UID"), std::getenv("SUDO_GID"), ::geteuid()));
  if (!user_name.empty()) {
    if (command.empty()) {
      std::fprintf(stderr, "reel: --user applies to a command reel starts: give it after --\n");
      return 2;
    }
    auto who = reel::resolve_user(user_name);
    if (!who) {
      std::fprintf(stderr, "reel: %s\n", who.error().message.c_str());
      return 2;
    }
    ro.user = to.user = rec.user = tst.user = mck.user = *who;
  }

  if (*redirect) return reel::run_redirect(ro);
  if (*relay) return reel::run_relay(relay_opts);
  if (*trace) return reel::trace::run_trace(to);
  if (*record) return reel::record::run_record(rec);
  if (*test) return reel::replay::run_test(tst);
  if (*mock) return reel::replay::run_mock(mck);
  if (*doctor) return reel::run_doctor(doctor_json);
  if (*ca) return reel::tls::run_ca(ca_action);
  return 2;
}
