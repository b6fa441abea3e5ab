// SPDX-License-Identifier: GPL-2.0
/* reel capture: the bytes a scoped set of processes reads and writes on TCP/UDP sockets.
 *
 * Every sys_enter_* stashes its arguments per thread; the matching sys_exit_* knows how many
 * bytes moved and copies them (in CAP_CHUNK pieces, each with its byte position in the
 * direction's stream) into one ring buffer. Whether an fd is a socket, and its addresses, come
 * from a CO-RE walk of the task's fd table, cached per (tgid, fd). Everything out of scope
 * returns at the first instruction that can tell. Every drop is counted.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi/capture.h"
#include "conn.h"
#include "features.h"
#include "shared_maps.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define S_IFMT_ 00170000
#define S_IFSOCK_ 0140000
#define EINPROGRESS_ 115
#define MAX_IOV 64
#define MAX_MMSG 4

char LICENSE[] SEC("license") = "GPL";

enum { KIND_SOCKET = 1, KIND_OTHER = 2 };

/* What a stashed syscall was. */
enum {
  CALL_READ = 1, CALL_WRITE, CALL_READV, CALL_WRITEV, CALL_RECVFROM, CALL_SENDTO, CALL_RECVMSG, CALL_SENDMSG,
  CALL_RECVMMSG, CALL_SENDMMSG, CALL_SENDFILE, CALL_ACCEPT, CALL_CONNECT,
};

const volatile __u64 max_bytes_per_call = 65536; /* beyond this, a length-only event */

/* An event being built. The slack past its data lets a gather copy pieces at offsets the verifier
 * knows only as "below CAP_CHUNK" without proving that offset + length stays below it. */
struct data_scratch {
  struct cap_data_event ev;
  u8 slack[CAP_CHUNK];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct data_scratch);
} scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, CAP_CNT__COUNT);
  __type(key, u32);
  __type(value, u64);
} counters SEC(".maps");

__u64 next_gen = 1;
/* Set by user space once the TLS uprobes (bpf/tls.bpf.c) are attached. */
__u32 tls_active = 0;

static __always_inline void count(u32 which, u64 n) {
  u64 *c = bpf_map_lookup_elem(&counters, &which);
  if (c) *c += n;
}

/* One event into the ring (wake-up policy: ring_wakeup_flag), counted. */
static __always_inline long submit(void *data, u64 size) {
  long err = bpf_ringbuf_output(&events, data, size, ring_wakeup_flag());
  count(err ? CAP_CNT_LOST : CAP_CNT_EVENTS, 1);
  return err;
}

static __always_inline void fill_hdr(struct cap_hdr *h, u8 type, u32 fd, u64 gen) {
  u64 id = bpf_get_current_pid_tgid();
  h->type = type;
  h->dir = 0;
  h->flags = 0;
  h->role = 0;
  h->tgid = id >> 32;
  h->tid = (u32)id;
  h->fd = fd;
  h->gen = gen;
  h->ts_ns = bpf_ktime_get_ns();
}

static __always_inline struct sock *sock_of_fd(u32 fd) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds)) return NULL;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *f = NULL;
  bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
  if (!f) return NULL;
  umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
  if ((mode & S_IFMT_) != S_IFSOCK_) return NULL;
  struct socket *sock = BPF_CORE_READ(f, private_data);
  return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

static __always_inline void addr_v4(struct cap_addr *a, u32 ip_be, u16 port) {
  __builtin_memset(a->ip, 0, 10);
  a->ip[10] = 0xff;
  a->ip[11] = 0xff;
  __builtin_memcpy(a->ip + 12, &ip_be, 4);
  a->port = port;
}

