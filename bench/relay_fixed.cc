// reel's relay with a fixed destination, no redirect and no root: what bench/relay.sh --fixed
// compares with HAProxy (`server s ADDR:PORT`) to tune the relay on its own. See bench/README.md.
//
//   bench_relay_fixed --to ADDR:PORT [--listen 127.0.0.1:0] [--threads N] [--buffer BYTES]
//                     [--splice 0|1]
//
// Prints {"listening":"ADDR:PORT"} once it accepts, runs until SIGINT/SIGTERM, then prints its
// counters as one JSON line.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "proxy/relay.h"

int main(int argc, char** argv) {
  using namespace reel;
  std::map<std::string, std::string> flags{{"listen", "127.0.0.1:0"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) break;
    flags[argv[i] + 2] = argv[i + 1];
  }
  auto to = parse_endpoint(flags["to"]);
  auto listen = parse_endpoint(flags["listen"]);
  if (!to || !listen) {
    std::fprintf(stderr,
                 "usage: bench_relay_fixed --to ADDR:PORT [--listen ADDR:PORT] "
                 "[--threads N] [--buffer BYTES] [--splice 0|1]\n");
    return 2;
  }
  // Blocked before the workers start so they inherit the mask and sigwait() below gets them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  RelayOptions opt;
  opt.listen = {*listen};
  if (flags.count("threads")) opt.threads = std::stoi(flags["threads"]);
  if (flags.count("buffer")) opt.buffer_bytes = std::stoul(flags["buffer"]);
  if (flags.count("splice")) opt.splice = flags["splice"] != "0";
  opt.destination = [dest = *to](int) -> Result<Endpoint> { return dest; };
  auto relay = Relay::start(std::move(opt));
  if (!relay) {
    std::fprintf(stderr, "bench_relay_fixed: %s\n", relay.error().message.c_str());
    return 1;
  }
  std::printf("{\"listening\":\"%s\"}\n", (*relay)->listening()[0].to_string().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  (*relay)->stop();
  auto s = (*relay)->stats();
  std::printf("{\"accepted\":%lu,\"upstream_failed\":%lu,\"bytes_up\":%lu,\"bytes_down\":%lu}\n",
              s.accepted, s.upstream_failed, s.bytes_up, s.bytes_down);
  return 0;
}
