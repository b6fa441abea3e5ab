// The redirect program group: loads bpf/redirect.bpf.c, fills its rules, attaches it.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpf/abi/redirect.h"
#include "core/net.h"
#include "core/result.h"

namespace reel {

struct RedirectRules {
  std::vector<PortRange> ports;        // empty: every TCP port
  std::vector<Cidr> exclude;           // never redirected
  std::vector<Endpoint> exclude_exact; // IP:PORT never redirected
  std::vector<Cidr> include;           // non-empty: only these are redirected
};

struct RedirectConfig {
  std::optional<Endpoint> proxy4;  // where IPv4 (and IPv4-mapped) connections go
  std::optional<Endpoint> proxy6;  // where IPv6 connections go
  std::optional<Endpoint> dns4;    // UDP/TCP 53 over IPv4 goes here (--dns)
  std::optional<Endpoint> dns6;
  RedirectRules rules;
  bool events = false;  // fill the event ring buffer
};

struct RedirectCounters {
  std::uint64_t seen = 0;
  std::array<std::uint64_t, REEL_ACT__COUNT> by_action{};
};

struct RedirectEvent {
  std::uint64_t ts_ns;  // CLOCK_MONOTONIC
  pid_t pid;
  std::string comm;
  Endpoint original;
  int kind;    // reel_event_kind
  int action;  // reel_action
  bool udp;
};

// Human name of an action ("redirected", "bypass:port", ...).
const char* action_name(int action);

class Redirector {
 public:
  static Result<std::unique_ptr<Redirector>> load(const RedirectConfig& config);
  ~Redirector();

  // connect4/6, sockops, getpeername4/6, sendmsg4/6, recvmsg4/6 on the target's cgroup.
  Result<void> attach_target(int cgroup_fd);
  // getsockopt (SO_ORIGINAL_DST) and the proxy-side sockops on the cgroup the proxy runs in.
  Result<void> attach_proxy(int cgroup_fd);
  // The process `tgid` is never redirected (the proxy, reel itself).
  Result<void> skip_process(pid_t tgid);

  RedirectCounters counters() const;
  // Entries in the proxy's 4-tuple map (0 once every redirected socket has closed).
  std::size_t filed_entries() const;
  // The DNS servers the target sent queries to before they were steered to `dns4`/`dns6`, the
  // most recently used first (at most 64).
  std::vector<Endpoint> dns_servers_asked() const;
  // Consumes events for up to `timeout_ms`; returns how many were handled.
  Result<int> poll_events(int timeout_ms, const std::function<void(const RedirectEvent&)>& on_event);
  // Program ids, for checking that they detach.
  std::vector<std::uint32_t> program_ids() const;

  struct State;  // libbpf objects; public only so the ring buffer callback can reach it

 private:
  explicit Redirector(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace reel
