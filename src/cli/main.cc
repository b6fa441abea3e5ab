// reel: argument parsing and wiring only.
#include <CLI/CLI.hpp>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "doctor/doctor.h"
#include "redirect/command.h"

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
  app.add_flag("-v,--verbose", verbose, "debug logging");

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

  reel::RelayCommandOptions relay_opts;
  auto* relay = app.add_subcommand(
      "relay", "transparent TCP relay: forwards each connection to its SO_ORIGINAL_DST");
  relay->add_option("--listen", relay_opts.listen, "ADDR:PORT to accept on (repeatable)")
      ->required()
      ->allow_extra_args(false);
  relay->add_option("--threads", relay_opts.threads, "worker threads (default: one per CPU)");

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
  setup_logging(verbose);

  if (*redirect) return reel::run_redirect(ro);
  if (*relay) return reel::run_relay(relay_opts);
  if (*doctor) return reel::run_doctor(doctor_json);
  return 2;
}
