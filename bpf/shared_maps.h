/* Maps the capture program group owns and the TLS group reuses by fd (bpf_map__reuse_fd before
 * load): one definition for both, so their types, keys, values and sizes cannot drift apart; and
 * the scope test both groups run first. Include after conn.h and abi/capture.h. */
#pragma once

enum { SCOPE_CGROUP = 1, SCOPE_TGID = 2 };

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, u64);
  __type(value, u8);
} scope_cgroups SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, u32);
  __type(value, u8);
} scope_tgids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct conn_key);
  __type(value, struct conn_val);
} conns SEC(".maps");

/* Per-thread syscall arguments between sys_enter and sys_exit. Task storage: no hashing, no
 * locks, freed with the thread. Where the kernel has none, a hash by thread id (features.h). */
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct stash);
} stashes SEC(".maps");

/* SSL calls in progress, per thread: written by the TLS uprobes, read by the capture. */
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct tls_call);
} tls_calls SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 8 << 20); /* user space may resize before load */
} events SEC(".maps");

/* Set by user space before load (each object has its own copy): which scope map decides. */
const volatile __u32 scope_mode = SCOPE_CGROUP;

/* First thing every program asks: is the current task one reel watches? */
static __always_inline bool in_scope(void) {
  if (scope_mode == SCOPE_CGROUP) {
    u64 id = bpf_get_current_cgroup_id();
    return bpf_map_lookup_elem(&scope_cgroups, &id) != NULL;
  }
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  return bpf_map_lookup_elem(&scope_tgids, &tgid) != NULL;
}

/* The ring's wake-up policy, the same for both groups: never wake the reader per event (it drains
 * on a timer); force a wake-up once `wakeup_bytes` are pending, before a burst fills the ring, and
 * while they stay pending, again after every further quarter of `wakeup_bytes` produced: an event
 * that finds the reader behind must not pay for a wake-up (irq_work) each. A rule that woke only on
 * the event crossing the mark missed most crossings (an event takes more ring than its size, and
 * another CPU may cross between a query and a commit), and the ring then filled between timed
 * drains. A wake-up the reader was too busy to wait for is not lost: epoll keeps the ring ready
 * until the reader has drained it. */
const volatile __u64 wakeup_bytes = 1 << 20;
__u64 next_wakeup_pos = 0; /* no forced wake-up before the producer reaches this position */

static __always_inline u64 ring_wakeup_flag(void) {
  if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes) return BPF_RB_NO_WAKEUP;
  u64 pos = bpf_ringbuf_query(&events, BPF_RB_PROD_POS);
  if (pos < next_wakeup_pos) return BPF_RB_NO_WAKEUP;
  next_wakeup_pos = pos + wakeup_bytes / 4; /* racy on purpose: at worst one more wake-up */
  return BPF_RB_FORCE_WAKEUP;
}
