// What `reel test` and `reel mock` run the app in: a fresh cgroup whose outbound connections and
// DNS queries all reach the mock server, so no real dependency is reachable or needed.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/user.h"
#include "kernel/cgroup.h"
#include "mock/mock.h"
#include "redirect/redirector.h"
#include "tls/ca.h"
#include "tls/terminator.h"

namespace reel::replay {

class Environment {
 public:
  // Starts the mock server for `pool` and loads the redirect programs pointing at it.
  [[nodiscard]] static Result<std::unique_ptr<Environment>> start(mock::MockPool& pool,
                                                                  const std::string& name);
  ~Environment();

  // Starts `argv` inside the environment's cgroup; pid of the app.
  Result<pid_t> spawn(const std::vector<std::string>& argv, const std::optional<RunAs>& user);
  // Ends the app: SIGTERM, then whatever is left in the cgroup after `grace`. Returns its exit
  // status in shell form, or nullopt when it had already been reaped.
  std::optional<int> stop_app(std::chrono::milliseconds grace);
  // Non-blocking: the app's exit status if it has exited.
  std::optional<int> app_exited();
  pid_t app() const { return app_; }
  mock::MockServer& server() { return *server_; }

 private:
  Environment() = default;
  // Declared before the server: destroyed after it, as the server hands them connections.
  std::unique_ptr<tls::CertAuthority> ca_;  // null: TLS is served as opaque bytes
  std::unique_ptr<tls::Terminator> tls_;
  std::unique_ptr<mock::MockServer> server_;
  std::unique_ptr<Redirector> redirector_;
  std::atomic<const Redirector*> redirector_ready_{nullptr};  // for the server's thread
  std::optional<Cgroup> cgroup_;
  pid_t app_ = 0;
  std::optional<int> exit_status_;
};

}  // namespace reel::replay
