// Responder::create: picks the protocol from what was recorded for the destination, or from the
// client's first bytes when that does not settle it.
#include <algorithm>
#include <array>

#include "mock/common.h"
#include "mock/protocols.h"
#include "protocols/http2/types.h"
#include "protocols/infer.h"

namespace reel::mock {

namespace {

using testset::MockKind;

// HTTP mocks (Http, gRPC) answer HTTP/1.x and HTTP/2 alike: the client's first bytes tell which
// (an HTTP/2 client opens with the preface, over TLS too once ALPN chose h2).
class HttpFamilyResponder final : public Responder {
 public:
  explicit HttpFamilyResponder(const Context& ctx) : ctx_(ctx) {}

  Output feed(std::span<const std::byte> bytes) override {
    if (inner_) return inner_->feed(bytes);
    held_.append(text_of(bytes));
    std::string_view preface = protocols::http2::kPreface;
    if (held_.size() < preface.size() && preface.starts_with(held_)) return {};
    inner_ = held_.starts_with(preface) ? make_http2_responder(ctx_) : make_http_responder(ctx_);
    return inner_->feed(protocols::as_bytes(std::exchange(held_, {})));
  }

 private:
  Context ctx_;
  std::unique_ptr<Responder> inner_;
  std::string held_;
};

std::unique_ptr<Responder> for_kind(MockKind kind, const Responder::Context& ctx) {
  switch (kind) {
    case MockKind::kHttp:
    case MockKind::kGrpc:
      return std::make_unique<HttpFamilyResponder>(ctx);
    case MockKind::kRedis:
      return make_redis_responder(ctx);
    case MockKind::kPostgres:
      return make_postgres_responder(ctx);
    case MockKind::kMySql:
      return make_mysql_responder(ctx);
    case MockKind::kGeneric:
      return make_generic_responder(ctx);
    default:
      return nullptr;
  }
}

std::unique_ptr<Responder> for_protocol(protocols::Protocol p, const Responder::Context& ctx) {
  using protocols::Protocol;
  std::unique_ptr<Responder> r;
  if (p == Protocol::kHttp1) r = make_http_responder(ctx);
  if (p == Protocol::kHttp2) r = make_http2_responder(ctx);
  if (p == Protocol::kRedis) r = make_redis_responder(ctx);
  if (p == Protocol::kPostgres) r = make_postgres_responder(ctx);
  if (p == Protocol::kMysql) r = make_mysql_responder(ctx);
  return r ? std::move(r) : make_generic_responder(ctx);
}

// Could more bytes still turn `d` into something infer_protocol recognises? Short inputs and
// prefixes of an HTTP request line or a RESP array header might; anything else is Generic now,
// because a client of an unknown protocol may wait for an answer before it sends more.
bool may_grow(std::string_view d) {
  if (d.size() < 8) return true;
  if (protocols::http2::kPreface.starts_with(d)) return true;
  static constexpr std::array<std::string_view, 9> kMethods = {
      "GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
  for (auto m : kMethods) {
    if (m.starts_with(d)) return true;
  }
  return d[0] == '*' && d.size() < 64 && d.find("\r\n$") == std::string_view::npos;
}

class InferringResponder final : public Responder {
 public:
  explicit InferringResponder(const Context& ctx) : ctx_(ctx) {}

  Output feed(std::span<const std::byte> bytes) override {
    if (inner_) return inner_->feed(bytes);
    held_.append(text_of(bytes));
    auto p = protocols::infer_protocol(protocols::as_bytes(held_),
                                       protocols::MessageType::kRequest);
    if (p == protocols::Protocol::kUnknown && may_grow(held_)) return {};
    inner_ = for_protocol(p, ctx_);
    // A server-first protocol chosen late still owes its greeting.
    Output out{inner_->greeting(), false};
    Output rest = inner_->feed(protocols::as_bytes(held_));
    held_.clear();
    out.bytes += rest.bytes;
    out.close = rest.close;
    out.rejected = rest.rejected;
    return out;
  }

  // A client that waits for the server to speak, where MySQL (the one server-first protocol
  // mocked) was recorded but under no server name (Keploy's mocks): greet it as MySQL.
  Output silence() override {
    if (inner_ || !held_.empty() || !ctx_.pool || ctx_.pool->all_of(MockKind::kMySql).empty()) return {};
    inner_ = make_mysql_responder(ctx_);
    return {inner_->greeting(), false};
  }

 private:
  Context ctx_;
  std::unique_ptr<Responder> inner_;
  std::string held_;
};

}  // namespace

std::unique_ptr<Responder> Responder::create(const Context& ctx) {
  std::vector<MockKind> kinds;
  for (MockKind k : ctx.pool->kinds_for(ctx.server)) {
    if (k != MockKind::kDns && k != MockKind::kUnknown) kinds.push_back(k);
  }
  std::vector<MockKind> specific;
  std::copy_if(kinds.begin(), kinds.end(), std::back_inserter(specific),
               [](MockKind k) { return k != MockKind::kGeneric; });
  bool http_only =
      !specific.empty() && std::all_of(specific.begin(), specific.end(), [](MockKind k) {
        return k == MockKind::kHttp || k == MockKind::kGrpc;
      });
  if (specific.size() == 1 || http_only) {
    if (auto r = for_kind(specific[0], ctx)) return r;
  } else if (specific.empty() && !kinds.empty()) {
    return make_generic_responder(ctx);  // only byte exchanges were recorded there
  } else if (kinds.empty() && ctx.server.port == 3306 &&
             !ctx.pool->all_of(MockKind::kMySql).empty()) {
    // Keploy's mocks name no server, and a MySQL client waits for the greeting before it says
    // anything: the port is the only hint left.
    if (auto r = make_mysql_responder(ctx)) return r;
  }
  return std::make_unique<InferringResponder>(ctx);
}

}  // namespace reel::mock
