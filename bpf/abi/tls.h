/* What bpf/tls.bpf.c (uprobes on OpenSSL's SSL_read/SSL_write, Go's crypto/tls) shares with user space. Its
 * plaintext travels as ordinary cap_data_event records (abi/capture.h) in the capture's ring
 * buffer, flagged CAP_F_TLS, with byte positions of their own: the decrypted stream. */
#ifndef REEL_BPF_ABI_TLS_H
#define REEL_BPF_ABI_TLS_H

/* A cap_flags bit (abi/capture.h): these bytes are TLS plaintext from an SSL call. */
enum tls_cap_flags {
  CAP_F_TLS = 16,
};

/* Which SSL call a probe stands for. */
enum tls_op {
  TLS_OP_READ = 1,
  TLS_OP_WRITE = 2,
};

enum tls_counter {
  TLS_CNT_CALLS = 0,       /* SSL_read/SSL_write(_ex) calls that moved bytes, in scope */
  TLS_CNT_EVENTS = 1,      /* plaintext events submitted */
  TLS_CNT_LOST = 2,        /* ring buffer full: events dropped */
  TLS_CNT_LOST_BYTES = 3,  /* plaintext bytes in dropped events */
  TLS_CNT_CAPPED_BYTES = 4,/* plaintext past the per-call cap (sent as length-only) */
  TLS_CNT_BY_SET_FD = 5,   /* calls tied to their socket by SSL_set_fd (or an earlier tie) */
  TLS_CNT_BY_SYSCALL = 6,  /* ... by the read/write syscall made inside the call */
  TLS_CNT_BY_LAST_FD = 7,  /* ... by the last fd the thread used (a guess) */
  TLS_CNT_UNTIED = 8,      /* calls whose socket could not be found: plaintext dropped */
  TLS_CNT_UNTIED_BYTES = 9,
  TLS_CNT_BY_GO_CONN = 10, /* Go crypto/tls calls tied by their *tls.Conn's net.Conn */
  TLS_CNT__COUNT = 11,
};

#endif
