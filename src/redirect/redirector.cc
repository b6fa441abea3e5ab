#include "redirect/redirector.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "kernel/bpf_diagnose.h"
#include "kernel/bpf_features.h"
#include "kernel/bpf_owners.h"
#include "kernel/libbpf_log.h"
#include "redirect.skel.h"
#include "redirect_baseline.skel.h"

namespace reel {

using RedirectSkel = Skeleton<redirect, redirect__destroy>;
// The baseline object opens as a ::redirect (bpf/features.h): its globals must lie the same way.
static_assert(sizeof(*::redirect::rodata) == sizeof(*::redirect_baseline::rodata));

struct Redirector::State {
  RedirectSkel skel;
  std::vector<BpfLink> links;
  RingBuffer ring;
  const std::function<void(const RedirectEvent&)>* on_event = nullptr;
  int handled = 0;
};

const char* action_name(int action) {
  switch (action) {
    case REEL_ACT_REDIRECTED: return "redirected";
    case REEL_ACT_BYPASS_PORT: return "bypass:port";
    case REEL_ACT_BYPASS_EXCLUDED: return "bypass:excluded";
    case REEL_ACT_BYPASS_NOT_INCLUDED: return "bypass:not-included";
    case REEL_ACT_BYPASS_PROXY: return "bypass:proxy-address";
    case REEL_ACT_BYPASS_PROXY_PROCESS: return "bypass:proxy-process";
    case REEL_ACT_BYPASS_NOT_TCP: return "bypass:no-storage";
    case REEL_ACT_BYPASS_NO_PROXY_FAMILY: return "bypass:no-proxy-for-family";
    case REEL_ACT_DNS_REDIRECTED: return "dns-redirected";
    case REEL_ACT_ORIGDST_ANSWERED: return "origdst-answered";
    case REEL_ACT_ORIGDST_MISSED: return "origdst-missed";
    case REEL_ACT_FILED: return "filed";
    case REEL_ACT_UNFILED: return "unfiled";
  }
  return "?";
}

namespace {

void set_v6(volatile __u32 (&dst)[4], const IpAddr& ip) {
  in6_addr a = ip.v6();
  __u32 w[4];
  std::memcpy(w, &a, 16);
  for (int i = 0; i < 4; i++) dst[i] = w[i];
}

Result<void> update(bpf_map* map, const void* key, const void* value, const char* what) {
  if (bpf_map__update_elem(map, key, bpf_map__key_size(map), value, bpf_map__value_size(map),
                           BPF_ANY) != 0)
    return fail_errno(fmt::format("cannot store {} rule in the kernel map", what));
  return {};
}

Result<void> fill_rules(redirect* skel, const RedirectRules& rules) {
  std::uint8_t one = 1;
  if (!rules.ports.empty()) {
    std::array<std::uint64_t, 1024> bits{};
    for (auto r : rules.ports)
      for (std::uint32_t p = r.first; p <= r.last; p++) bits[p >> 6] |= 1ULL << (p & 63);
    for (std::uint32_t i = 0; i < bits.size(); i++)
      if (bits[i]) REEL_TRY(update(skel->maps.port_bits, &i, &bits[i], "port"));
  }
  for (const Cidr& c : rules.exclude) {
    abi::reel_lpm_key k{static_cast<std::uint32_t>(c.prefix), {}};
    std::memcpy(k.ip, c.ip.bytes.data(), 16);
    REEL_TRY(update(skel->maps.exclude_cidr, &k, &one, "--exclude"));
  }
  for (const Cidr& c : rules.include) {
    abi::reel_lpm_key k{static_cast<std::uint32_t>(c.prefix), {}};
    std::memcpy(k.ip, c.ip.bytes.data(), 16);
    REEL_TRY(update(skel->maps.include_cidr, &k, &one, "--include"));
  }
  for (const Endpoint& e : rules.exclude_exact) {
    abi::reel_exact_key k{};
    std::memcpy(k.ip, e.ip.bytes.data(), 16);
    k.port = htons(e.port);
    REEL_TRY(update(skel->maps.exclude_exact, &k, &one, "--exclude"));
  }
  return {};
}

void configure(redirect* skel, const RedirectConfig& c) {
  auto* ro = skel->rodata;
  if (c.proxy4) {
    ro->has_proxy4 = true;
    ro->proxy4_ip = c.proxy4->ip.v4_be();
    ro->proxy4_port = htons(c.proxy4->port);
  }
  if (c.proxy6) {
    ro->has_proxy6 = true;
    set_v6(ro->proxy6_ip, c.proxy6->ip);
    ro->proxy6_port = htons(c.proxy6->port);
  }
  if (c.dns4) {
    ro->has_dns4 = true;
    ro->dns4_ip = c.dns4->ip.v4_be();
    ro->dns4_port = htons(c.dns4->port);
  }
  if (c.dns6) {
    ro->has_dns6 = true;
    set_v6(ro->dns6_ip, c.dns6->ip);
    ro->dns6_port = htons(c.dns6->port);
  }
  ro->all_ports = c.rules.ports.empty();
  ro->have_includes = !c.rules.include.empty();
  ro->emit_events = c.events;
}

int on_ring_event(void* ctx, void* data, size_t size) {
  auto* s = static_cast<Redirector::State*>(ctx);
  if (size < sizeof(abi::reel_event) || !s->on_event) return 0;
  abi::reel_event e;
  std::memcpy(&e, data, sizeof e);
  IpAddr ip;
  std::memcpy(ip.bytes.data(), e.orig.ip, 16);
  RedirectEvent ev{e.ts_ns,
                   static_cast<pid_t>(e.pid),
                   std::string(reinterpret_cast<const char*>(e.comm),
                               strnlen(reinterpret_cast<const char*>(e.comm), sizeof e.comm)),
                   Endpoint{ip, ntohs(e.orig.port)},
                   e.kind,
                   e.action,
                   e.proto == IPPROTO_UDP};
  (*s->on_event)(ev);
  s->handled++;
  return 0;
}

}  // namespace

Redirector::Redirector(std::unique_ptr<State> s) : s_(std::move(s)) {}
Redirector::~Redirector() = default;

Result<std::unique_ptr<Redirector>> Redirector::load(const RedirectConfig& config) {
  if (!config.proxy4 && !config.proxy6) return fail_msg("no proxy address to redirect to");
  if (config.proxy4 && !config.proxy4->ip.is_v4())
    return fail_msg("internal: proxy4 {} is not IPv4", config.proxy4->to_string());
  route_libbpf_logs();
  BpfFeatures features = REEL_TRY(bpf_features());
  log_fallbacks_once(features);
  RedirectSkel skel(open_skeleton<::redirect>(redirect__create_skeleton, redirect__destroy,
                                              redirect_baseline__elf_bytes, features));
  if (!skel) return fail_errno("cannot open the redirect BPF programs");
  configure(skel.get(), config);
  LibbpfMessages said;
  if (int err = redirect__load(skel.get()); err != 0)
    return fail_msg("{}", load_failure_message("redirect", said.messages(), -err, kRedirectImpact,
                                               facts_of(skel->obj)));
  REEL_TRY(fill_rules(skel.get(), config.rules));
  auto state = std::make_unique<State>();
  state->skel = std::move(skel);
  if (config.events) {
    state->ring.reset(ring_buffer__new(bpf_map__fd(state->skel->maps.events), on_ring_event,
                                       state.get(), nullptr));
    if (!state->ring) return fail_errno("cannot open the redirect event ring buffer");
  }
  return std::unique_ptr<Redirector>(new Redirector(std::move(state)));
}

Result<void> Redirector::attach_target(int cgroup_fd) {
  auto* p = &s_->skel->progs;
  for (bpf_program* prog : {p->reel_connect4, p->reel_connect6, p->reel_sockops,
                            p->reel_getpeername4, p->reel_getpeername6, p->reel_sendmsg4,
                            p->reel_sendmsg6, p->reel_recvmsg4, p->reel_recvmsg6}) {
    BpfLink link(bpf_program__attach_cgroup(prog, cgroup_fd));
    if (!link)
      return fail_errno(fmt::format("cannot attach {} to the target cgroup", bpf_program__name(prog)));
    s_->links.push_back(std::move(link));
  }
  return {};
}

Result<void> Redirector::attach_proxy(int cgroup_fd) {
  for (bpf_program* prog : {s_->skel->progs.reel_getsockopt, s_->skel->progs.reel_proxy_sockops}) {
    BpfLink link(bpf_program__attach_cgroup(prog, cgroup_fd));
    if (!link)
      return fail_errno(fmt::format("cannot attach {} to the proxy's cgroup", bpf_program__name(prog)));
    s_->links.push_back(std::move(link));
  }
  return {};
}

Result<void> Redirector::skip_process(pid_t tgid) {
  std::uint32_t key = static_cast<std::uint32_t>(tgid);
  std::uint8_t one = 1;
  return update(s_->skel->maps.skip_tgids, &key, &one, "proxy process");
}

RedirectCounters Redirector::counters() const {
  RedirectCounters out;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return out;
  std::vector<abi::reel_counters> per_cpu(static_cast<size_t>(ncpu));
  std::uint32_t zero = 0;
  if (bpf_map__lookup_elem(s_->skel->maps.counters, &zero, sizeof zero, per_cpu.data(),
                           per_cpu.size() * sizeof(abi::reel_counters), 0) != 0)
    return out;
  for (auto& c : per_cpu) {
    out.seen += c.seen;
    for (int a = 0; a < REEL_ACT__COUNT; a++) out.by_action[a] += c.by_action[a];
  }
  return out;
}

std::size_t Redirector::filed_entries() const {
  int fd = bpf_map__fd(s_->skel->maps.orig_by_tuple);
  abi::reel_tuple key{}, next{};
  std::size_t n = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    n++;
    key = next;
    prev = &key;
  }
  return n;
}

