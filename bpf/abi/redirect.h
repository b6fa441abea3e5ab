/* Plain structs shared by bpf/redirect.bpf.c and the C++ side. Fixed-width fields only.
 * Addresses are always 16 bytes: IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so one key shape
 * serves AF_INET, AF_INET6 and dual-stack sockets. Ports are in network byte order. */
#ifndef REEL_BPF_ABI_REDIRECT_H
#define REEL_BPF_ABI_REDIRECT_H

/* Enums sit outside the C++ namespace: their names carry the REEL_ prefix already. */
enum reel_action {
  REEL_ACT_REDIRECTED = 0,
  REEL_ACT_BYPASS_PORT = 1,     /* destination port not in --ports */
  REEL_ACT_BYPASS_EXCLUDED = 2, /* matched --exclude */
  REEL_ACT_BYPASS_NOT_INCLUDED = 3,
  REEL_ACT_BYPASS_PROXY = 4,    /* destination is the proxy itself */
  REEL_ACT_BYPASS_PROXY_PROCESS = 5, /* caller is the proxy (or reel) */
  REEL_ACT_BYPASS_NOT_TCP = 6,  /* UDP other than DNS, raw, ... */
  REEL_ACT_BYPASS_NO_PROXY_FAMILY = 7, /* no proxy address usable for this family */
  REEL_ACT_DNS_REDIRECTED = 8,
  REEL_ACT_ORIGDST_ANSWERED = 9, /* SO_ORIGINAL_DST answered for the proxy */
  REEL_ACT_ORIGDST_MISSED = 10,  /* SO_ORIGINAL_DST asked, nothing filed */
  REEL_ACT_FILED = 11,           /* sockops filed the original under the 4-tuple */
  REEL_ACT_UNFILED = 12,         /* entry removed when the client socket closed */
  REEL_ACT__COUNT = 13,
};

enum reel_event_kind {
  REEL_EV_CONNECT = 0,  /* a connect()/sendmsg() decision */
  REEL_EV_ORIGDST = 1,  /* the proxy asked for the original destination */
};

#include "types.h"

REEL_ABI_BEGIN

#define REEL_COMM_LEN 16
/* getsockopt(SOL_IP, SO_ORIGINAL_DST) and getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST) */
#define REEL_SO_ORIGINAL_DST 80

struct reel_addr {
  u8 ip[16];  /* IPv4 as ::ffff:a.b.c.d */
  u16 port;   /* network byte order */
  u16 family; /* AF_INET or AF_INET6: what the application asked for */
  u32 pad;
};

/* The client's side of a redirected connection, as the proxy sees it on its accepted socket. */
struct reel_tuple {
  u8 client_ip[16];
  u8 proxy_ip[16];
  u16 client_port; /* network byte order */
  u16 proxy_port;  /* network byte order */
  u32 pad;
};

/* Value of the proxy's 4-tuple map. The entry lives until both the app's socket and the proxy's
 * accepted socket have closed, so a client that sends and closes at once (its socket is gone
 * before the proxy calls accept) still has its original destination answered. A 4-tuple can be
 * used again while an older connection's proxy side still lives (loopback reuses TIME_WAIT
 * ports: tcp_tw_reuse=2), so an entry names the app socket that filed it (owner), and a close
 * only acts on its own connection's entry. */
#define REEL_ENTRY_PROXY_ATTACHED 1u /* the proxy's side of the connection exists */
#define REEL_ENTRY_CLIENT_CLOSED 2u
#define REEL_ENTRY_PROXY_CLOSED 4u
struct reel_orig_entry {
  struct reel_addr addr;
  u32 state; /* REEL_ENTRY_* bits, changed with atomic fetch-or */
  u32 owner; /* a random tag of the app socket that filed the entry, never 0 */
};

struct reel_lpm_key {
  u32 prefixlen; /* over ip[], so an IPv4 /24 is 96 + 24 */
  u8 ip[16];
};

struct reel_exact_key {
  u8 ip[16];
  u16 port; /* network byte order */
  u16 pad1;
  u32 pad2;
};

struct reel_event {
  u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
  u32 pid;   /* tgid */
  u32 tid;
  u8 comm[REEL_COMM_LEN];
  struct reel_addr orig;
  u8 kind;   /* enum reel_event_kind */
  u8 action; /* enum reel_action */
  u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
  u8 pad[5];
};

struct reel_counters {
  u64 seen;
  u64 by_action[REEL_ACT__COUNT];
};

REEL_ABI_END

#endif
