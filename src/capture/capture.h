// The capture program group: loads bpf/capture.bpf.c, scopes it, attaches its tracepoints and
// hands each event to user space as a typed value.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "bpf/abi/capture.h"
#include "core/net.h"
#include "core/result.h"

namespace reel::capture {

struct CaptureConfig {
  std::vector<std::uint64_t> cgroup_ids;  // scope: tasks in these cgroups (children follow)
  std::vector<pid_t> tgids;               // or: these processes and their descendants
  std::uint64_t max_bytes_per_call = 64 * 1024;  // beyond it, a length-only event
  std::uint32_t ring_bytes = 8u << 20;           // power of two
};

// Identifies one connection: successive connections on the same (tgid, fd) differ in gen.
struct ConnKey {
  std::uint32_t tgid = 0;
  std::uint32_t fd = 0;
  std::uint64_t gen = 0;
  friend bool operator==(const ConnKey&, const ConnKey&) = default;
};

struct OpenEvent {
  ConnKey key;
  std::uint32_t tid;
  std::uint64_t ts_ns;
  int role;  // cap_role
  Endpoint local, remote;
  bool udp;
  std::string comm;
};

struct CloseEvent {
  ConnKey key;
  std::uint64_t ts_ns;
  std::uint64_t bytes_egress, bytes_ingress;
};

struct DataEvent {
  ConnKey key;
  std::uint32_t tid;
  std::uint64_t ts_ns;
  int dir;    // cap_dir
  int flags;  // cap_flags
  std::uint64_t pos;
  std::uint32_t len;
  std::span<const std::byte> bytes;  // empty when length-only; valid during the callback only
  Endpoint peer;                     // datagrams whose call named an address
};

struct ExitEvent {
  std::uint32_t tgid;
  std::uint64_t ts_ns;
};

using Event = std::variant<OpenEvent, CloseEvent, DataEvent, ExitEvent>;

struct CaptureCounters {
  std::array<std::uint64_t, CAP_CNT__COUNT> by_kind{};
  std::uint64_t malformed = 0;  // events user space could not decode (should stay 0)
};

// Decodes one ring buffer record; nullopt when it is malformed.
std::optional<Event> decode_event(std::span<const std::byte> raw);

class Capture {
 public:
  static Result<std::unique_ptr<Capture>> start(const CaptureConfig& config);
  ~Capture();

  // Adds a process (and its future children) to a tgid-scoped capture.
  Result<void> add_tgid(pid_t tgid);
  // Drains pending events, waiting up to `timeout_ms` for the first; returns how many.
  Result<int> poll(int timeout_ms, const std::function<void(const Event&)>& on_event);
  CaptureCounters counters() const;
  // A map of the capture programs by name, for a program group that shares it (the TLS probes);
  // -1 when there is none.
  int map_fd(const char* name) const;
  // Tells the syscall path that TLS uprobes are attached: sockets that carry SSL calls stop
  // sending ciphertext.
  void set_tls_active();
  // Tracepoints that attached / that this kernel lacks (attached count is what ran).
  int attached() const;

  struct State;

 private:
  explicit Capture(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace reel::capture