static __always_inline void fill_addrs(struct cap_open_event *e, struct sock *sk, u16 family) {
  u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
  u16 rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (family == AF_INET) {
    addr_v4(&e->local, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr), lport);
    addr_v4(&e->remote, BPF_CORE_READ(sk, __sk_common.skc_daddr), rport);
  } else {
    BPF_CORE_READ_INTO(&e->local.ip, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
    BPF_CORE_READ_INTO(&e->remote.ip, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
    e->local.port = lport;
    e->remote.port = rport;
  }
}

/* The connection for (tgid, fd): from the cache, or classified now (and announced). */
static __always_inline struct conn_val *conn_of(u32 fd, u8 role, bool fresh) {
  struct conn_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd};
  if (!fresh) {
    struct conn_val *v = bpf_map_lookup_elem(&conns, &key);
    if (v) return v->kind == KIND_SOCKET ? v : NULL;
  }
  struct conn_val nv = {};
  struct sock *sk = sock_of_fd(fd);
  u16 family = sk ? BPF_CORE_READ(sk, __sk_common.skc_family) : 0;
  u16 protocol = sk ? BPF_CORE_READ(sk, sk_protocol) : 0;
  if (!sk || (family != AF_INET && family != AF_INET6) ||
      (protocol != IPPROTO_TCP_ && protocol != IPPROTO_UDP_)) {
    nv.kind = KIND_OTHER;
    bpf_map_update_elem(&conns, &key, &nv, BPF_ANY);
    count(CAP_CNT_NOT_SOCKET, 1);
    return NULL;
  }
  nv.kind = KIND_SOCKET;
  nv.role = role;
  nv.family = family;
  nv.protocol = protocol;
  nv.gen = fetch_add(&next_gen, 1);
  if (bpf_map_update_elem(&conns, &key, &nv, BPF_ANY)) return NULL;

  u32 zero = 0;
  struct cap_data_event *buf = bpf_map_lookup_elem(&scratch, &zero);
  if (buf) {
    struct cap_open_event *e = (struct cap_open_event *)buf;
    fill_hdr(&e->h, CAP_EV_OPEN, fd, nv.gen);
    e->h.role = role;
    fill_addrs(e, sk, family);
    e->family = family;
    e->protocol = protocol;
    e->pad = 0;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    submit(e, sizeof(*e));
  }
  return bpf_map_lookup_elem(&conns, &key);
}

/* --- copying bytes out ------------------------------------------------------------------ */

struct emit_ctx {
  const struct iovec *iov; /* user pointer; NULL for one flat buffer */
  u64 iovcnt;
  u64 iov_idx;
  const u8 *base;
  u64 left_in_iov;
  u64 remaining; /* bytes still to copy */
  u64 pos;
  u32 fd;
  u8 dir;
  u8 flags;
  u64 gen;
  struct cap_addr peer;
};

/* The loop state lives in a map, not on the stack: the verifier then sees unknown values instead
 * of exact ones and bpf_loop's callback converges in a few states instead of millions. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct emit_ctx);
} emit_state SEC(".maps");

/* A data event of `len` bytes at stream position `pos` of c's connection and direction. */
static __always_inline void fill_data(struct cap_data_event *e, const struct emit_ctx *c, u64 pos,
                                      u64 len) {
  fill_hdr(&e->h, CAP_EV_DATA, c->fd, c->gen);
  e->h.dir = c->dir;
  e->h.flags = c->flags;
  e->pos = pos;
  e->len = len;
  e->copied = len;
  e->peer = c->peer;
}

static long emit_chunk(u32 index, void *unused) {
  u32 zero = 0;
  struct emit_ctx *c = bpf_map_lookup_elem(&emit_state, &zero);
  if (!c || c->remaining == 0) return 1;
  if (c->left_in_iov == 0) {
    if (!c->iov || c->iov_idx >= c->iovcnt || c->iov_idx >= MAX_IOV) return 1;
    struct iovec v = {};
    if (bpf_probe_read_user(&v, sizeof(v), &c->iov[c->iov_idx])) return 1;
    c->iov_idx++;
    c->base = v.iov_base;
    c->left_in_iov = v.iov_len;
    if (c->left_in_iov == 0) return 0;
  }
  struct cap_data_event *e = bpf_map_lookup_elem(&scratch, &zero);
  if (!e) return 1;
  u64 n = c->left_in_iov < c->remaining ? c->left_in_iov : c->remaining;
  if (n > CAP_CHUNK) n = CAP_CHUNK;
  fill_data(e, c, c->pos, n);
  u64 size = n;
  asm volatile("%[size] &= 0x3fff" : [size] "+r"(size)); /* keep the verifier's bound: <= 2*CHUNK */
  if (size > CAP_CHUNK) size = CAP_CHUNK;
  if (bpf_probe_read_user(e->data, size, c->base)) {
    e->h.flags |= CAP_F_TRUNCATED | CAP_F_LENGTH_ONLY;
    e->copied = 0;
    size = 0;
  }
  if (submit(e, offsetof(struct cap_data_event, data) + size)) count(CAP_CNT_LOST_BYTES, n);
  c->base += n;
  c->left_in_iov -= n;
  c->remaining -= n;
  c->pos += n;
  return 0;
}