std::vector<Endpoint> Redirector::dns_servers_asked() const {
  int fd = bpf_map__fd(s_->skel->maps.dns_asked);
  std::vector<std::pair<std::uint64_t, Endpoint>> seen;
  abi::reel_addr key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    std::uint64_t when = 0;
    if (bpf_map_lookup_elem(fd, &next, &when) == 0) {
      IpAddr ip;
      std::memcpy(ip.bytes.data(), next.ip, 16);
      seen.push_back({when, Endpoint{ip, ntohs(next.port)}});
    }
    key = next;
    prev = &key;
  }
  std::sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Endpoint> out;
  for (auto& [when, ep] : seen) out.push_back(ep);
  return out;
}

Result<int> Redirector::poll_events(int timeout_ms,
                                    const std::function<void(const RedirectEvent&)>& on_event) {
  if (!s_->ring) return fail_msg("events were not enabled when the programs were loaded");
  s_->on_event = &on_event;
  s_->handled = 0;
  int rc = ring_buffer__poll(s_->ring.get(), timeout_ms);
  // The programs submit without waking us until a batch builds up, so drain on every timeout.
  if (rc >= 0 || rc == -EINTR) rc = ring_buffer__consume(s_->ring.get());
  s_->on_event = nullptr;
  if (rc < 0 && rc != -EINTR) return fail_errno("reading redirect events", -rc);
  return s_->handled;
}

std::vector<std::uint32_t> Redirector::program_ids() const {
  std::vector<std::uint32_t> ids;
  bpf_program* prog;
  bpf_object__for_each_program(prog, s_->skel->obj) {
    bpf_prog_info info{};
    std::uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) ids.push_back(info.id);
  }
  return ids;
}

}  // namespace reel
