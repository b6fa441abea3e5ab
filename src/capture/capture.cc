#include "capture/capture.h"

#include <bpf/bpf.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cstring>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "capture.skel.h"
#include "capture_baseline.skel.h"
#include "core/clock.h"
#include "core/unique_fd.h"
#include "kernel/bpf_diagnose.h"
#include "kernel/bpf_features.h"
#include "kernel/bpf_owners.h"
#include "kernel/libbpf_log.h"
#include "kernel/mountinfo.h"

namespace reel::capture {

using CaptureSkel = Skeleton<::capture, ::capture__destroy>;
// The baseline object opens as a ::capture (bpf/features.h): its globals must lie the same way.
static_assert(sizeof(*::capture::rodata) == sizeof(*::capture_baseline::rodata) &&
              sizeof(*::capture::data) == sizeof(*::capture_baseline::data) &&
              sizeof(*::capture::bss) == sizeof(*::capture_baseline::bss));

struct Capture::State {
  CaptureSkel skel;
  std::vector<BpfLink> links;
  RingBuffer ring;
  const std::function<void(const Event&)>* on_event = nullptr;
  int handled = 0;
  std::uint64_t last_yield_ns = 0;
  std::uint64_t malformed = 0;
  // The ring's consumer and producer positions, mapped read-only: how far behind reel is.
  void* positions = MAP_FAILED;
  std::size_t page = 0;
  std::uint32_t ring_bytes = 0;
  std::uint32_t pauses = 0;

  std::uint64_t pending() const {
    auto* base = static_cast<const volatile char*>(positions);
    return *reinterpret_cast<const volatile std::uint64_t*>(base + page) -
           *reinterpret_cast<const volatile std::uint64_t*>(base);
  }

