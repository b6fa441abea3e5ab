#include "tls/terminator.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>

#include "tls/app_hint.h"

namespace reel::tls {
namespace {
constexpr auto kHandshakeTime = std::chrono::seconds(10);
}  // namespace

Result<UniqueFd> Terminator::take(UniqueFd client, const Endpoint& server) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
    return fail_errno("socketpair");
  UniqueFd served(pair[0]);
  auto shared =
      std::make_shared<std::pair<UniqueFd, UniqueFd>>(std::move(client), UniqueFd(pair[1]));
  if (!threads_.spawn([this, shared, server] {
        bridge(std::move(shared->first), std::move(shared->second), server);
      })) {
    return fail_msg("cannot start a TLS bridge thread");
  }
  return served;
}

Result<SSL_CTX*> Terminator::leaf_context(const std::string& host) {
  std::lock_guard lock(mu_);
  if (auto it = leaf_ctx_.find(host); it != leaf_ctx_.end()) return it->second.get();
  auto leaf = REEL_TRY(ca_.leaf_for(host));
  auto ctx = REEL_TRY(server_context(*leaf));
  SSL_CTX* raw = ctx.get();
  leaf_ctx_[host] = std::move(ctx);
  return raw;
}

void Terminator::bridge(UniqueFd client, UniqueFd plain, Endpoint server) {
  const auto& stopping = threads_.stopping();
  auto deadline = Clock::now() + kHandshakeTime;
  auto hello = peek_client_hello(client.get(), deadline, stopping);
  if (!hello) {
    spdlog::warn("mock tls: {}: {}", server.to_string(), hello.error().message);
    return reset_both(client.get(), plain.get());
  }
  const std::string host = hello->sni.empty() ? server.ip.to_string() : hello->sni;
  auto ctx = leaf_context(host);
  if (!ctx) {
    spdlog::warn("mock tls: {}: {}", host, ctx.error().message);
    return reset_both(client.get(), plain.get());
  }
  SslPtr ssl(SSL_new(*ctx));
  // HTTP/2 only where the mocks hold HTTP/2 (gRPC) calls: the policy knows them.
  std::string alpn;
  if (alpn_) {
    alpn = alpn_(server, hello->alpn);
  } else if (std::ranges::count(hello->alpn, "http/1.1")) {
    alpn = "http/1.1";
  }
  if (!ssl || SSL_set_fd(ssl.get(), client.get()) != 1)
    return reset_both(client.get(), plain.get());
  SSL_set_app_data(ssl.get(), &alpn);
  // Which program connects, known before it can refuse (it closes at once when it does).
  bool known;
  {
    std::lock_guard lock(mu_);
    known = accepted_hosts_.contains(host);
  }
  std::optional<AppProcess> app;
  if (!known) app = process_at_other_end(client.get());  // walks /proc: not under the lock
  if (auto r = handshake(ssl.get(), client.get(), true, deadline, stopping); !r) {
    spdlog::warn("mock tls: the app refused reel's certificate for {} ({}). {}", host,
                 r.error().message, refusal_hint(app, ca_));
    return reset_both(client.get(), plain.get());
  }
  {
    std::lock_guard lock(mu_);
    accepted_hosts_.insert(host);
  }
  if (!pump({client.get(), ssl.get()}, {plain.get(), nullptr}, stopping, nullptr))
    reset_both(client.get(), plain.get());
}

}  // namespace reel::tls
