// Answers HTTP/1.x requests from Http mocks. Requests are framed by the repo's llhttp parser;
// the fit (mock/common.h http_fit) is the one HTTP/2 requests get too.
#include "mock/common.h"
#include "mock/protocols.h"
#include "protocols/http1/parse.h"
#include "protocols/text.h"

namespace reel::mock {

namespace {

using protocols::http1::Message;

std::string_view reason_for(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool bodiless(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

std::string render(const Message& req, int status, std::string_view reason,
                   const testset::HeaderMap& headers, std::string_view body, bool close) {
  std::string out = fmt::format("HTTP/{}.{} {} {}\r\n", req.version_major, req.version_minor,
                                status, reason.empty() ? reason_for(status) : reason);
  bool head = req.method == "HEAD";
  for (const auto& [name, value] : headers) {
    if (protocols::iequals(name, "Transfer-Encoding") || protocols::iequals(name, "Connection") ||
        protocols::iequals(name, "Keep-Alive")) {
      continue;
    }
    // HEAD keeps the recorded length: it describes the body a GET would get.
    if (protocols::iequals(name, "Content-Length") && !head) continue;
    out += name + ": " + value + "\r\n";
  }
  if (!head && !bodiless(status)) out += fmt::format("Content-Length: {}\r\n", body.size());
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head && !bodiless(status)) out += body;
  return out;
}

class HttpResponder final : public Responder {
 public:
  explicit HttpResponder(const Context& ctx) : ctx_(ctx) {
    limits_.max_body = 256 * 1024 * 1024;
    limits_.max_frame = limits_.max_body;
  }

  Output feed(std::span<const std::byte> bytes) override {
    Output out;
    input_.append(text_of(bytes));
    while (!input_.empty() && !out.close) {
      Message msg;
      auto r = protocols::http1::parse_frame(protocols::MessageType::kRequest,
                                             protocols::as_bytes(input_), msg, state_, limits_);
      if (r.state == protocols::ParseState::kInvalid) {
        out.bytes += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        out.close = true;
        out.rejected = true;
        break;
      }
      input_.erase(0, std::min<std::size_t>(r.consumed, input_.size()));
      if (r.state == protocols::ParseState::kNeedsMore) {
        if (r.consumed == 0) break;  // waiting on something (an upgrade) we never grant
        continue;
      }
      answer(msg, out);
    }
    return out;
  }

 private:
  void answer(const Message& msg, Output& out) {
    HttpLiveRequest live = http_live_request(msg.method, msg.url, msg.body.data);
    bool close = !msg.keep_alive;
    auto pick = ctx_.pool->pick(testset::MockKind::kHttp, ctx_.server,
                                [&](const testset::Mock& m) { return http_fit(m, live); });
    if (pick) {
      const auto& resp = std::get<testset::HttpMockSpec>(pick->mock->spec).resp;
      out.bytes += render(msg, resp.status_code, resp.status_message, resp.header, resp.body, close);
    } else {
      std::string summary = short_summary(msg.method + " " + live.pq);
      std::string body = "reel: no recorded answer for " + summary + "\n";
      out.bytes += render(msg, 502, "Bad Gateway", {{"Content-Type", "text/plain"}}, body, close);
      ctx_.pool->record_unmatched({ctx_.pool->current_test(), testset::MockKind::kHttp, ctx_.server,
                                   summary, http_closest(*ctx_.pool, live)});
    }
    out.close = close;
  }

  Context ctx_;
  protocols::Limits limits_;
  protocols::http1::State state_;
  std::string input_;
};

}  // namespace

std::unique_ptr<Responder> make_http_responder(const Responder::Context& ctx) {
  return std::make_unique<HttpResponder>(ctx);
}

}  // namespace reel::mock