static __always_inline void emit_gap(struct emit_ctx *c, u64 pos, u64 len) {
  u32 zero = 0;
  struct cap_data_event *e = bpf_map_lookup_elem(&scratch, &zero);
  if (!e) return;
  fill_data(e, c, pos, len > 0xffffffffULL ? 0xffffffff : len);
  e->h.flags |= CAP_F_LENGTH_ONLY;
  e->copied = 0;
  submit(e, offsetof(struct cap_data_event, data));
}

/* A writev or recvmsg of a few iovecs that fit one event (a response's head and body): gathered
 * into one event, with one ring copy and no loop set-up, where emit_chunk would send one event per
 * iovec. False when it does not apply; then nothing was sent. Only where bpf_loop is (5.17+). */
#ifndef REEL_BPF_BASELINE
#define GATHER_IOV 4
static __always_inline bool emit_gathered(struct emit_ctx *c) {
  u64 total = c->remaining;
  if (!c->iov || c->iovcnt == 0 || c->iovcnt > GATHER_IOV || total > CAP_CHUNK) return false;
  u32 zero = 0;
  struct data_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
  if (!s) return false;
  struct iovec v[GATHER_IOV] = {};
  u32 iov_bytes = c->iovcnt * sizeof(struct iovec);
  if (iov_bytes > sizeof(v) || bpf_probe_read_user(v, iov_bytes, c->iov)) return false;
  struct cap_data_event *e = &s->ev;
  fill_data(e, c, c->pos, total);
  u64 off = 0;
#pragma unroll
  for (int i = 0; i < GATHER_IOV; i++) {
    if (i >= c->iovcnt || off >= total) break;
    u64 n = v[i].iov_len < total - off ? v[i].iov_len : total - off;
    if (n == 0) continue;
    u64 at = off & (CAP_CHUNK - 1); /* off < total <= CAP_CHUNK: unchanged, now bounded */
    u64 len = n & (2 * CAP_CHUNK - 1);
    if (len > CAP_CHUNK) len = CAP_CHUNK;
    if (bpf_probe_read_user(e->data + at, len, v[i].iov_base)) {
      e->h.flags |= CAP_F_TRUNCATED | CAP_F_LENGTH_ONLY;
      e->copied = 0;
      break;
    }
    off += n;
  }
  if (e->copied) e->copied = off; /* iovecs shorter than what moved: the rest is a gap */
  u64 size = e->copied;
  asm volatile("%[size] &= 0x3fff" : [size] "+r"(size));
  if (size > CAP_CHUNK) size = CAP_CHUNK;
  if (submit(e, offsetof(struct cap_data_event, data) + size)) count(CAP_CNT_LOST_BYTES, total);
  c->remaining = 0;
  return true;
}
#endif

/* Sends `total` bytes that moved through `iov` (or the flat buffer `base`) on conn `v`. */
static __always_inline void emit_bytes(struct conn_val *v, u32 fd, u8 dir, u8 flags,
                                       const struct iovec *iov, u64 iovcnt, const void *base,
                                       u64 total, const struct cap_addr *peer) {
  if (total == 0) return;
  u64 *counter = dir == CAP_DIR_EGRESS ? &v->egress : &v->ingress;
  u64 pos = fetch_add(counter, total);
  u32 zero = 0;
  struct emit_ctx *c = bpf_map_lookup_elem(&emit_state, &zero);
  if (!c) return;
  u64 copy = total < max_bytes_per_call ? total : max_bytes_per_call;
  c->iov = iov;
  c->iovcnt = iovcnt;
  c->iov_idx = 0;
  c->base = base;
  c->left_in_iov = iov ? 0 : total;
  c->remaining = copy;
  c->pos = pos;
  c->fd = fd;
  c->dir = dir;
  c->flags = flags;
  c->gen = v->gen;
  if (peer)
    c->peer = *peer;
  else
    __builtin_memset(&c->peer, 0, sizeof(c->peer));
  /* One iteration per chunk, plus one per iovec boundary (a chunk never spans two iovecs). */
  u32 loops = copy / CAP_CHUNK + 2 + (iov ? 2 * (iovcnt < MAX_IOV ? iovcnt : MAX_IOV) : 0);
  if (!iov && copy <= CAP_CHUNK)
    emit_chunk(0, NULL); /* the common small read or write: no loop set-up */
#ifndef REEL_BPF_BASELINE
  else if (have_bpf_loop && emit_gathered(c))
    ; /* only beside bpf_loop; and not in the baseline object at all: there, even behind this
       * test, it made a capture test on 5.10 (in the matrix's guest) take 16 s instead of 6 */
#endif
  else
    run_loop(loops, emit_chunk);
  copy -= c->remaining; /* iovecs that ended early leave the rest as a gap too */
  if (total > copy) {
    count(CAP_CNT_CAPPED_BYTES, total - copy);
    emit_gap(c, pos + copy, total - copy);
  }
}

