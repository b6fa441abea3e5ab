// SPDX-License-Identifier: GPL-2.0
/* reel redirect: steer a cgroup's outbound connections to a transparent proxy.
 *
 *   connect4/6     (target cgroup)  pick the socket, keep its original destination in sk
 *                                   storage, rewrite the destination to the proxy
 *   sockops        (target cgroup)  when the client's 4-tuple is known, file the original under
 *                                   it; (proxy's cgroup) follow the accepted socket; the entry
 *                                   goes when both sides have closed
 *   getsockopt     (proxy's cgroup) answer SO_ORIGINAL_DST at SOL_IP and SOL_IPV6 for the
 *                                   proxy's accepted socket, as iptables REDIRECT would
 *   getpeername4/6 (target cgroup)  the app sees the address it asked for
 *   sendmsg4/6, recvmsg4/6 (target) UDP/53 to the chosen resolver; replies look like they came
 *                                   from the server the app asked
 */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "abi/redirect.h"
#include "features.h"

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOL_IP 0
#define SOL_IPV6 41
#define DNS_PORT 53

char LICENSE[] SEC("license") = "GPL";

/* Set between open and load. Addresses in network byte order. */
const volatile bool has_proxy4 = false;
const volatile __u32 proxy4_ip = 0;
const volatile __u16 proxy4_port = 0;
const volatile bool has_proxy6 = false;
const volatile __u32 proxy6_ip[4] = {};
const volatile __u16 proxy6_port = 0;
const volatile bool has_dns4 = false;
const volatile __u32 dns4_ip = 0;
const volatile __u16 dns4_port = 0;
const volatile bool has_dns6 = false;
const volatile __u32 dns6_ip[4] = {};
const volatile __u16 dns6_port = 0;
const volatile bool all_ports = true;
const volatile bool have_includes = false;
const volatile bool emit_events = false;

/* Kinds of socket-local original destination. */
enum { ORIG_TCP = 1, ORIG_UDP_DNS = 2 };

struct orig_value {
  struct reel_addr addr;
  u32 kind;
  u32 filed; /* a reel_tuple entry exists for this socket */
  struct reel_tuple tuple;
  u32 owner; /* this socket's tag in the entries it files (reel_orig_entry.owner); 0 = none yet */
};

struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct orig_value);
} sk_orig SEC(".maps");

/* The proxy's view: client 4-tuple -> original destination. LRU as a backstop; entries are
 * removed when the client socket closes. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct reel_tuple);
  __type(value, struct reel_orig_entry);
} orig_by_tuple SEC(".maps");

/* On the proxy's accepted sockets: the entry they were attached to. */
struct proxy_value {
  struct reel_tuple tuple;
  u32 owner;
};

struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct proxy_value);
} proxy_side SEC(".maps");

/* Bit per destination port (host order), used when all_ports is false. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1024);
  __type(key, u32);
  __type(value, u64);
} port_bits SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1024);
  __type(key, struct reel_lpm_key);
  __type(value, u8);
} exclude_cidr SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 1024);
  __type(key, struct reel_lpm_key);
  __type(value, u8);
} include_cidr SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct reel_exact_key);
  __type(value, u8);
} exclude_exact SEC(".maps");

/* Processes never redirected: the proxy, reel itself. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, u32);
  __type(value, u8);
} skip_tgids SEC(".maps");

/* DNS servers the target asked (before we steered it to our resolver) -> when, last. A datagram
 * reaching our resolver carries no trace of where it was sent; with one server asked (the usual
 * resolv.conf), user space can still name it. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 64);
  __type(key, struct reel_addr);
  __type(value, u64);
} dns_asked SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct reel_counters);
} counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline void count(u32 action) {
  u32 zero = 0;
  struct reel_counters *c = bpf_map_lookup_elem(&counters, &zero);
  if (!c) return;
  if (action < REEL_ACT__COUNT) c->by_action[action]++;
}

static __always_inline void count_seen(void) {
  u32 zero = 0;
  struct reel_counters *c = bpf_map_lookup_elem(&counters, &zero);
  if (c) c->seen++;
}

static __always_inline void emit(u8 kind, u8 action, u8 proto, const struct reel_addr *orig) {
  if (!emit_events) return;
  struct reel_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return;
  u64 id = bpf_get_current_pid_tgid();
  e->ts_ns = bpf_ktime_get_ns();
  e->pid = id >> 32;
  e->tid = (u32)id;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  __builtin_memcpy(&e->orig, orig, sizeof(e->orig));
  e->kind = kind;
  e->action = action;
  e->proto = proto;
  /* Wake the reader only once a batch has built up; it also drains on a short timer. */
  u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
  bpf_ringbuf_submit(e, pending >= 64 * sizeof(*e) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* clang 14 does not lower __builtin_memcmp for BPF. */
static __always_inline bool same16(const void *a, const void *b) {
  const u64 *x = a, *y = b;
  return x[0] == y[0] && x[1] == y[1];
}

static __always_inline void set_mapped4(u8 ip[16], u32 v4) {
  __builtin_memset(ip, 0, 10);
  ip[10] = 0xff;
  ip[11] = 0xff;
  __builtin_memcpy(ip + 12, &v4, 4);
}

static __always_inline void set_ip6(u8 ip[16], const u32 *w) {
  u32 tmp[4] = {w[0], w[1], w[2], w[3]};
  __builtin_memcpy(ip, tmp, 16);
}

static __always_inline bool is_mapped(const u32 *w) {
  return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff);
}

