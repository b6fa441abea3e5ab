#include "tls/interceptor.h"

#include <openssl/x509v3.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "core/net.h"
#include "tls/app_hint.h"

namespace reel::tls {
namespace {

constexpr auto kHandshakeTime = std::chrono::seconds(10);

// Set on the upstream SSL: the server asked for a client certificate, which reel does not have.
struct UpstreamState {
  bool cert_requested = false;
};

int no_client_cert(SSL* ssl, X509**, EVP_PKEY**) {
  if (auto* st = static_cast<UpstreamState*>(SSL_get_app_data(ssl))) st->cert_requested = true;
  return 0;
}

std::optional<Endpoint> peer_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

// The client's ALPN offer, as it made it, for the upstream: whatever the upstream picks (h2,
// http/1.1, ...) the app gets, and reel records it (HTTP/2 and gRPC included).
std::string alpn_wire(const std::vector<std::string>& offered) {
  std::string out;
  for (const auto& p : offered) {
    if (p.empty() || p.size() > 255) continue;
    out.push_back(char(p.size()));
    out += p;
  }
  return out;
}

Result<UniqueFd> connect_to(const Endpoint& dest, Clock::time_point deadline,
                            const std::atomic<bool>& stopping) {
  UniqueFd fd(::socket(dest.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  sockaddr_storage ss;
  socklen_t len = dest.to_sockaddr(ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0) return fd;
  if (errno != EINPROGRESS) return fail_errno("connect " + dest.to_string());
  while (!stopping.load() && Clock::now() < deadline) {
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int err = 0;
    socklen_t el = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) return fail_errno("connect " + dest.to_string(), err);
    return fd;
  }
  return fail_msg("connect {}: timed out", dest.to_string());
}

}  // namespace

Result<std::unique_ptr<Interceptor>> Interceptor::create(CertAuthority& ca,
                                                         InterceptOptions options) {
  std::unique_ptr<Interceptor> in(new Interceptor(ca, std::move(options)));
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return fail_msg("cannot set up TLS: {}", openssl_errors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_client_cert_cb(ctx.get(), no_client_cert);
  if (in->options_.verify_upstream) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
      return fail_msg("cannot load the system's trusted CAs: {}", openssl_errors());
    for (const auto& file : in->options_.extra_cas) {
      if (SSL_CTX_load_verify_locations(ctx.get(), file.c_str(), nullptr) != 1)
        return fail_msg("--upstream-ca {}: not a PEM certificate file OpenSSL can read ({})", file,
                        openssl_errors());
    }
  }
  in->upstream_ctx_ = std::move(ctx);
  return in;
}

RelayTakeover Interceptor::takeover(std::function<void(ConnId)> on_tls) {
  RelayTakeover t;
  t.wants = [](std::span<const std::byte> first) { return looks_like_client_hello(first); };
  t.take = [this, on_tls = std::move(on_tls)](TakenConnection c) {
    auto shared = std::make_shared<TakenConnection>(std::move(c));
    if (!threads_.spawn([this, shared, on_tls] { bridge(std::move(*shared), on_tls); })) {
      reset_both(shared->client.get(), shared->upstream.get());
      if (shared->tap && shared->tap->close) shared->tap->close(shared->id, true);
    }
  };
  return t;
}

InterceptStats Interceptor::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Interceptor::note(bool failed, const std::string& host, const std::string& why) {
  std::lock_guard lock(mu_);
  (failed ? stats_.failed : stats_.passed_through) += 1;
  (failed ? stats_.failed_hosts : stats_.passed_hosts)[host] = why;
}

Result<SSL_CTX*> Interceptor::leaf_context(const std::string& host) {
  {
    std::lock_guard lock(mu_);
    if (auto it = leaf_ctx_.find(host); it != leaf_ctx_.end()) return it->second.get();
  }
  auto leaf = REEL_TRY(ca_.leaf_for(host));
  auto ctx = REEL_TRY(server_context(*leaf));
  std::lock_guard lock(mu_);
  auto& slot = leaf_ctx_[host];
  if (!slot) slot = std::move(ctx);
  return slot.get();
}

void Interceptor::bridge(TakenConnection c, const std::function<void(ConnId)>& on_tls) {
  const auto& stopping = threads_.stopping();
  auto deadline = Clock::now() + kHandshakeTime;
  auto end_tap = [&](bool reset) {
    if (c.tap && c.tap->close) c.tap->close(c.id, reset);
    c.tap = nullptr;
  };
  auto give_up = [&](const std::string& host, const std::string& why) {
    spdlog::warn("tls: {}: {}", host, why);
    note(true, host, why);
    reset_both(c.client.get(), c.upstream.get());
    end_tap(true);
  };
  auto dest = peer_of(c.upstream.get());
  if (!dest) return give_up("?", "the upstream connection is gone");
  auto hello = peek_client_hello(c.client.get(), deadline, stopping);
  if (!hello) {
    spdlog::debug("tls: {}: {}; passing the connection through", dest->to_string(),
                  hello.error().message);
    return pass_through(c, *dest, false);
  }
  const std::string host = hello->sni.empty() ? dest->ip.to_string() : hello->sni;
  {
    std::lock_guard lock(mu_);
    if (pass_hosts_.contains(host)) {
      stats_.passed_through++;
      return pass_through(c, *dest, false);
    }
  }

  // Upstream first: its certificate is checked, and its ALPN choice is what the client gets.
  UpstreamState up_state;
  SslPtr up(SSL_new(upstream_ctx_.get()));
  std::string alpn = alpn_wire(hello->alpn);
  if (!up || SSL_set_fd(up.get(), c.upstream.get()) != 1)
    return give_up(host, "cannot set up TLS: " + openssl_errors());
  SSL_set_app_data(up.get(), &up_state);
  if (!hello->sni.empty()) SSL_set_tlsext_host_name(up.get(), hello->sni.c_str());
  if (options_.verify_upstream) {
    X509_VERIFY_PARAM* param = SSL_get0_param(up.get());
    if (hello->sni.empty())
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    else
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  }
  if (!alpn.empty())
    SSL_set_alpn_protos(up.get(), reinterpret_cast<const unsigned char*>(alpn.data()),
                        unsigned(alpn.size()));
  auto shaken = handshake(up.get(), c.upstream.get(), false, deadline, stopping);
  if (up_state.cert_requested) {
    note(false, host, "the upstream asks for a client certificate");
    spdlog::warn(
        "tls: {} asks for a client certificate: passing its connections through, "
        "unrecorded",
        host);
    up.reset();
    return pass_through(c, *dest, true);
  }
  if (!shaken) {
    long verify = SSL_get_verify_result(up.get());
    std::string why = verify != X509_V_OK
                          ? fmt::format(
                                "the upstream's certificate is not trusted ({}); give its "
                                "CA with --upstream-ca FILE, or --insecure-upstream",
                                X509_verify_cert_error_string(verify))
                          : "TLS handshake with the upstream failed: " + shaken.error().message;
    return give_up(host, why);
  }
  const unsigned char* chosen = nullptr;
  unsigned chosen_len = 0;
  SSL_get0_alpn_selected(up.get(), &chosen, &chosen_len);
  std::string alpn_chosen(reinterpret_cast<const char*>(chosen), chosen_len);

  // Then the client, with reel's certificate for the same name.
  auto ctx = leaf_context(host);
  if (!ctx) return give_up(host, ctx.error().message);
  SslPtr down(SSL_new(*ctx));
  if (!down || SSL_set_fd(down.get(), c.client.get()) != 1)
    return give_up(host, "cannot set up TLS: " + openssl_errors());
  SSL_set_app_data(down.get(), &alpn_chosen);
  // Which program connects, known before it can refuse (it closes at once when it does).
  bool known;
  {
    std::lock_guard lock(mu_);
    known = accepted_hosts_.contains(host);
  }
  std::optional<AppProcess> app;
  if (!known) app = process_at_other_end(c.client.get());  // walks /proc: not under the lock
  if (auto r = handshake(down.get(), c.client.get(), true, deadline, stopping); !r) {
    {
      std::lock_guard lock(mu_);
      pass_hosts_.insert(host);
      stats_.refused++;
      stats_.passed_hosts[host] = "client rejected reel's CA";
    }
    spdlog::warn(
        "tls: the app refused reel's certificate for {} ({}): its later connections there pass "
        "through, unrecorded. {}",
        host, r.error().message, refusal_hint(app, ca_));
    reset_both(c.client.get(), c.upstream.get());
    return end_tap(true);
  }

  {
    std::lock_guard lock(mu_);
    stats_.intercepted++;
    accepted_hosts_.insert(host);
  }
  spdlog::debug("tls: intercepting {} ({}){}", host, dest->to_string(),
                alpn_chosen.empty() ? "" : ", ALPN " + alpn_chosen);
  if (c.tap && on_tls) on_tls(c.id);
  const RelayTap* tap = c.tap;
  bool ok =
      pump({c.client.get(), down.get()}, {c.upstream.get(), up.get()}, stopping,
           [&](bool to_server, std::span<const std::byte> bytes) {
             if (tap && tap->data)
               tap->data(c.id, to_server ? Direction::kClientToServer : Direction::kServerToClient,
                         bytes);
           });
  if (!ok) reset_both(c.client.get(), c.upstream.get());
  end_tap(!ok);
}

// Raw bytes both ways, the client's hello included (it was only peeked). Not recorded: the
// ciphertext could never be replayed.
void Interceptor::pass_through(TakenConnection& c, const Endpoint& dest, bool reconnect) {
  if (c.tap && c.tap->close) c.tap->close(c.id, false);
  c.tap = nullptr;
  const auto& stopping = threads_.stopping();
  if (reconnect) {
    auto fd = connect_to(dest, Clock::now() + kHandshakeTime, stopping);
    if (!fd) {
      spdlog::warn("tls: passing through to {}: {}", dest.to_string(), fd.error().message);
      return reset_both(c.client.get(), -1);
    }
    c.upstream = std::move(*fd);
  }
  if (!pump({c.client.get(), nullptr}, {c.upstream.get(), nullptr}, stopping, nullptr))
    reset_both(c.client.get(), c.upstream.get());
}

}  // namespace reel::tls
