#include "proxy/relay.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <system_error>

#include "proxy/listener.h"
#include "proxy/original_dst.h"
#include "proxy/worker.h"

namespace reel {
namespace {

int cpu_count() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// A relayed connection holds two sockets and, while bytes are in flight, two pipes: the usual
// soft limit of 1024 descriptors would cap the relay near 250 busy connections.
void raise_descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  if (rl.rlim_max == RLIM_INFINITY) return;
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

Result<RelayOptions> validated(RelayOptions options) {
  if (options.listen.empty()) return fail_msg("relay: no endpoint to listen on");
  if (options.buffer_bytes < 4096)
    return fail_msg("relay: buffer of {} bytes is too small (minimum 4096)", options.buffer_bytes);
  if (options.threads < 0) return fail_msg("relay: {} threads", options.threads);
  if (options.threads == 0) options.threads = cpu_count();
  if (!options.destination) options.destination = original_destination;
  return options;
}

}  // namespace

Result<std::unique_ptr<Relay>> Relay::start(RelayOptions options) {
  options = REEL_TRY(validated(std::move(options)));
  raise_descriptor_limit();
  int threads = options.threads;
  auto listeners = REEL_TRY(open_listeners(options.listen, threads));

  std::unique_ptr<Relay> relay(new Relay());
  relay->listening_ = listeners.bound;
  relay->shared_ =
      std::make_unique<WorkerShared>(WorkerShared{std::move(options), listeners.bound, threads});
  for (int i = 0; i < threads; i++) {
    relay->workers_.push_back(
        REEL_TRY(Worker::create(i, *relay->shared_, std::move(listeners.by_worker[i]))));
  }
  try {
    for (int i = 0; i < threads; i++) {
      relay->threads_.emplace_back([w = relay->workers_[i].get()] { w->run(); });
      auto name = fmt::format("reel-relay-{}", i);
      ::pthread_setname_np(relay->threads_.back().native_handle(), name.c_str());
    }
  } catch (const std::system_error& e) {
    return fail_msg("relay: cannot start a worker thread: {}", e.what());
  }
  spdlog::debug("relay: {} workers on {} endpoint(s)", threads, relay->listening_.size());
  return relay;
}

void Relay::stop(std::chrono::milliseconds grace) {
  if (threads_.empty()) return;
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& w : workers_) w->stop(deadline);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

RelayStats Relay::stats() const {
  RelayStats s;
  auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  for (const auto& w : workers_) {
    const Counters& c = w->counters();
    s.accepted += get(c.accepted);
    s.active += get(c.active);
    s.upstream_failed += get(c.upstream_failed);
    s.bytes_up += get(c.bytes_up);
    s.bytes_down += get(c.bytes_down);
    s.no_destination += get(c.no_destination);
    s.loops_refused += get(c.loops_refused);
    s.shed += get(c.shed);
  }
  return s;
}

Relay::~Relay() { stop(); }

}  // namespace reel
