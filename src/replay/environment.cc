#include "replay/environment.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/process.h"
#include "mock/protocols.h"

namespace reel::replay {

namespace {

int shell_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Result<std::unique_ptr<Environment>> Environment::start(mock::MockPool& pool,
                                                        const std::string& name) {
  std::unique_ptr<Environment> env(new Environment());
  mock::MockServerOptions so;
  so.listen = {REEL_TRY(parse_endpoint("127.0.0.1:0")), REEL_TRY(parse_endpoint("[::1]:0"))};
  so.dns = REEL_TRY(parse_endpoint("127.0.0.1:0"));
  so.pool = &pool;
  // HTTPS dependencies are answered from their plaintext mocks behind reel's CA.
  if (auto ca = tls::CertAuthority::open(tls::default_ca_dir())) {
    env->ca_ = std::move(*ca);
    // ALPN as the mocks say: h2 for a server recorded speaking HTTP/2 or gRPC.
    env->tls_ = std::make_unique<tls::Terminator>(
        *env->ca_, [&pool](const Endpoint& server, const std::vector<std::string>& offered) {
          return mock::mock_alpn(pool, server, offered);
        });
    so.tls = [t = env->tls_.get()](UniqueFd client, const Endpoint& server) {
      return t->take(std::move(client), server);
    };
  } else {
    spdlog::warn("TLS dependencies cannot be mocked: {}", ca.error().message);
  }
  // A UDP query names the server the app asked when the kernel saw only one asked.
  so.dns_asked = [e = env.get()]() -> std::optional<Endpoint> {
    const Redirector* r = e->redirector_ready_.load(std::memory_order_acquire);
    if (!r) return std::nullopt;
    auto asked = r->dns_servers_asked();
    if (asked.size() != 1) return std::nullopt;
    return asked.front();
  };
  env->server_ = REEL_TRY(mock::MockServer::start(std::move(so)));

  RedirectConfig rc;
  for (const auto& ep : env->server_->listening()) (ep.ip.is_v4() ? rc.proxy4 : rc.proxy6) = ep;
  rc.dns4 = env->server_->dns_listening();
  env->redirector_ = REEL_TRY(Redirector::load(rc));
  env->redirector_ready_.store(env->redirector_.get(), std::memory_order_release);
  Cgroup self = REEL_TRY(Cgroup::of_pid(::getpid()));
  REEL_TRY(env->redirector_->attach_proxy(self.fd()));
  REEL_TRY(env->redirector_->skip_process(::getpid()));
  env->cgroup_.emplace(REEL_TRY(Cgroup::create_child(fmt::format("{}-{}", ::getpid(), name))));
  REEL_TRY(env->redirector_->attach_target(env->cgroup_->fd()));
  return env;
}

Environment::~Environment() {
  if (app_) stop_app(std::chrono::milliseconds(0));
  if (server_) server_->stop();  // before the redirector its DNS lookups read goes
  if (tls_) tls_->stop();
}

Result<pid_t> Environment::spawn(const std::vector<std::string>& argv,
                                 const std::optional<RunAs>& user) {
  std::vector<std::string> env;
  if (ca_) env = tls::trust_env(*ca_);
  app_ = REEL_TRY(reel::spawn({.argv = argv, .cgroup_fd = cgroup_->fd(), .extra_env = env, .user = user}));
  exit_status_.reset();
  return app_;
}

std::optional<int> Environment::app_exited() {
  if (!app_) return exit_status_;
  int status;
  if (::waitpid(app_, &status, WNOHANG) == app_) {
    exit_status_ = shell_status(status);
    app_ = 0;
  }
  return exit_status_;
}

std::optional<int> Environment::stop_app(std::chrono::milliseconds grace) {
  if (app_exited()) {
    (void)cgroup_->kill_all(std::chrono::seconds(2));  // children it left behind
    return exit_status_;
  }
  ::kill(app_, SIGTERM);
  for (auto waited = std::chrono::milliseconds(0); waited < grace && !app_exited();
       waited += std::chrono::milliseconds(10))
    ::poll(nullptr, 0, 10);
  (void)cgroup_->kill_all(std::chrono::seconds(2));
  if (app_) {
    int status;
    if (::waitpid(app_, &status, 0) == app_) exit_status_ = shell_status(status);
    app_ = 0;
  }
  return exit_status_;
}

}  // namespace reel::replay