static __always_inline bool port_selected(u16 port_be) {
  if (all_ports) return true;
  u16 port = bpf_ntohs(port_be);
  u32 idx = port >> 6;
  u64 *bits = bpf_map_lookup_elem(&port_bits, &idx);
  return bits && (*bits & (1ULL << (port & 63)));
}

static __always_inline bool is_proxy_process(void) {
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  return bpf_map_lookup_elem(&skip_tgids, &tgid) != NULL;
}

/* Decides for a TCP destination. Returns REEL_ACT_REDIRECTED or the bypass reason. */
static __always_inline u32 decide(const struct reel_addr *dst) {
  if (is_proxy_process()) return REEL_ACT_BYPASS_PROXY_PROCESS;
  if (!port_selected(dst->port)) return REEL_ACT_BYPASS_PORT;

  struct reel_exact_key ek = {};
  __builtin_memcpy(ek.ip, dst->ip, 16);
  ek.port = dst->port;
  if (bpf_map_lookup_elem(&exclude_exact, &ek)) return REEL_ACT_BYPASS_EXCLUDED;

  struct reel_lpm_key lk = {.prefixlen = 128};
  __builtin_memcpy(lk.ip, dst->ip, 16);
  if (bpf_map_lookup_elem(&exclude_cidr, &lk)) return REEL_ACT_BYPASS_EXCLUDED;
  if (have_includes && !bpf_map_lookup_elem(&include_cidr, &lk)) return REEL_ACT_BYPASS_NOT_INCLUDED;
  return REEL_ACT_REDIRECTED;
}

static __always_inline bool equals_v4(const struct reel_addr *a, u32 ip, u16 port) {
  u8 m[16];
  set_mapped4(m, ip);
  return a->port == port && same16(a->ip, m);
}

static __always_inline bool equals_v6(const struct reel_addr *a, const volatile u32 *ip, u16 port) {
  u32 w[4] = {ip[0], ip[1], ip[2], ip[3]};
  return a->port == port && same16(a->ip, w);
}

static __always_inline bool is_proxy_or_dns(const struct reel_addr *a) {
  if (has_proxy4 && equals_v4(a, proxy4_ip, proxy4_port)) return true;
  if (has_proxy6 && equals_v6(a, proxy6_ip, proxy6_port)) return true;
  if (has_dns4 && equals_v4(a, dns4_ip, dns4_port)) return true;
  if (has_dns6 && equals_v6(a, dns6_ip, dns6_port)) return true;
  return false;
}