/* A sockaddr from user memory (datagram peers). */
static __always_inline void read_peer(struct cap_addr *out, const void *uaddr) {
  __builtin_memset(out, 0, sizeof(*out));
  if (!uaddr) return;
  u16 family = 0;
  bpf_probe_read_user(&family, sizeof(family), uaddr);
  if (family == AF_INET) {
    struct sockaddr_in sin = {};
    bpf_probe_read_user(&sin, sizeof(sin), uaddr);
    addr_v4(out, sin.sin_addr.s_addr, bpf_ntohs(sin.sin_port));
  } else if (family == AF_INET6) {
    struct sockaddr_in6 sin6 = {};
    bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
    __builtin_memcpy(out->ip, &sin6.sin6_addr, 16);
    out->port = bpf_ntohs(sin6.sin6_port);
  }
}

/* --- syscall entry: stash --------------------------------------------------------------- */

struct sys_enter_ctx {
  u64 common;
  s32 nr;
  u32 pad;
  u64 args[6];
};

struct sys_exit_ctx {
  u64 common;
  s32 nr;
  u32 pad;
  s64 ret;
};

/* Reads only the `nargs` arguments the syscall has: the kernel refuses to attach a program that
 * reads past the end of its tracepoint's record. `nargs` is a constant after inlining. */
static __always_inline int stash(struct sys_enter_ctx *ctx, u32 op, int nargs) {
  if (!in_scope()) return 0;
  /* No test for a known non-socket here: the exit asks the connection map anyway, and a lookup on
   * both sides cost every socket call of a traced process a second hash lookup (about 15 ns). */
  struct stash *s = thread_state(stashes, true);
  if (!s) return 0;
  s->op = op;
  s->args[0] = ctx->args[0]; /* not a loop: the verifier forbids a moving ctx pointer */
  if (nargs > 1) s->args[1] = ctx->args[1];
  if (nargs > 2) s->args[2] = ctx->args[2];
  if (nargs > 3) s->args[3] = ctx->args[3];
  if (nargs > 4) s->args[4] = ctx->args[4];
  return 0;
}

