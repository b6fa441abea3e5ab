// Small pieces the mock recorders and responders share.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "mock/mock.h"
#include "protocols/decoder.h"
#include "protocols/types.h"

namespace reel::mock {

inline std::string_view text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Sets type ("config" for startup calls, else "mocks"), reel.server and reel.protocol.
void label_call(RecordedCall& call, protocols::Protocol protocol, const Endpoint& server);

// A Generic or Redis mock's request (or response) chunks joined in wire order.
std::string joined_requests(const testset::Mock& mock);
std::string joined_responses(const testset::Mock& mock);

// "GET /x" cut to a readable length, binary shown as hex.
std::string short_summary(std::string_view text);

// The error text a SQL responder sends for `what` when no mock answers it: unrecorded, or
// recorded in a form reel cannot replay (`closest` names that mock and why).
std::string sql_miss_message(std::string_view what, std::string_view closest);

// A CallRecorder over one of the repo's protocol decoders (src/protocols/decoder.h): each
// direction's bytes are kept with their arrival times until the decoder consumes them, requests
// are fed before responses (a response parser must know which request it answers), and every
// exchange the decoder completes goes to add().
class DecodingRecorder : public CallRecorder {
 public:
  DecodingRecorder(protocols::Protocol protocol, const Endpoint& server, const RecordOptions& o);
  ~DecodingRecorder() override;
  void data(Direction dir, std::span<const std::byte> bytes, std::uint64_t ts_ns) override;
  void close(bool reset, std::uint64_t ts_ns) override;
  protocols::Protocol protocol() const override { return protocol_; }
  std::uint64_t invalid_frames() const override;

 protected:
  virtual void add(protocols::Exchange exchange) = 0;

  Endpoint server_;
  RecordOptions options_;

 private:
  // One direction's bytes not yet consumed, with each piece's arrival time.
  struct TimedBytes {
    std::string bytes;
    std::deque<std::pair<std::size_t, std::uint64_t>> ends;  // (end offset, arrival ns)
    void add(std::span<const std::byte> b, std::uint64_t ts);
    std::uint64_t time_at(std::size_t offset) const;
    void consume(std::size_t n);
  };
  void pump();
  void drain(bool flush);

  protocols::Protocol protocol_;
  std::unique_ptr<protocols::Decoder> decoder_;
  TimedBytes requests_, responses_;
};

// ------------------------------------------------------------- HTTP matching (HTTP/1.x and h2)

// "/path?query" from an origin-form or absolute URL.
std::string_view path_and_query(std::string_view url);
inline std::string_view path_only(std::string_view pq) { return pq.substr(0, pq.find('?')); }

// A body as JSON when it is a JSON object or array.
std::optional<nlohmann::json> as_json(std::string_view body);
// Keys at every depth, ignoring values; an array stands for the shape of its first element.
std::string json_shape(const nlohmann::json& j);

// A live HTTP request as the Http mocks are matched against it, whatever version carried it.
struct HttpLiveRequest {
  std::string method;
  std::string pq;  // path and query
  std::string body;
  std::optional<nlohmann::json> json;
};
HttpLiveRequest http_live_request(std::string method, std::string_view url, std::string body);

// Exact: method, path and query, and body equal (JSON bodies by value); structural: method and
// path equal and, when both bodies are JSON, the same key structure.
Fit http_fit(const testset::Mock& mock, const HttpLiveRequest& live);
// The first Http mock for the same path, and why it did not fit: what nearly matched.
std::string http_closest(const MockPool& pool, const HttpLiveRequest& live);

// One direction of a framed protocol (PostgreSQL, MySQL) between frames: the start of a frame
// not complete yet, the tail of one cut at the size limit still to skip, and when the buffered
// bytes began to arrive.
struct FrameBuffer {
  std::string bytes;
  std::uint64_t skip = 0;
  std::uint64_t first_ns = 0;

  // Buffers what arrived, less the tail still to skip. False: nothing new to parse.
  bool add(std::span<const std::byte> in, std::uint64_t ts_ns = 0) {
    std::uint64_t drop = std::min<std::uint64_t>(skip, in.size());
    skip -= drop;
    in = in.subspan(drop);
    if (in.empty()) return false;
    if (bytes.empty()) first_ns = ts_ns;
    bytes.append(protocols::as_chars(in));
    return true;
  }
  std::span<const std::byte> view() const { return protocols::as_bytes(bytes); }
  bool empty() const { return bytes.empty(); }
  // Drops a parsed frame's `n` bytes; those not here yet are skipped as they come.
  void consume(std::uint64_t n) {
    if (n > bytes.size()) {
      skip = n - bytes.size();
      bytes.clear();
    } else {
      bytes.erase(0, n);
    }
  }
  // When the frame just parsed began to arrive; the next one begins at `ts_ns`.
  std::uint64_t frame_start(std::uint64_t ts_ns) { return std::exchange(first_ns, ts_ns); }
};

}  // namespace reel::mock
