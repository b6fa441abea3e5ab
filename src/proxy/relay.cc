#include "proxy/relay.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
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

// What the workers may hold: the descriptors the process may still open, less a reserve for
// reel's own (BPF objects loaded after the relay starts, recorded files, TLS connections handed
// over) and for accepting a connection only to refuse it.
std::int64_t descriptor_budget() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  auto limit = rl.rlim_cur == RLIM_INFINITY ? std::int64_t{1} << 30
                                            : static_cast<std::int64_t>(rl.rlim_cur);
  std::int64_t open = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    open++;
  std::int64_t reserve = std::clamp<std::int64_t>(limit / 16, 32, 256);
  return std::max<std::int64_t>(limit - open - reserve, 0);
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
  relay->shared_ = std::make_unique<WorkerShared>();
  relay->shared_->options = std::move(options);
  relay->shared_->listening = listeners.bound;
  relay->shared_->workers = threads;
  for (int i = 0; i < threads; i++) {
    relay->workers_.push_back(
        REEL_TRY(Worker::create(i, *relay->shared_, std::move(listeners.by_worker[i]))));
  }
  std::int64_t budget = descriptor_budget();
  relay->shared_->budget.reset(budget);
  relay->shared_->connection_room = budget / 2;
  spdlog::debug("relay: room for {} connections (RLIMIT_NOFILE)", budget / 2);
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
  }
  if (shared_) s.shed = shared_->refused.load(std::memory_order_relaxed);
  return s;
}

Relay::~Relay() { stop(); }

}  // namespace reel