#define ENTER(name, op, nargs)                                        \
  SEC("tracepoint/syscalls/sys_enter_" #name)                         \
  int on_enter_##name(struct sys_enter_ctx *ctx) { return stash(ctx, op, nargs); }

ENTER(read, CALL_READ, 3)
ENTER(write, CALL_WRITE, 3)
ENTER(readv, CALL_READV, 3)
ENTER(writev, CALL_WRITEV, 3)
ENTER(recvfrom, CALL_RECVFROM, 5)
ENTER(sendto, CALL_SENDTO, 5)
ENTER(recvmsg, CALL_RECVMSG, 3)
ENTER(sendmsg, CALL_SENDMSG, 3)
ENTER(recvmmsg, CALL_RECVMMSG, 4)
ENTER(sendmmsg, CALL_SENDMMSG, 4)
ENTER(sendfile64, CALL_SENDFILE, 4)
ENTER(accept, CALL_ACCEPT, 3)
ENTER(accept4, CALL_ACCEPT, 4)
ENTER(connect, CALL_CONNECT, 3)

/* --- syscall exit: the work -------------------------------------------------------------- */

/* The thread's stashed arguments for `op`, or NULL. Out-of-scope threads have no storage, so
 * this is also the exit side's scope check. */
static __always_inline struct stash *take_stash(u32 op) {
  struct stash *s = thread_state(stashes, false);
  if (!s || s->op != op) {
    if (s && s->op) count(CAP_CNT_STASH_MISS, 1);
    return NULL;
  }
  return s;
}

/* Marks the stash consumed (the storage itself stays with the thread for its next call). */
static __always_inline void drop_stash(struct stash *s) { s->op = 0; }

static __always_inline u8 dir_of(u32 op) {
  return (op == CALL_WRITE || op == CALL_WRITEV || op == CALL_SENDTO || op == CALL_SENDMSG ||
          op == CALL_SENDMMSG || op == CALL_SENDFILE)
             ? CAP_DIR_EGRESS
             : CAP_DIR_INGRESS;
}

/* A syscall inside an SSL call names the SSL's socket (for the uprobes) and makes it a TLS
 * connection, whose ciphertext is not sent: the uprobes send its plaintext. */
static __always_inline struct conn_val *unless_tls(struct conn_val *v, u32 fd) {
  struct tls_call *call = thread_state(tls_calls, false);
  if (call && call->active) {
    if (call->fd < 0) call->fd = fd;
    v->flags |= CONN_F_TLS;
  }
  return v->flags & CONN_F_TLS ? NULL : v;
}

/* For a call that finished having moved bytes on a known socket: its stashed arguments (in
 * `st`) and its connection; NULL otherwise. Every data-moving exit starts here. */
static __always_inline struct conn_val *finished_call(struct sys_exit_ctx *ctx, u32 op,
                                                      struct stash *st) {
  struct stash *s = take_stash(op);
  if (!s) return NULL;
  *st = *s;
  drop_stash(s);
  if (ctx->ret <= 0) return NULL;
  struct conn_val *v = conn_of((u32)st->args[0], CAP_ROLE_UNKNOWN, false);
  return v && tls_active ? unless_tls(v, (u32)st->args[0]) : v;
}

/* read/write/recvfrom/sendto: one flat buffer in args[1]. */
static __always_inline int exit_flat(struct sys_exit_ctx *ctx, u32 op) {
  struct stash st;
  struct conn_val *v = finished_call(ctx, op, &st);
  if (!v) return 0;
  u32 fd = (u32)st.args[0];
  struct cap_addr peer = {};
  u8 flags = 0;
  if (v->protocol == IPPROTO_UDP_) {
    flags = CAP_F_DATAGRAM;
    if (op == CALL_SENDTO || op == CALL_RECVFROM) read_peer(&peer, (const void *)st.args[4]);
  }
  emit_bytes(v, fd, dir_of(op), flags, NULL, 0, (const void *)st.args[1], (u64)ctx->ret, &peer);
  return 0;
}

/* readv/writev: iovec array in args[1], count in args[2]. */
static __always_inline int exit_vec(struct sys_exit_ctx *ctx, u32 op) {
  struct stash st;
  struct conn_val *v = finished_call(ctx, op, &st);
  if (!v) return 0;
  u32 fd = (u32)st.args[0];
  u8 flags = v->protocol == IPPROTO_UDP_ ? CAP_F_DATAGRAM : 0;
  emit_bytes(v, fd, dir_of(op), flags, (const struct iovec *)st.args[1], st.args[2], NULL,
             (u64)ctx->ret, NULL);
  return 0;
}

/* One struct user_msghdr at `umsg` that moved `len` bytes. */
static __always_inline void emit_msghdr(struct conn_val *v, u32 fd, u8 dir, const void *umsg,
                                        u64 len) {
  struct user_msghdr m = {};
  if (bpf_probe_read_user(&m, sizeof(m), umsg)) return;
  struct cap_addr peer = {};
  u8 flags = 0;
  if (v->protocol == IPPROTO_UDP_) {
    flags = CAP_F_DATAGRAM;
    read_peer(&peer, m.msg_name);
  }
  emit_bytes(v, fd, dir, flags, (const struct iovec *)m.msg_iov, m.msg_iovlen, NULL, len, &peer);
}

static __always_inline int exit_msg(struct sys_exit_ctx *ctx, u32 op) {
  struct stash st;
  struct conn_val *v = finished_call(ctx, op, &st);
  if (!v) return 0;
  u32 fd = (u32)st.args[0];
  emit_msghdr(v, fd, dir_of(op), (const void *)st.args[1], (u64)ctx->ret);
  return 0;
}

/* recvmmsg/sendmmsg: ret is the number of messages; each carries its own msg_len. */
static __always_inline int exit_mmsg(struct sys_exit_ctx *ctx, u32 op) {
  struct stash st;
  struct conn_val *v = finished_call(ctx, op, &st);
  if (!v) return 0;
  u32 fd = (u32)st.args[0];
  struct mmsghdr *msgs = (struct mmsghdr *)st.args[1];
  for (int i = 0; i < MAX_MMSG; i++) {
    if (i >= ctx->ret) break;
    unsigned int len = 0;
    bpf_probe_read_user(&len, sizeof(len), &msgs[i].msg_len);
    emit_msghdr(v, fd, dir_of(op), &msgs[i].msg_hdr, len);
  }
  return 0;
}

/* sendfile: the bytes come from a file; their count is known, their content is not. */
static __always_inline int exit_sendfile(struct sys_exit_ctx *ctx) {
  struct stash st;
  struct conn_val *v = finished_call(ctx, CALL_SENDFILE, &st);
  if (!v) return 0;
  u32 fd = (u32)st.args[0];
  u64 pos = fetch_add(&v->egress, (u64)ctx->ret);
  struct emit_ctx c = {.fd = fd, .dir = CAP_DIR_EGRESS, .flags = CAP_F_SENDFILE, .gen = v->gen};
  emit_gap(&c, pos, (u64)ctx->ret);
  return 0;
}

static __always_inline int exit_accept(struct sys_exit_ctx *ctx) {
  struct stash *s = take_stash(CALL_ACCEPT);
  if (!s) return 0;
  drop_stash(s);
  if (ctx->ret < 0) return 0;
  conn_of((u32)ctx->ret, CAP_ROLE_SERVER, true);
  return 0;
}

static __always_inline int exit_connect(struct sys_exit_ctx *ctx) {
  struct stash *s = take_stash(CALL_CONNECT);
  if (!s) return 0;
  struct stash st = *s;
  drop_stash(s);
  if (ctx->ret != 0 && ctx->ret != -EINPROGRESS_) return 0;
  conn_of((u32)st.args[0], CAP_ROLE_CLIENT, true);
  return 0;
}

#define EXIT(name, body)                                \
  SEC("tracepoint/syscalls/sys_exit_" #name)            \
  int on_exit_##name(struct sys_exit_ctx *ctx) { return body; }

EXIT(read, exit_flat(ctx, CALL_READ))
EXIT(write, exit_flat(ctx, CALL_WRITE))
EXIT(recvfrom, exit_flat(ctx, CALL_RECVFROM))
EXIT(sendto, exit_flat(ctx, CALL_SENDTO))
EXIT(readv, exit_vec(ctx, CALL_READV))
EXIT(writev, exit_vec(ctx, CALL_WRITEV))
EXIT(recvmsg, exit_msg(ctx, CALL_RECVMSG))
EXIT(sendmsg, exit_msg(ctx, CALL_SENDMSG))
EXIT(recvmmsg, exit_mmsg(ctx, CALL_RECVMMSG))
EXIT(sendmmsg, exit_mmsg(ctx, CALL_SENDMMSG))
EXIT(sendfile64, exit_sendfile(ctx))
EXIT(accept, exit_accept(ctx))
EXIT(accept4, exit_accept(ctx))
EXIT(connect, exit_connect(ctx))

/* close(): announce the totals and forget the fd (at entry: the fd is gone after). */
SEC("tracepoint/syscalls/sys_enter_close")
int on_enter_close(struct sys_enter_ctx *ctx) {
  if (!in_scope()) return 0;
  struct conn_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = (u32)ctx->args[0]};
  struct conn_val *v = bpf_map_lookup_elem(&conns, &key);
  if (!v) return 0;
  if (v->kind == KIND_SOCKET) {
    struct cap_close_event e = {};
    fill_hdr(&e.h, CAP_EV_CLOSE, key.fd, v->gen);
    e.bytes_egress = v->egress;
    e.bytes_ingress = v->ingress;
    submit(&e, sizeof(e));
  }
  bpf_map_delete_elem(&conns, &key);
  return 0;
}

/* Children of a traced process are traced (tgid scope; cgroup scope follows by itself). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child) {
  if (scope_mode != SCOPE_TGID) return 0;
  u32 ptgid = parent->tgid;
  if (!bpf_map_lookup_elem(&scope_tgids, &ptgid)) return 0;
  u32 ctgid = child->tgid;
  u8 one = 1;
  bpf_map_update_elem(&scope_tgids, &ctgid, &one, BPF_ANY);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task) {
  if (!have_task_storage) { /* per-thread maps keyed by thread id (features.h): this one is done */
    int tid = task->pid;
    bpf_map_delete_elem(&stashes, &tid);
    bpf_map_delete_elem(&tls_calls, &tid);
  }
  if (task->pid != task->tgid || !in_scope()) return 0;
  struct cap_exit_event e = {};
  fill_hdr(&e.h, CAP_EV_EXIT, 0, 0);
  submit(&e, sizeof(e));
  if (scope_mode == SCOPE_TGID) {
    u32 tgid = task->tgid;
    bpf_map_delete_elem(&scope_tgids, &tgid);
  }
  return 0;
}
