// SPDX-License-Identifier: GPL-2.0
/* reel TLS: the plaintext of SSL_read/SSL_write(_ex) in OpenSSL (and libraries that export the
 * same symbols: BoringSSL, LibreSSL), and of Go's crypto/tls (at the end of this file), from
 * uprobes, as data events of the capture's connection.
 *
 * Entry probes remember the call per thread; return probes know how many bytes moved and copy
 * them from the caller's buffer. Each SSL* is tied to its socket fd by, in order: SSL_set_fd (or
 * an earlier tie), the socket syscall the capture saw inside the call, the last fd the thread
 * used. The connection (and its generation) is the capture's: this group reuses the capture's
 * maps and ring buffer by fd, so plaintext and connection events arrive in one ordered stream.
 * Plaintext has its own byte positions; the capture drops a TLS connection's ciphertext.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi/capture.h"
#include "abi/tls.h"
#include "conn.h"
#include "features.h"
#include "shared_maps.h"

char LICENSE[] SEC("license") = "GPL";

enum { KIND_SOCKET = 1 };

const volatile __u64 max_bytes_per_call = 65536;

/* --- this group's own maps ---------------------------------------------------------------- */

struct ssl_key {
  u32 tgid;
  u32 pad;
  u64 ssl;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ssl_key);
  __type(value, u32);
} ssl_fds SEC(".maps");

/* Plaintext positions per connection; `gen` tells a new connection on a reused fd. */
struct tls_pos {
  u64 gen;
  u64 egress;
  u64 ingress;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct conn_key);
  __type(value, struct tls_pos);
} tls_positions SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, TLS_CNT__COUNT);
  __type(key, u32);
  __type(value, u64);
} tls_counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct cap_data_event);
} tls_scratch SEC(".maps");

/* The copy loop's state (a map value, so bpf_loop's callback verifies quickly). */
struct copy_state {
  const u8 *src;
  u64 remaining;
  u64 pos;
  u64 gen;
  u64 ts_ns;
  u32 fd;
  u8 dir;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct copy_state);
} tls_copy SEC(".maps");

static __always_inline void count(u32 which, u64 n) {
  u64 *c = bpf_map_lookup_elem(&tls_counters, &which);
  if (c) *c += n;
}

/* One event into the ring (wake-up policy: ring_wakeup_flag), counted. */
static __always_inline long submit(void *data, u64 size) {
  long err = bpf_ringbuf_output(&events, data, size, ring_wakeup_flag());
  count(err ? TLS_CNT_LOST : TLS_CNT_EVENTS, 1);
  return err;
}

static __always_inline void fill_hdr(struct cap_data_event *e, struct copy_state *c, u64 pos,
                                     u32 len) {
  u64 id = bpf_get_current_pid_tgid();
  e->h.type = CAP_EV_DATA;
  e->h.dir = c->dir;
  e->h.flags = CAP_F_TLS;
  e->h.role = 0;
  e->h.tgid = id >> 32;
  e->h.tid = (u32)id;
  e->h.fd = c->fd;
  e->h.gen = c->gen;
  e->h.ts_ns = c->ts_ns;
  e->pos = pos;
  e->len = len;
  e->copied = 0;
  __builtin_memset(&e->peer, 0, sizeof(e->peer));
}

static long copy_chunk(u32 index, void *unused) {
  u32 zero = 0;
  struct copy_state *c = bpf_map_lookup_elem(&tls_copy, &zero);
  if (!c || c->remaining == 0) return 1;
  struct cap_data_event *e = bpf_map_lookup_elem(&tls_scratch, &zero);
  if (!e) return 1;
  u64 n = c->remaining < CAP_CHUNK ? c->remaining : CAP_CHUNK;
  fill_hdr(e, c, c->pos, n);
  u64 size = n;
  asm volatile("%[size] &= 0x3fff" : [size] "+r"(size)); /* a bound the verifier keeps */
  if (size > CAP_CHUNK) size = CAP_CHUNK;
  if (bpf_probe_read_user(e->data, size, c->src)) {
    e->h.flags |= CAP_F_TRUNCATED | CAP_F_LENGTH_ONLY;
    size = 0;
  }
  e->copied = size;
  if (submit(e, offsetof(struct cap_data_event, data) + size)) count(TLS_CNT_LOST_BYTES, n);
  c->src += n;
  c->remaining -= n;
  c->pos += n;
  return 0;
}

