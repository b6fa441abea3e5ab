/* Kernel features the programs use where the kernel has them, and what they do instead where it
 * does not. User space probes the kernel and chooses at load time (src/kernel/bpf_features.cc;
 * REEL_BPF_FALLBACKS forces a fallback on any kernel, which is how the tests cover them):
 *
 *   per-thread state   task storage (maps 5.11, tracing programs 5.12), or an LRU hash keyed by
 *                      thread id that user space turns the map into, its entries deleted at
 *                      thread exit (have_task_storage, in each object's read-only data)
 *   chunk loops        bpf_loop (5.17), or a loop the verifier walks, at most
 *                      BOUNDED_LOOP_MAX iterations (have_bpf_loop)
 *   fetching atomics   one atomic instruction that returns the old value (5.12), or a read then
 *                      an atomic add (REEL_BPF_BASELINE)
 *
 * The last is a second object of each program group, built from the same source with
 * REEL_BPF_BASELINE: a 5.10 kernel refuses a fetching atomic and a bpf_loop callback reference
 * even in code that can never run, so that object has neither. Its maps, programs and globals are
 * the same, so one skeleton type serves both. */
#ifndef REEL_BPF_FEATURES_H
#define REEL_BPF_FEATURES_H

const volatile bool have_task_storage = true;
const volatile bool have_bpf_loop = true;

/* Iterations of the loop that stands in for bpf_loop: 16 chunks of 8 KiB cover the default
 * per-call cap (64 KiB) of a flat buffer; what a longer call (more iovecs) leaves is sent as a
 * counted gap. More iterations cost verification time on every load. */
#define BOUNDED_LOOP_MAX 16

/* fn(i, NULL) for i in [0, n) until it returns non-zero: bpf_loop, or where the kernel lacks it
 * (and always in the baseline object) at most BOUNDED_LOOP_MAX iterations. */
#define bounded_loop(n, fn)                                                   \
  ({                                                                          \
    u32 n_ = (n);                                                             \
    for (u32 i_ = 0; i_ < BOUNDED_LOOP_MAX && i_ < n_; i_++)                  \
      if (fn(i_, NULL)) break;                                                \
  })
#ifdef REEL_BPF_BASELINE
#define run_loop(n, fn) bounded_loop(n, fn)
#else
#define run_loop(n, fn)                                                       \
  ({                                                                          \
    if (have_bpf_loop)                                                        \
      bpf_loop((n), fn, NULL, 0);                                             \
    else                                                                      \
      bounded_loop(n, fn);                                                    \
  })
#endif

/* *p += v, returning the old value. In the baseline object two adds to one counter at the same
 * instant may both read the same old value: for a connection's byte position that takes two
 * threads writing one socket at once, and both events then claim the same position. */
static __always_inline u64 fetch_add(u64 *p, u64 v) {
#ifdef REEL_BPF_BASELINE
  u64 old = *(volatile u64 *)p;
  __sync_fetch_and_add(p, v); /* result unused: the plain atomic add every kernel has */
  return old;
#else
  return __sync_fetch_and_add(p, v);
#endif
}

/* Sets `bit` in *p (each bit is set once, by one side) and returns the word's other bits: as
 * they were before, or in the baseline object as they are once `bit` is set. Of two sides that
 * set their bits at the same instant, the later one sees the other's either way; in the baseline
 * object both may, so whatever a caller does on seeing the other's bit must be safe to do twice
 * (delete an entry, and count it only when the delete succeeds). */
static __always_inline u32 set_bit_seen(u32 *p, u32 bit) {
#ifdef REEL_BPF_BASELINE
  if (!(*(volatile u32 *)p & bit)) __sync_fetch_and_add(p, bit); /* the plain atomic add */
  return *(volatile u32 *)p & ~bit;
#else
  return __sync_fetch_and_or(p, bit) & ~bit;
#endif
}

/* The current thread's value in a per-thread map (declared as task storage), or NULL; created
 * (zeroed) first when `create`. */
#define thread_state(map, create)                                                         \
  ({                                                                                      \
    __typeof__((map).value) ts_;                                                          \
    if (have_task_storage) {                                                              \
      ts_ = bpf_task_storage_get(&(map), bpf_get_current_task_btf(), 0,                   \
                                 (create) ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);          \
    } else {                                                                              \
      int tid_ = (int)bpf_get_current_pid_tgid();                                         \
      ts_ = bpf_map_lookup_elem(&(map), &tid_);                                           \
      if (!ts_ && (create)) {                                                             \
        __typeof__(*ts_) zero_ = {};                                                      \
        bpf_map_update_elem(&(map), &tid_, &zero_, BPF_NOEXIST);                          \
        ts_ = bpf_map_lookup_elem(&(map), &tid_);                                         \
      }                                                                                   \
    }                                                                                     \
    ts_;                                                                                  \
  })

#endif
