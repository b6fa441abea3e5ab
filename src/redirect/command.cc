#include "redirect/command.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>

#include "core/process.h"
#include "core/signals.h"
#include "kernel/cgroup.h"
#include "kernel/privileges.h"
#include "kernel/proc_net.h"
#include "proxy/relay.h"
#include "redirect/event_format.h"
#include "redirect/redirector.h"

namespace reel {

namespace {

struct ProxySetup {
  std::optional<Endpoint> v4, v6;
  std::unique_ptr<Relay> relay;  // when --to builtin
  std::vector<pid_t> pids;       // processes holding the proxy's listening socket
};

Result<RedirectRules> parse_rules(const RedirectOptions& o) {
  RedirectRules r;
  if (!o.ports.empty()) r.ports = REEL_TRY(with_context(parse_port_ranges(o.ports), "--ports"));
  for (const auto& x : o.exclude) {
    // IP:PORT or [IPv6]:PORT is an exact exclusion; anything else is a CIDR or a bare address.
    bool has_port = x.starts_with('[') || (x.find(':') != std::string::npos &&
                                            x.find(':') == x.rfind(':') && x.find('/') == x.npos);
    if (has_port) {
      r.exclude_exact.push_back(REEL_TRY(
          with_context(parse_endpoint(x), "--exclude")));
    } else {
      r.exclude.push_back(REEL_TRY(
          with_context(parse_cidr(x), "--exclude")));
    }
  }
  for (const auto& x : o.include)
    r.include.push_back(REEL_TRY(
        with_context(parse_cidr(x), "--include")));
  return r;
}

Result<ProxySetup> setup_proxy(const RedirectOptions& o) {
  ProxySetup p;
  if (o.to.size() == 1 && o.to[0] == "builtin") {
    RelayOptions ro;
    ro.listen = {REEL_TRY(parse_endpoint("127.0.0.1:0")), REEL_TRY(parse_endpoint("[::1]:0"))};
    p.relay = REEL_TRY(Relay::start(std::move(ro)));
    for (const auto& ep : p.relay->listening()) (ep.ip.is_v4() ? p.v4 : p.v6) = ep;
    p.pids.push_back(::getpid());
    return p;
  }
  for (const auto& t : o.to) {
    if (t == "builtin") return fail_msg("--to builtin cannot be combined with another --to");
    Endpoint ep = REEL_TRY(with_context(parse_endpoint(t), "--to"));
    if (ep.ip.is_unspecified() || ep.port == 0)
      return fail_msg("--to {}: give the address the proxy accepts on, e.g. 127.0.0.1:15001",
                      t);
    auto& slot = ep.ip.is_v4() ? p.v4 : p.v6;
    if (slot) return fail_msg("--to given twice for IPv{}", ep.ip.is_v4() ? 4 : 6);
    slot = ep;
    auto inode = find_listener_inode(ep);
    if (!inode) {
      spdlog::warn("nothing is listening on {} yet: redirected connections will be refused until "
                   "the proxy starts",
                   ep.to_string());
      continue;
    }
    for (pid_t pid : pids_holding_socket(*inode)) p.pids.push_back(pid);
  }
  return p;
}

// SO_ORIGINAL_DST must be answered where the proxy's accepted sockets live.
Result<Cgroup> proxy_cgroup(const RedirectOptions& o, const ProxySetup& p) {
  if (!o.proxy_cgroup.empty()) return Cgroup::open(o.proxy_cgroup);
  if (p.relay) return Cgroup::of_pid(::getpid());
  if (p.pids.size() == 1) return Cgroup::of_pid(p.pids[0]);
  // Unknown or several processes: the root covers any proxy, wherever it runs or restarts.
  return Cgroup::root();
}

Result<Cgroup> target_cgroup(const RedirectOptions& o) {
  int given = !o.command.empty() + !o.cgroup.empty() + (o.pid != 0);
  if (given != 1) return fail_msg("give exactly one target: -- CMD ARGS..., --cgroup PATH or --pid PID");
  if (!o.cgroup.empty()) return Cgroup::open(o.cgroup);
  if (o.pid != 0) {
    Cgroup cg = REEL_TRY(Cgroup::of_pid(o.pid));
    Cgroup root = REEL_TRY(Cgroup::root());
    if (cg.id() == root.id())
      return fail_msg("pid {} is in the root cgroup: redirecting it would redirect every process "
                      "on this machine. Start it under reel (reel redirect ... -- CMD), or move it "
                      "to a cgroup of its own and pass --cgroup PATH",
                      o.pid);
    return cg;
  }
  return Cgroup::create_child(fmt::format("{}-redirect", ::getpid()));
}

struct RunState {
  Redirector* redirector;
  EventPrinter* printer;
  pid_t child = 0;
  int exit_code = 0;
};

// Runs until the command exits (when reel started it) or SIGINT/SIGTERM.
Result<void> main_loop(RunState& st, int signal_fd) {
  for (;;) {
    if (st.printer) {
      REEL_TRY(st.redirector->poll_events(100, [&](const RedirectEvent& e) { st.printer->print(e); }));
    } else {
      pollfd pfd{signal_fd, POLLIN, 0};
      ::poll(&pfd, 1, 200);
    }
    while (int sig = read_signal(signal_fd)) {
      if (sig == SIGCHLD) continue;
      if (st.child) ::kill(st.child, sig);  // let the command decide how to stop
      else return {};
    }
    if (st.child) {
      int status;
      pid_t r = ::waitpid(st.child, &status, WNOHANG);
      if (r == st.child) {
        st.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (st.printer)  // drain what is left
          (void)st.redirector->poll_events(0, [&](const RedirectEvent& e) { st.printer->print(e); });
        return {};
      }
    }
  }
}

Result<int> redirect(const RedirectOptions& o) {
  REEL_TRY(require_privileges("redirect"));
  if (o.to.empty()) return fail_msg("--to is required: --to builtin or --to HOST:PORT");
  RedirectConfig config;
  config.rules = REEL_TRY(parse_rules(o));
  config.events = o.events || o.json;
  if (!o.dns.empty()) {
    Endpoint dns = REEL_TRY(with_context(parse_endpoint(o.dns), "--dns"));
    (dns.ip.is_v4() ? config.dns4 : config.dns6) = dns;
  }
  auto signal_fd = REEL_TRY(block_signals_to_fd({SIGINT, SIGTERM, SIGCHLD, SIGHUP}));
  sweep_stale_cgroups();
  ProxySetup proxy = REEL_TRY(setup_proxy(o));
  config.proxy4 = proxy.v4;
  config.proxy6 = proxy.v6;

  auto redirector = REEL_TRY(Redirector::load(config));
  Cgroup pcg = REEL_TRY(proxy_cgroup(o, proxy));
  REEL_TRY(redirector->attach_proxy(pcg.fd()));
  REEL_TRY(redirector->skip_process(::getpid()));
  for (pid_t pid : proxy.pids) REEL_TRY(redirector->skip_process(pid));
  Cgroup target = REEL_TRY(target_cgroup(o));
  REEL_TRY(redirector->attach_target(target.fd()));

  spdlog::info("redirecting {} to {}{}{}", target.path(),
               proxy.v4 ? proxy.v4->to_string() : "", proxy.v4 && proxy.v6 ? " and " : "",
               proxy.v6 ? proxy.v6->to_string() : "");
  if (!proxy.v6) spdlog::info("no IPv6 proxy address: IPv6 destinations pass through unchanged");
  if (!proxy.v4) spdlog::info("no IPv4 proxy address: IPv4 destinations pass through unchanged");

  std::unique_ptr<EventPrinter> printer;
  if (config.events) printer = std::make_unique<EventPrinter>(o.json, stdout);
  RunState st{redirector.get(), printer.get()};
  if (!o.command.empty())
    st.child = REEL_TRY(spawn({.argv = o.command, .cgroup_fd = target.fd(), .extra_env = {}, .user = o.user}));
  REEL_TRY(main_loop(st, signal_fd.get()));

  RelayStats rs{};
  if (proxy.relay) {
    // The command has exited; let connections it closed finish their orderly shutdown with the
    // upstream before the relay resets whatever is left.
    proxy.relay->stop(std::chrono::seconds(2));
    rs = proxy.relay->stats();
  }
  print_summary(stderr, redirector->counters(), proxy.relay ? &rs : nullptr);
  return st.exit_code;
}

}  // namespace

int run_redirect(const RedirectOptions& opts) {
  auto r = redirect(opts);
  if (!r) {
    std::fprintf(stderr, "reel redirect: %s\n", r.error().message.c_str());
    return 2;
  }
  return *r;
}

int run_relay(const RelayCommandOptions& opts) {
  auto run = [&]() -> Result<int> {
    RelayOptions ro;
    for (const auto& l : opts.listen)
      ro.listen.push_back(REEL_TRY(with_context(parse_endpoint(l), "--listen")));
    if (ro.listen.empty()) return fail_msg("--listen ADDR:PORT is required");
    ro.threads = opts.threads;
    auto signal_fd = REEL_TRY(block_signals_to_fd({SIGINT, SIGTERM, SIGHUP}));
    auto relay = REEL_TRY(Relay::start(std::move(ro)));
    for (const auto& ep : relay->listening()) spdlog::info("relay listening on {}", ep.to_string());
    for (;;) {
      pollfd pfd{signal_fd.get(), POLLIN, 0};
      if (::poll(&pfd, 1, -1) > 0 && read_signal(signal_fd.get())) break;
    }
    relay->stop();
    RelayStats rs = relay->stats();
    print_relay_summary(stderr, rs);
    return 0;
  };
  auto r = run();
  if (!r) {
    std::fprintf(stderr, "reel relay: %s\n", r.error().message.c_str());
    return 2;
  }
  return *r;
}

}  // namespace reel