/* Sends `total` plaintext bytes at `buf` as the next bytes of the connection's `dir` stream. */
static __always_inline void emit_plaintext(struct conn_key *key, struct conn_val *v, u8 dir,
                                           const void *buf, u64 total, u64 ts_ns) {
  struct tls_pos *p = bpf_map_lookup_elem(&tls_positions, key);
  if (!p || p->gen != v->gen) {
    struct tls_pos fresh = {.gen = v->gen};
    bpf_map_update_elem(&tls_positions, key, &fresh, BPF_ANY);
    p = bpf_map_lookup_elem(&tls_positions, key);
    if (!p) return;
  }
  u64 pos = fetch_add(dir == CAP_DIR_EGRESS ? &p->egress : &p->ingress, total);
  u32 zero = 0;
  struct copy_state *c = bpf_map_lookup_elem(&tls_copy, &zero);
  if (!c) return;
  u64 copy = total < max_bytes_per_call ? total : max_bytes_per_call;
  c->src = buf;
  c->remaining = copy;
  c->pos = pos;
  c->gen = v->gen;
  c->fd = key->fd;
  c->dir = dir;
  c->ts_ns = ts_ns;
  if (copy <= CAP_CHUNK)
    copy_chunk(0, NULL);
  else
    run_loop(copy / CAP_CHUNK + 1, copy_chunk);
  copy -= c->remaining; /* a bounded loop (features.h) may leave some: sent as a gap too */
  if (total > copy) {
    count(TLS_CNT_CAPPED_BYTES, total - copy);
    struct cap_data_event *e = bpf_map_lookup_elem(&tls_scratch, &zero);
    if (!e) return;
    u64 gap = total - copy;
    fill_hdr(e, c, pos + copy, gap > 0xffffffffULL ? 0xffffffff : gap);
    e->h.flags |= CAP_F_LENGTH_ONLY;
    submit(e, offsetof(struct cap_data_event, data));
  }
}

/* --- SSL* to fd ---------------------------------------------------------------------------- */

static __always_inline int remember_fd(void *ssl, int fd) {
  if (!in_scope() || fd < 0) return 0;
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  struct ssl_key k = {.tgid = tgid, .ssl = (u64)ssl};
  u32 v = fd;
  bpf_map_update_elem(&ssl_fds, &k, &v, BPF_ANY);
  /* From here on the capture leaves this socket's ciphertext (the handshake too) alone. */
  struct conn_key ck = {.tgid = tgid, .fd = v};
  struct conn_val *c = bpf_map_lookup_elem(&conns, &ck);
  if (c && c->kind == KIND_SOCKET) c->flags |= CONN_F_TLS;
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_set_fd, void *ssl, int fd) { return remember_fd(ssl, fd); }

SEC("uprobe")
int BPF_KPROBE(ssl_free, void *ssl) {
  struct ssl_key k = {.tgid = bpf_get_current_pid_tgid() >> 32, .ssl = (u64)ssl};
  bpf_map_delete_elem(&ssl_fds, &k);
  return 0;
}

/* --- the calls ----------------------------------------------------------------------------- */

static __always_inline int enter(void *ssl, const void *buf, void *out_len, u8 op) {
  if (!in_scope()) return 0;
  struct tls_call *cur = thread_state(tls_calls, true);
  if (!cur) return 0;
  if (cur->active && cur->ssl == (u64)ssl) {
    cur->depth++; /* an inner entry point of the same call: the outer one reports */
    return 0;
  }
  /* Otherwise a call whose return never came (a longjmp, say) is simply replaced. */
  cur->ssl = (u64)ssl;
  cur->buf = (u64)buf;
  cur->out_len = (u64)out_len;
  cur->fd = -1;
  cur->op = op;
  cur->depth = 0;
  cur->active = 1;
  cur->start_ns = bpf_ktime_get_ns();
  return 0;
}

/* The socket under `call`: see the file comment for the order. */
static __always_inline int tie(struct tls_call *call, u32 tgid, struct ssl_key *sk) {
  u32 *cached = bpf_map_lookup_elem(&ssl_fds, sk);
  if (cached) {
    count(TLS_CNT_BY_SET_FD, 1);
    return *cached;
  }
  int fd = call->fd;
  if (fd >= 0) {
    count(TLS_CNT_BY_SYSCALL, 1);
    u32 v = fd; /* a sure tie: later calls served from OpenSSL's buffer (no syscall) use it */
    bpf_map_update_elem(&ssl_fds, sk, &v, BPF_ANY);
    return fd;
  }
  /* A guess, not remembered: the next call that makes a syscall ties for sure. */
  struct stash *s = thread_state(stashes, false);
  if (!s) return -1;
  count(TLS_CNT_BY_LAST_FD, 1);
  return (int)s->args[0];
}