static __always_inline int remember(struct bpf_sock_addr *ctx, const struct reel_addr *orig,
                                    u32 kind) {
  struct orig_value *v = bpf_sk_storage_get(&sk_orig, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (!v) return -1;
  __builtin_memcpy(&v->addr, orig, sizeof(v->addr));
  v->kind = kind;
  return 0;
}

/* Where a destination of this shape goes. Writes the new address into ctx. */
static __always_inline u32 steer4(struct bpf_sock_addr *ctx, bool dns) {
  if (dns) {
    if (!has_dns4) return REEL_ACT_BYPASS_NO_PROXY_FAMILY;
    ctx->user_ip4 = dns4_ip;
    ctx->user_port = dns4_port;
    return REEL_ACT_DNS_REDIRECTED;
  }
  if (!has_proxy4) return REEL_ACT_BYPASS_NO_PROXY_FAMILY;
  ctx->user_ip4 = proxy4_ip;
  ctx->user_port = proxy4_port;
  return REEL_ACT_REDIRECTED;
}

static __always_inline void write_ip6(struct bpf_sock_addr *ctx, const u32 w[4]) {
  ctx->user_ip6[0] = w[0];
  ctx->user_ip6[1] = w[1];
  ctx->user_ip6[2] = w[2];
  ctx->user_ip6[3] = w[3];
}

/* Shows `a` as the address the program's context carries: all 16 bytes for an IPv6 socket, the
 * IPv4 address a v4-mapped `a` holds in its last 4 for an IPv4 one. */
static __always_inline void write_addr(struct bpf_sock_addr *ctx, const struct reel_addr *a,
                                       bool v6) {
  if (v6) {
    u32 w[4];
    __builtin_memcpy(w, a->ip, 16);
    write_ip6(ctx, w);
  } else {
    u32 ip4;
    __builtin_memcpy(&ip4, a->ip + 12, 4);
    ctx->user_ip4 = ip4;
  }
  ctx->user_port = a->port;
}

static __always_inline u32 steer6(struct bpf_sock_addr *ctx, bool mapped, bool dns) {
  u32 w[4] = {0, 0, bpf_htonl(0x0000ffff), 0};
  bool have4 = dns ? has_dns4 : has_proxy4;
  bool have6 = dns ? has_dns6 : has_proxy6;
  u16 port;
  if (mapped && have4) {
    w[3] = dns ? dns4_ip : proxy4_ip;
    port = dns ? dns4_port : proxy4_port;
  } else if (have6) {
    for (int i = 0; i < 4; i++) w[i] = dns ? dns6_ip[i] : proxy6_ip[i];
    port = dns ? dns6_port : proxy6_port;
  } else {
    return REEL_ACT_BYPASS_NO_PROXY_FAMILY;
  }
  write_ip6(ctx, w);
  ctx->user_port = port;
  return dns ? REEL_ACT_DNS_REDIRECTED : REEL_ACT_REDIRECTED;
}

static __always_inline int on_connect(struct bpf_sock_addr *ctx, bool v6) {
  struct reel_addr orig = {};
  bool mapped = false;
  if (v6) {
    u32 w[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
    mapped = is_mapped(w);
    set_ip6(orig.ip, w);
    orig.family = AF_INET6;
  } else {
    set_mapped4(orig.ip, ctx->user_ip4);
    orig.family = AF_INET;
  }
  orig.port = (u16)ctx->user_port;

  u8 proto = ctx->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
  bool dns = orig.port == bpf_htons(DNS_PORT) && (has_dns4 || has_dns6);
  if (ctx->type != SOCK_STREAM && !(ctx->type == SOCK_DGRAM && dns)) return 1;

  count_seen();
  u32 action;
  if (is_proxy_or_dns(&orig)) {
    action = REEL_ACT_BYPASS_PROXY;
  } else if (dns) {
    action = is_proxy_process() ? REEL_ACT_BYPASS_PROXY_PROCESS : REEL_ACT_DNS_REDIRECTED;
  } else {
    action = decide(&orig);
  }
  if (action == REEL_ACT_REDIRECTED || action == REEL_ACT_DNS_REDIRECTED) {
    if (remember(ctx, &orig, proto == IPPROTO_TCP ? ORIG_TCP : ORIG_UDP_DNS) != 0) {
      action = REEL_ACT_BYPASS_NOT_TCP;
    } else {
      action = v6 ? steer6(ctx, mapped, dns) : steer4(ctx, dns);
      if (action == REEL_ACT_BYPASS_NO_PROXY_FAMILY) bpf_sk_storage_delete(&sk_orig, ctx->sk);
      if (action == REEL_ACT_DNS_REDIRECTED) {
        u64 now = bpf_ktime_get_ns();
        bpf_map_update_elem(&dns_asked, &orig, &now, BPF_ANY);
      }
    }
  }
  count(action);
  emit(REEL_EV_CONNECT, action, proto, &orig);
  return 1;
}

SEC("cgroup/connect4")
int reel_connect4(struct bpf_sock_addr *ctx) { return on_connect(ctx, false); }

SEC("cgroup/connect6")
int reel_connect6(struct bpf_sock_addr *ctx) { return on_connect(ctx, true); }

/* Unconnected UDP: sendto()/sendmsg() with an address. */
static __always_inline int on_sendmsg(struct bpf_sock_addr *ctx, bool v6) {
  if (!has_dns4 && !has_dns6) return 1;
  if (ctx->type != SOCK_DGRAM || (u16)ctx->user_port != bpf_htons(DNS_PORT)) return 1;
  return on_connect(ctx, v6);
}

SEC("cgroup/sendmsg4")
int reel_sendmsg4(struct bpf_sock_addr *ctx) { return on_sendmsg(ctx, false); }

SEC("cgroup/sendmsg6")
int reel_sendmsg6(struct bpf_sock_addr *ctx) { return on_sendmsg(ctx, true); }

/* A reply from the resolver we chose is shown as coming from the server the app asked. */
static __always_inline int on_recvmsg(struct bpf_sock_addr *ctx, bool v6) {
  struct orig_value *v = bpf_sk_storage_get(&sk_orig, ctx->sk, 0, 0);
  if (!v || v->kind != ORIG_UDP_DNS) return 1;
  struct reel_addr from = {};
  if (v6) {
    u32 w[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
    set_ip6(from.ip, w);
  } else {
    set_mapped4(from.ip, ctx->user_ip4);
  }
  from.port = (u16)ctx->user_port;
  bool from_resolver = (has_dns4 && equals_v4(&from, dns4_ip, dns4_port)) ||
                       (has_dns6 && equals_v6(&from, dns6_ip, dns6_port));
  if (!from_resolver) return 1;
  write_addr(ctx, &v->addr, v6);
  return 1;
}

SEC("cgroup/recvmsg4")
int reel_recvmsg4(struct bpf_sock_addr *ctx) { return on_recvmsg(ctx, false); }

SEC("cgroup/recvmsg6")
int reel_recvmsg6(struct bpf_sock_addr *ctx) { return on_recvmsg(ctx, true); }

static __always_inline int on_getpeername(struct bpf_sock_addr *ctx, bool v6) {
  struct orig_value *v = bpf_sk_storage_get(&sk_orig, ctx->sk, 0, 0);
  if (!v) return 1;
  write_addr(ctx, &v->addr, v6);
  return 1;
}

SEC("cgroup/getpeername4")
int reel_getpeername4(struct bpf_sock_addr *ctx) { return on_getpeername(ctx, false); }

SEC("cgroup/getpeername6")
int reel_getpeername6(struct bpf_sock_addr *ctx) { return on_getpeername(ctx, true); }

static __always_inline void tuple_of(struct bpf_sock_ops *skops, struct reel_tuple *t) {
  if (skops->family == AF_INET) {
    set_mapped4(t->client_ip, skops->local_ip4);
    set_mapped4(t->proxy_ip, skops->remote_ip4);
  } else {
    u32 l[4] = {skops->local_ip6[0], skops->local_ip6[1], skops->local_ip6[2],
                skops->local_ip6[3]};
    u32 r[4] = {skops->remote_ip6[0], skops->remote_ip6[1], skops->remote_ip6[2],
                skops->remote_ip6[3]};
    set_ip6(t->client_ip, l);
    set_ip6(t->proxy_ip, r);
  }
  t->client_port = bpf_htons((u16)skops->local_port);
  /* sock_ops keeps remote_port in network byte order in the upper 16 bits. */
  t->proxy_port = (u16)(skops->remote_port >> 16);
}

/* One side of a filed connection has closed; the last side to close removes the entry. An entry
 * that a newer connection on the same 4-tuple has filed since is not this side's to change. */
static __always_inline void side_closed(const struct reel_tuple *t, u32 owner, u32 mine, u32 other) {
  struct reel_orig_entry *e = bpf_map_lookup_elem(&orig_by_tuple, t);
  if (!e || e->owner != owner) return;
  u32 seen = set_bit_seen(&e->state, mine);
  bool proxy_never_came = mine == REEL_ENTRY_CLIENT_CLOSED && !(seen & REEL_ENTRY_PROXY_ATTACHED);
  /* Both sides may get here for one entry (bpf/features.h): the delete that succeeds counts. */
  if (((seen & other) || proxy_never_came) && bpf_map_delete_elem(&orig_by_tuple, t) == 0)
    count(REEL_ACT_UNFILED);
}

/* Files the app socket's original destination under its 4-tuple. An older connection's entry on
 * the same tuple is replaced (and counted as unfiled) unless its proxy side is still open and this
 * socket is only connecting: the proxy may not have asked for it yet, and this connection cannot
 * reach the proxy while that socket holds the tuple, so it files again once established. */
static __always_inline bool file_entry(struct orig_value *v, const struct reel_tuple *t,
                                       bool established) {
  if (!v->owner) v->owner = bpf_get_prandom_u32() | 1;
  struct reel_orig_entry *old = bpf_map_lookup_elem(&orig_by_tuple, t);
  if (old && old->owner != v->owner) {
    u32 state = *(volatile u32 *)&old->state;
    bool proxy_open = (state & REEL_ENTRY_PROXY_ATTACHED) && !(state & REEL_ENTRY_PROXY_CLOSED);
    if (proxy_open && !established) return false;
    if (bpf_map_delete_elem(&orig_by_tuple, t) == 0) count(REEL_ACT_UNFILED);
  }
  struct reel_orig_entry entry = {};
  __builtin_memcpy(&entry.addr, &v->addr, sizeof(entry.addr));
  entry.owner = v->owner;
  return bpf_map_update_elem(&orig_by_tuple, t, &entry, BPF_ANY) == 0;
}

/* The app's side (target cgroup). */
SEC("sockops")
int reel_sockops(struct bpf_sock_ops *skops) {
  u32 op = skops->op;
  if (op != BPF_SOCK_OPS_TCP_CONNECT_CB && op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
      op != BPF_SOCK_OPS_STATE_CB)
    return 1;
  struct bpf_sock *sk = skops->sk;
  if (!sk) return 1;
  struct orig_value *v = bpf_sk_storage_get(&sk_orig, sk, 0, 0);
  if (!v || v->kind != ORIG_TCP) return 1;

  if (op == BPF_SOCK_OPS_STATE_CB) {
    if (skops->args[1] == BPF_TCP_CLOSE && v->filed) {
      v->filed = 0;
      side_closed(&v->tuple, v->owner, REEL_ENTRY_CLIENT_CLOSED, REEL_ENTRY_PROXY_CLOSED);
    }
    return 1;
  }
  struct reel_tuple t = {};
  tuple_of(skops, &t);
  if (t.client_port == 0) return 1;
  if (v->filed && same16(v->tuple.client_ip, t.client_ip) &&
      same16(v->tuple.proxy_ip, t.proxy_ip) && v->tuple.client_port == t.client_port &&
      v->tuple.proxy_port == t.proxy_port)
    return 1;
  if (file_entry(v, &t, op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)) {
    if (!v->filed) count(REEL_ACT_FILED);
    __builtin_memcpy(&v->tuple, &t, sizeof(t));
    v->filed = 1;
    bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
  }
  return 1;
}

/* The proxy's side (proxy's cgroup): keeps the entry alive while the accepted socket lives. */
SEC("sockops")
int reel_proxy_sockops(struct bpf_sock_ops *skops) {
  u32 op = skops->op;
  if (op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB && op != BPF_SOCK_OPS_STATE_CB) return 1;
  struct bpf_sock *sk = skops->sk;
  if (!sk) return 1;
  if (op == BPF_SOCK_OPS_STATE_CB) {
    if (skops->args[1] != BPF_TCP_CLOSE) return 1;
    struct proxy_value *pv = bpf_sk_storage_get(&proxy_side, sk, 0, 0);
    if (!pv) return 1;
    struct proxy_value p = *pv;
    bpf_sk_storage_delete(&proxy_side, sk);
    side_closed(&p.tuple, p.owner, REEL_ENTRY_PROXY_CLOSED, REEL_ENTRY_CLIENT_CLOSED);
    return 1;
  }
  /* local = the proxy, remote = the app */
  struct reel_tuple t = {};
  if (skops->family == AF_INET) {
    set_mapped4(t.client_ip, skops->remote_ip4);
    set_mapped4(t.proxy_ip, skops->local_ip4);
  } else {
    u32 l[4] = {skops->local_ip6[0], skops->local_ip6[1], skops->local_ip6[2],
                skops->local_ip6[3]};
    u32 r[4] = {skops->remote_ip6[0], skops->remote_ip6[1], skops->remote_ip6[2],
                skops->remote_ip6[3]};
    set_ip6(t.client_ip, r);
    set_ip6(t.proxy_ip, l);
  }
  t.client_port = (u16)(skops->remote_port >> 16);
  t.proxy_port = bpf_htons((u16)skops->local_port);
  struct reel_orig_entry *e = bpf_map_lookup_elem(&orig_by_tuple, &t);
  if (!e) return 1;
  struct proxy_value *pv = bpf_sk_storage_get(&proxy_side, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (!pv) return 1;
  pv->tuple = t;
  pv->owner = e->owner;
  set_bit_seen(&e->state, REEL_ENTRY_PROXY_ATTACHED);
  bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
  return 1;
}

/* Runs for every getsockopt() in the proxy's cgroup: reject everything else first. */
SEC("cgroup/getsockopt")
int reel_getsockopt(struct bpf_sockopt *ctx) {
  if (ctx->optname != REEL_SO_ORIGINAL_DST) return 1;
  int level = ctx->level;
  if (level != SOL_IP && level != SOL_IPV6) return 1;
  struct bpf_sock *sk = ctx->sk;
  if (!sk || sk->protocol != IPPROTO_TCP) return 1;

  /* On the proxy's accepted socket, the peer is the client and the local end is the proxy. */
  struct reel_tuple t = {};
  if (sk->family == AF_INET) {
    set_mapped4(t.client_ip, sk->dst_ip4);
    set_mapped4(t.proxy_ip, sk->src_ip4);
  } else {
    u32 d[4] = {sk->dst_ip6[0], sk->dst_ip6[1], sk->dst_ip6[2], sk->dst_ip6[3]};
    u32 s[4] = {sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2], sk->src_ip6[3]};
    set_ip6(t.client_ip, d);
    set_ip6(t.proxy_ip, s);
  }
  t.client_port = (u16)sk->dst_port;
  t.proxy_port = bpf_htons((u16)sk->src_port);

  struct reel_orig_entry *entry = bpf_map_lookup_elem(&orig_by_tuple, &t);
  if (!entry) {
    count(REEL_ACT_ORIGDST_MISSED);
    return 1;
  }
  struct reel_addr *orig = &entry->addr;
  u32 w[4];
  __builtin_memcpy(w, orig->ip, 16);
  if (level == SOL_IP) {
    if (!is_mapped(w)) return 1; /* an IPv6 original has no sockaddr_in form */
    struct sockaddr_in *sin = ctx->optval;
    if ((void *)(sin + 1) > ctx->optval_end) return 1;
    __builtin_memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    sin->sin_port = orig->port;
    sin->sin_addr.s_addr = w[3];
    ctx->optlen = sizeof(*sin);
  } else {
    struct sockaddr_in6 *sin6 = ctx->optval;
    if ((void *)(sin6 + 1) > ctx->optval_end) return 1;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = orig->port;
    sin6->sin6_flowinfo = 0;
    __builtin_memcpy(&sin6->sin6_addr, w, 16);
    sin6->sin6_scope_id = 0;
    ctx->optlen = sizeof(*sin6);
  }
  ctx->retval = 0;
  count(REEL_ACT_ORIGDST_ANSWERED);
  emit(REEL_EV_ORIGDST, REEL_ACT_ORIGDST_ANSWERED, IPPROTO_TCP, orig);
  return 1;
}