  ~State() {
    if (positions != MAP_FAILED) ::munmap(positions, 2 * page);
    // Each tracepoint detach waits for an RCU grace period (~70 ms here); detaching them side by
    // side lets those waits overlap, so reel exits in a tenth of a second instead of two.
    std::vector<std::thread> detachers;
    for (auto& l : links) detachers.emplace_back([link = std::move(l)]() mutable { link.reset(); });
    for (auto& t : detachers) t.join();
    links.clear();
  }
};

namespace {

// tracefs is needed only while tracepoints attach (the kernel resolves their ids through it).
// reel processes side by side (a trace beside a record) take turns under this lock, and one
// that had to mount tracefs unmounts it as soon as its programs are attached: none can pull it
// from under another's attach, and the machine is left as found.
class TracefsLease {
 public:
  static Result<TracefsLease> take() {
    TracefsLease lease;
    ::mkdir("/run/reel", 0755);
    lease.lock_.reset(::open("/run/reel/tracefs.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lease.lock_ || ::flock(lease.lock_.get(), LOCK_EX) != 0)
      return fail_errno("cannot lock /run/reel/tracefs.lock");
    lease.path_ = REEL_TRY(ensure_tracefs(&lease.mounted_));
    if (lease.mounted_) spdlog::info("mounted tracefs at {} while attaching", lease.path_);
    return lease;
  }
  TracefsLease(TracefsLease&& o) noexcept
      : lock_(std::move(o.lock_)),
        path_(std::move(o.path_)),
        mounted_(std::exchange(o.mounted_, false)) {}
  TracefsLease& operator=(TracefsLease&&) = delete;
  ~TracefsLease() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }

 private:
  TracefsLease() = default;
  UniqueFd lock_;
  std::string path_;
  bool mounted_ = false;
};

Endpoint endpoint_of(const abi::cap_addr& a) {
  IpAddr ip;
  std::memcpy(ip.bytes.data(), a.ip, 16);
  return Endpoint{ip, a.port};
}

ConnKey key_of(const abi::cap_hdr& h) { return ConnKey{h.tgid, h.fd, h.gen}; }

template <typename T>
std::optional<T> read_struct(std::span<const std::byte> raw, std::size_t min_size = sizeof(T)) {
  if (raw.size() < min_size) return std::nullopt;
  T v{};
  std::memcpy(&v, raw.data(), std::min(raw.size(), sizeof(T)));
  return v;
}

}  // namespace

std::optional<Event> decode_event(std::span<const std::byte> raw) {
  auto h = read_struct<abi::cap_hdr>(raw);
  if (!h) return std::nullopt;
  switch (h->type) {
    case CAP_EV_OPEN: {
      auto e = read_struct<abi::cap_open_event>(raw);
      if (!e) return std::nullopt;
      const char* comm = reinterpret_cast<const char*>(e->comm);
      return OpenEvent{key_of(e->h),          e->h.tid, e->h.ts_ns, e->h.role,
                       endpoint_of(e->local), endpoint_of(e->remote),
                       e->protocol == IPPROTO_UDP, std::string(comm, strnlen(comm, CAP_COMM_LEN))};
    }
    case CAP_EV_CLOSE: {
      auto e = read_struct<abi::cap_close_event>(raw);
      if (!e) return std::nullopt;
      return CloseEvent{key_of(e->h), e->h.ts_ns, e->bytes_egress, e->bytes_ingress};
    }
    case CAP_EV_EXIT:
      return ExitEvent{h->tgid, h->ts_ns};
    case CAP_EV_DATA: {
      constexpr std::size_t head = offsetof(abi::cap_data_event, data);
      if (raw.size() < head) return std::nullopt;
      abi::cap_data_event e;
      std::memcpy(&e, raw.data(), head);
      if (e.copied > CAP_CHUNK || e.copied > e.len || raw.size() < head + e.copied)
        return std::nullopt;
      return DataEvent{key_of(e.h), e.h.tid, e.h.ts_ns, e.h.dir, e.h.flags, e.pos, e.len,
                       raw.subspan(head, e.copied), endpoint_of(e.peer)};
    }
  }
  return std::nullopt;
}

namespace {

constexpr std::uint64_t kYieldNs = 250'000;

// Gives the core to the traced app and its clients for a moment during a long drain, unless half
// the ring is pending (then draining comes first). Most pauses are a sched_yield, the cheapest.
// But on Linux 6.6+ (EEVDF) each yield also pushes the caller's deadline a slice further: a
// drain of yields alone left reel waiting behind nginx and wrk long enough for the ring to
// overflow (bench/trace.sh, JSON at max rate: 4 rounds in 8 lost 88k-228k events). So every
// eighth pause is a short sleep, after which the scheduler places reel afresh.
void give_way(Capture::State& s) {
  if (s.positions != MAP_FAILED && s.pending() >= s.ring_bytes / 2) return;
  if (++s.pauses % 8 != 0) {
    ::sched_yield();
    return;
  }
  timespec pause{0, 1000};  // the timer's slack makes it some 50 µs
  ::nanosleep(&pause, nullptr);
}

int on_ring_event(void* ctx, void* data, size_t size) {
  auto* s = static_cast<Capture::State*>(ctx);
  auto ev = decode_event({static_cast<const std::byte*>(data), size});
  if (!ev) {
    s->malformed++;
    return 0;
  }
  if (s->on_event) (*s->on_event)(*ev);
  // A drain under load is milliseconds of work: give the core back to whoever waits for it (the
  // traced app, its clients) every kYieldNs rather than hold it for a whole scheduler slice.
  // Measured with nginx on 2 cores (bench/trace.sh, trace_rate.sh): at its maximum rate, pretty
  // 0.665 -> 0.732 of nginx alone; at half that rate, JSON adds 225 us at p50 instead of 631.
  if ((++s->handled & 31) == 0) {
    if (std::uint64_t now = monotonic_ns(); now - s->last_yield_ns >= kYieldNs) {
      give_way(*s);
      s->last_yield_ns = monotonic_ns();
    }
  }
  return 0;
}

Result<void> fill_scope(::capture* skel, const CaptureConfig& c) {
  std::uint8_t one = 1;
  for (std::uint64_t id : c.cgroup_ids)
    if (bpf_map__update_elem(skel->maps.scope_cgroups, &id, sizeof id, &one, 1, BPF_ANY) != 0)
      return fail_errno("cannot scope capture to a cgroup");
  for (pid_t p : c.tgids) {
    std::uint32_t tgid = static_cast<std::uint32_t>(p);
    if (bpf_map__update_elem(skel->maps.scope_tgids, &tgid, sizeof tgid, &one, 1, BPF_ANY) != 0)
      return fail_errno("cannot scope capture to a process");
  }
  return {};
}

}  // namespace

Capture::Capture(std::unique_ptr<State> s) : s_(std::move(s)) {}
Capture::~Capture() = default;

Result<std::unique_ptr<Capture>> Capture::start(const CaptureConfig& config) {
  if (config.cgroup_ids.empty() == config.tgids.empty())
    return fail_msg("internal: capture needs either cgroups or processes to scope to");
  route_libbpf_logs();
  BpfFeatures features = REEL_TRY(bpf_features());
  log_fallbacks_once(features);
  CaptureSkel skel(open_skeleton<::capture>(capture__create_skeleton, capture__destroy,
                                            capture_baseline__elf_bytes, features));
  if (!skel) return fail_errno("cannot open the capture BPF programs");
  skel->rodata->have_task_storage = features.task_storage;
  skel->rodata->have_bpf_loop = features.bpf_loop;
  REEL_TRY(adapt_thread_map(skel->maps.stashes, features));
  REEL_TRY(adapt_thread_map(skel->maps.tls_calls, features));
  skel->rodata->scope_mode = config.cgroup_ids.empty() ? 2 : 1;
  skel->rodata->max_bytes_per_call = config.max_bytes_per_call;
  // A quarter: the reader, asleep between timed drains, is woken long before the ring is full,
  // and a drain that a burst forces stays short.
  skel->rodata->wakeup_bytes = config.ring_bytes / 4;
  if (bpf_map__set_max_entries(skel->maps.events, config.ring_bytes) != 0)
    return fail_msg("capture ring buffer size {} is not a power of two", config.ring_bytes);
  LibbpfMessages said;
  if (int err = capture__load(skel.get()); err != 0)
    return fail_msg("{}", load_failure_message("capture", said.messages(), -err, kCaptureImpact,
                                               facts_of(skel->obj)));
  REEL_TRY(fill_scope(skel.get(), config));

  auto state = std::make_unique<State>();
  state->skel = std::move(skel);
  TracefsLease tracefs = REEL_TRY(TracefsLease::take());
  bpf_program* prog;
  bpf_object__for_each_program(prog, state->skel->obj) {
    BpfLink link(bpf_program__attach(prog));
    if (!link)
      return fail_errno(fmt::format("cannot attach {} ({})", bpf_program__name(prog),
                                    bpf_program__section_name(prog)));
    state->links.push_back(std::move(link));
  }
  state->ring.reset(ring_buffer__new(bpf_map__fd(state->skel->maps.events), on_ring_event,
                                     state.get(), nullptr));
  if (!state->ring) return fail_errno("cannot open the capture ring buffer");
  // Read-only, for give_way; without it reel still drains, it just cannot tell it is behind.
  state->page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  state->ring_bytes = config.ring_bytes;
  state->positions = ::mmap(nullptr, 2 * state->page, PROT_READ, MAP_SHARED,
                            bpf_map__fd(state->skel->maps.events), 0);
  return std::unique_ptr<Capture>(new Capture(std::move(state)));
}

Result<void> Capture::add_tgid(pid_t tgid) {
  std::uint32_t key = static_cast<std::uint32_t>(tgid);
  std::uint8_t one = 1;
  if (bpf_map__update_elem(s_->skel->maps.scope_tgids, &key, sizeof key, &one, 1, BPF_ANY) != 0)
    return fail_errno("cannot add pid to the capture scope");
  return {};
}

Result<int> Capture::poll(int timeout_ms, const std::function<void(const Event&)>& on_event) {
  s_->on_event = &on_event;
  s_->handled = 0;
  int rc = ring_buffer__poll(s_->ring.get(), timeout_ms);
  // Programs submit without waking us until a burst builds up: drain after every wait.
  if (rc >= 0 || rc == -EINTR) rc = ring_buffer__consume(s_->ring.get());
  s_->on_event = nullptr;
  if (rc < 0 && rc != -EINTR) return fail_errno("reading capture events", -rc);
  return s_->handled;
}

CaptureCounters Capture::counters() const {
  CaptureCounters out;
  out.malformed = s_->malformed;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return out;
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(ncpu));
  for (std::uint32_t k = 0; k < CAP_CNT__COUNT; k++) {
    if (bpf_map__lookup_elem(s_->skel->maps.counters, &k, sizeof k, per_cpu.data(),
                             per_cpu.size() * sizeof(std::uint64_t), 0) != 0)
      continue;
    for (auto v : per_cpu) out.by_kind[k] += v;
  }
  return out;
}

int Capture::map_fd(const char* name) const {
  bpf_map* m = bpf_object__find_map_by_name(s_->skel->obj, name);
  return m ? bpf_map__fd(m) : -1;
}

void Capture::set_tls_active() { s_->skel->bss->tls_active = 1; }

int Capture::attached() const { return static_cast<int>(s_->links.size()); }

}  // namespace reel::capture
