/* Kernel-side state shared by bpf/capture.bpf.c and bpf/tls.bpf.c. The capture owns these maps;
 * the TLS uprobes reuse them by fd (user space hands them over before loading), so both program
 * groups must agree on these layouts. Not an ABI with user space: that is abi/capture.h. */
#ifndef REEL_BPF_CONN_H
#define REEL_BPF_CONN_H

struct conn_key {
  u32 tgid;
  u32 fd;
};

enum conn_flags {
  /* An SSL call moved bytes on this socket: the uprobes send its plaintext, so the syscall path
   * drops the ciphertext. */
  CONN_F_TLS = 1,
};

struct conn_val {
  u64 gen;
  u64 egress;  /* bytes written so far: the next egress position */
  u64 ingress;
  u8 kind;
  u8 role;
  u16 family;
  u16 protocol;
  u16 flags; /* conn_flags */
};

struct stash {
  u64 args[5]; /* args[0] outlives the call: the fd the thread used last */
  u32 op;
  u32 pad;
};

/* The SSL_read/SSL_write(_ex) in progress on a thread (task storage: no hashing, freed with the
 * thread). The capture's syscall exits fill `fd` with the socket the SSL call reads or writes
 * underneath. */
struct tls_call {
  u64 ssl;
  u64 buf;
  u64 out_len; /* _ex: user pointer to the size_t byte count; 0 otherwise */
  s32 fd;      /* -1 until a syscall inside the call names it */
  u8 op;       /* TLS_OP_* */
  u8 depth;    /* nested SSL entry points (SSL_write_ex over SSL_write in some libraries) */
  u8 active;   /* a call is in progress */
  u8 pad;
  u64 start_ns; /* when the call began: a write's bytes are stamped with it */
};

#endif
