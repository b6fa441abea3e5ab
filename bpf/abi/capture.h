/* Events from bpf/capture.bpf.c to user space. Fixed-width fields only; addresses are 16 bytes
 * with IPv4 as ::ffff:a.b.c.d, ports in host byte order. */
#ifndef REEL_BPF_ABI_CAPTURE_H
#define REEL_BPF_ABI_CAPTURE_H

/* Enums sit outside the C++ namespace: their names carry the CAP_ prefix already. */
enum cap_event_type {
  CAP_EV_OPEN = 1,     /* a socket connection seen for the first time */
  CAP_EV_CLOSE = 2,    /* close(): totals per direction */
  CAP_EV_DATA = 3,     /* bytes (or a length-only gap) at a byte position */
  CAP_EV_EXIT = 4,     /* a traced process exited: its connections are gone */
};

enum cap_dir {
  CAP_DIR_EGRESS = 0,  /* written by the traced process */
  CAP_DIR_INGRESS = 1, /* read by the traced process */
};

enum cap_role {
  CAP_ROLE_UNKNOWN = 0, /* existed before reel attached; user space infers it */
  CAP_ROLE_CLIENT = 1,  /* connect() */
  CAP_ROLE_SERVER = 2,  /* accept() */
};

enum cap_flags {
  CAP_F_LENGTH_ONLY = 1, /* `len` bytes happened here but were not copied (cap, sendfile) */
  CAP_F_DATAGRAM = 2,    /* one UDP datagram: a message boundary */
  CAP_F_SENDFILE = 4,
  CAP_F_TRUNCATED = 8,   /* the kernel could not read these bytes from user memory */
};

enum cap_counter {
  CAP_CNT_EVENTS = 0,       /* events submitted */
  CAP_CNT_LOST = 1,         /* ring buffer full: events dropped */
  CAP_CNT_LOST_BYTES = 2,   /* payload bytes in dropped events */
  CAP_CNT_CAPPED_BYTES = 3, /* bytes past the per-call cap (sent as length-only) */
  CAP_CNT_NOT_SOCKET = 4,   /* fds classified as not a TCP/UDP socket */
  CAP_CNT_STASH_MISS = 5,   /* sys_exit without its sys_enter */
  CAP_CNT__COUNT = 6,
};

#define CAP_CHUNK 8192 /* bytes per data event at most */
#define CAP_COMM_LEN 16

#include "types.h"

REEL_ABI_BEGIN

struct cap_addr {
  u8 ip[16];
  u16 port; /* host byte order */
  u16 pad;
};

/* Leads every event. */
struct cap_hdr {
  u8 type;  /* cap_event_type */
  u8 dir;   /* cap_dir (data) */
  u8 flags; /* cap_flags (data) */
  u8 role;  /* cap_role (open) */
  u32 tgid;
  u32 tid;
  u32 fd;
  u64 gen;  /* distinguishes successive connections on the same (tgid, fd) */
  u64 ts_ns;
};

struct cap_open_event {
  struct cap_hdr h;
  struct cap_addr local;
  struct cap_addr remote;
  u16 family;   /* AF_INET / AF_INET6 */
  u16 protocol; /* IPPROTO_TCP / IPPROTO_UDP */
  u32 pad;
  u8 comm[CAP_COMM_LEN];
};

struct cap_close_event {
  struct cap_hdr h;
  u64 bytes_egress;
  u64 bytes_ingress;
};

struct cap_exit_event {
  struct cap_hdr h;
};

struct cap_data_event {
  struct cap_hdr h;
  u64 pos;      /* byte position of the first byte in this direction's stream */
  u32 len;      /* bytes this event stands for */
  u32 copied;   /* bytes present in data[] (0 when length-only) */
  struct cap_addr peer; /* datagrams: the other side's address, when the call named it */
  u8 data[CAP_CHUNK];
};

REEL_ABI_END

#endif
