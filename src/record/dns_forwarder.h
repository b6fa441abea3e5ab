// DNS while recording: the app's queries (steered here by the redirect programs) go on to the
// real resolver, its answers go back, and each query/answer pair becomes a DNS mock. UDP, and
// TCP on the same port (2-byte length prefix), on one thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/net.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "mock/mock.h"

namespace reel::record {

class DnsForwarder {
 public:
  // Binds UDP and TCP on one free port of `listen_ip`.
  [[nodiscard]] static Result<std::unique_ptr<DnsForwarder>> start(const IpAddr& listen_ip,
                                                                   const Endpoint& upstream,
                                                                   mock::RecordOptions options);
  ~DnsForwarder();
  void stop();

  const Endpoint& listening() const { return listening_; }
  std::vector<mock::RecordedCall> take();
  std::uint64_t failed() const { return failed_.load(); }

 private:
  DnsForwarder() = default;
  void run();
  void forward_tcp(int client_fd);
  void keep(std::span<const std::byte> query, std::span<const std::byte> answer,
            std::uint64_t request_ns);

  Endpoint listening_, upstream_;
  mock::RecordOptions options_;
  UniqueFd udp_, tcp_, wake_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> failed_{0};
  std::mutex mu_;
  std::vector<mock::RecordedCall> done_;
};

// The first `nameserver` of /etc/resolv.conf, port 53.
Result<Endpoint> system_resolver();

}  // namespace reel::record