static __always_inline int leave(long ret) {
  struct tls_call *p = thread_state(tls_calls, false);
  if (!p || !p->active) return 0;
  if (p->depth) {
    p->depth--;
    return 0;
  }
  struct tls_call call = *p;
  p->active = 0;
  u64 id = bpf_get_current_pid_tgid();
  u64 n = 0;
  if (call.out_len) {
    /* SSL_x_ex returns 1, the internal functions under it a positive int, on success. */
    if ((int)ret <= 0 || bpf_probe_read_user(&n, sizeof(n), (void *)call.out_len)) return 0;
  } else {
    if ((int)ret <= 0) return 0;
    n = (u64)(int)ret;
  }
  if (n == 0) return 0;
  count(TLS_CNT_CALLS, 1);
  u32 tgid = id >> 32;
  struct ssl_key sk = {.tgid = tgid, .ssl = call.ssl};
  int fd = tie(&call, tgid, &sk);
  struct conn_key key = {.tgid = tgid, .fd = (u32)fd};
  struct conn_val *v = fd >= 0 ? bpf_map_lookup_elem(&conns, &key) : NULL;
  if (!v || v->kind != KIND_SOCKET) {
    /* A stale tie (the fd was closed) must not stick to the SSL* either. */
    bpf_map_delete_elem(&ssl_fds, &sk);
    count(TLS_CNT_UNTIED, 1);
    count(TLS_CNT_UNTIED_BYTES, n);
    return 0;
  }
  v->flags |= CONN_F_TLS;
  /* Bytes written are stamped when the app began the write (the relay or peer may have them
   * before SSL_write returns); bytes read when the read returned. */
  bool write = call.op == TLS_OP_WRITE;
  emit_plaintext(&key, v, write ? CAP_DIR_EGRESS : CAP_DIR_INGRESS, (const void *)call.buf, n,
                 write ? call.start_ns : bpf_ktime_get_ns());
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, const void *buf, int num) {
  return enter(ssl, buf, NULL, TLS_OP_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf, int num) {
  return enter(ssl, buf, NULL, TLS_OP_READ);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, const void *buf, size_t num, size_t *written) {
  return enter(ssl, buf, written, TLS_OP_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, size_t num, size_t *readbytes) {
  return enter(ssl, buf, readbytes, TLS_OP_READ);
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_call_return, long ret) { return leave(ret); }

/* --- Go's crypto/tls ------------------------------------------------------------------------
 * (*tls.Conn).Read and Write, amd64, Go >= 1.17 (register ABI): arguments in RAX (the *Conn),
 * RBX and RCX (the slice), the result n in RAX at return, the running goroutine in R14.
 * Write sends all of its slice unless the connection fails, so its plaintext is taken at entry.
 * Read copies the decrypted record into the caller's slice with one runtime.memmove (to RAX,
 * from RBX, n in RCX): a probe on that call (an instruction the kernel emulates) sees the
 * plaintext. The socket comes from Read's entry, keyed by goroutine (it may move to another
 * thread while it waits inside the call). Where Read has no such call, probes on every RET read
 * n from RAX instead: never a uretprobe, which rewrites a return address on a stack Go may move,
 * but a RET is single-stepped, each costing a debug trap. */

struct go_call_key {
  u32 tgid;
  u32 pad;
  u64 g;
};

/* A Read in progress: the caller's buffer and the socket under its *Conn (-1: not found). */
struct go_call {
  u64 buf;
  s32 fd;
  u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct go_call_key);
  __type(value, struct go_call);
} go_calls SEC(".maps");

/* The socket of a *tls.Conn over a *net.TCPConn (what net/http dials and accepts): its first
 * field, the net.Conn interface, points to the TCPConn, whose first field is the *netFD; there
 * poll.FD's Sysfd follows the 16-byte fdMutex. Layouts unchanged since Go 1.9. -1 when the walk
 * fails; a wrong guess finds no socket of this process in `conns` and counts as untied. */
static __always_inline int go_conn_fd(u64 conn) {
  u64 tcp_conn = 0, net_fd = 0;
  s64 sysfd = -1;
  if (bpf_probe_read_user(&tcp_conn, sizeof(tcp_conn), (void *)(conn + 8)) || !tcp_conn) return -1;
  if (bpf_probe_read_user(&net_fd, sizeof(net_fd), (void *)tcp_conn) || !net_fd) return -1;
  if (bpf_probe_read_user(&sysfd, sizeof(sysfd), (void *)(net_fd + 16))) return -1;
  return sysfd >= 0 && sysfd < (1 << 24) ? (int)sysfd : -1;
}

/* The capture's entry for socket `fd` (from go_conn_fd), flagged TLS so its ciphertext is left
 * alone. */
static __always_inline struct conn_val *go_socket(u32 tgid, int fd, struct conn_key *key) {
  if (fd < 0) return NULL;
  key->tgid = tgid;
  key->fd = (u32)fd;
  struct conn_val *v = bpf_map_lookup_elem(&conns, key);
  if (!v || v->kind != KIND_SOCKET) return NULL;
  v->flags |= CONN_F_TLS;
  return v;
}

/* `n` plaintext bytes at `buf` of socket `fd`, or counted untied. */
static __always_inline void go_emit(u32 tgid, int fd, u8 dir, u64 buf, s64 n, u64 ts_ns) {
  count(TLS_CNT_CALLS, 1);
  struct conn_key key = {};
  struct conn_val *v = go_socket(tgid, fd, &key);
  if (!v) {
    count(TLS_CNT_UNTIED, 1);
    count(TLS_CNT_UNTIED_BYTES, n);
    return;
  }
  count(TLS_CNT_BY_GO_CONN, 1);
  emit_plaintext(&key, v, dir, (const void *)buf, n, ts_ns);
}

SEC("uprobe")
int go_write_enter(struct pt_regs *ctx) {
  if (!in_scope()) return 0;
  s64 n = (s64)ctx->cx;
  if (n > 0)
    go_emit(bpf_get_current_pid_tgid() >> 32, go_conn_fd(ctx->ax), CAP_DIR_EGRESS, ctx->bx, n,
            bpf_ktime_get_ns());
  return 0;
}

SEC("uprobe")
int go_read_enter(struct pt_regs *ctx) {
  if (!in_scope()) return 0;
  struct go_call_key k = {.tgid = bpf_get_current_pid_tgid() >> 32, .g = ctx->r14};
  struct go_call c = {.buf = ctx->bx, .fd = go_conn_fd(ctx->ax)};
  bpf_map_update_elem(&go_calls, &k, &c, BPF_ANY);
  struct conn_key key = {};
  go_socket(k.tgid, c.fd, &key); /* the handshake inside the first call is ciphertext too */
  return 0;
}

/* (*tls.Conn).handshakeContext: servers shake hands before their first Read. */
SEC("uprobe")
int go_handshake_enter(struct pt_regs *ctx) {
  if (!in_scope()) return 0;
  struct conn_key key = {};
  go_socket(bpf_get_current_pid_tgid() >> 32, go_conn_fd(ctx->ax), &key);
  return 0;
}

SEC("uprobe")
int go_read_copy(struct pt_regs *ctx) {
  struct go_call_key k = {.tgid = bpf_get_current_pid_tgid() >> 32, .g = ctx->r14};
  struct go_call *p = bpf_map_lookup_elem(&go_calls, &k);
  if (!p) return 0;
  int fd = p->fd;
  bpf_map_delete_elem(&go_calls, &k);
  s64 n = (s64)ctx->cx;
  if (n > 0) go_emit(k.tgid, fd, CAP_DIR_INGRESS, ctx->bx, n, bpf_ktime_get_ns());
  return 0;
}

SEC("uprobe")
int go_read_return(struct pt_regs *ctx) {
  struct go_call_key k = {.tgid = bpf_get_current_pid_tgid() >> 32, .g = ctx->r14};
  struct go_call *p = bpf_map_lookup_elem(&go_calls, &k);
  if (!p) return 0;
  struct go_call call = *p;
  bpf_map_delete_elem(&go_calls, &k);
  s64 n = (s64)ctx->ax;
  if (n > 0) go_emit(k.tgid, call.fd, CAP_DIR_INGRESS, call.buf, n, bpf_ktime_get_ns());
  return 0;
}
