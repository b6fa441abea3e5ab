#include "protocols/raw/raw.h"

#include <optional>

#include "protocols/text.h"

namespace reel::protocols::raw {

namespace {

// Folds the first `n` chunks of `chunks` into one body and its timing.
void take_burst(std::deque<Chunk>& chunks, std::size_t n, const Limits& limits, Body& body,
                Timing& time, std::uint64_t& wire, bool& gap) {
  for (std::size_t i = 0; i < n; ++i) {
    Chunk& c = chunks.front();
    if (i == 0) time.first_ns = c.time.first_ns;
    time.last_ns = c.time.last_ns;
    append_capped(body.data, c.bytes, limits.max_body);
    body.size += c.size;
    wire += c.wire_size;
    gap = gap || c.after_gap;
    chunks.pop_front();
  }
}

void emit(std::deque<Chunk>& requests, std::size_t n_req, std::deque<Chunk>& responses,
          std::size_t n_resp, const Limits& limits, std::vector<Exchange>& out) {
  Exchange e;
  e.protocol = Protocol::kRaw;
  e.has_request = n_req > 0;
  e.has_response = n_resp > 0;
  take_burst(requests, n_req, limits, e.request_body, e.request_time, e.request_size, e.gap);
  take_burst(responses, n_resp, limits, e.response_body, e.response_time, e.response_size, e.gap);
  e.fields["raw.request_chunks"] = std::to_string(n_req);
  e.fields["raw.response_chunks"] = std::to_string(n_resp);
  e.finish_timing();
  out.push_back(std::move(e));
}

// Chunks at the front of `chunks` that started before `bound` (all when there is none).
std::size_t count_before(const std::deque<Chunk>& chunks, std::optional<std::uint64_t> bound,
                         bool inclusive) {
  std::size_t n = 0;
  for (const Chunk& c : chunks) {
    if (bound && (inclusive ? c.time.first_ns > *bound : c.time.first_ns >= *bound)) break;
    ++n;
  }
  return n;
}

}  // namespace

ParseResult parse_frame(MessageType, std::span<const std::byte> data, Chunk& frame, State&,
                        const Limits& limits) {
  if (data.empty()) return {};
  std::string_view text = as_chars(data);
  frame.bytes = capped(text, limits.max_body);
  frame.size = text.size();
  return {ParseState::kParsed, data.size()};
}

std::size_t find_frame_boundary(MessageType, std::span<const std::byte>, const State&) { return 0; }

void stitch(std::deque<Chunk>& requests, std::deque<Chunk>& responses, StitchState&,
            const Limits& limits, bool flush, std::vector<Exchange>& out) {
  while (!requests.empty() || !responses.empty()) {
    bool crowded = requests.size() > limits.max_pending || responses.size() > limits.max_pending;
    if (!responses.empty() &&
        (requests.empty() || responses.front().time.first_ns < requests.front().time.first_ns)) {
      // The server spoke first: its burst ends when the client speaks.
      if (requests.empty() && !flush && !crowded) break;
      std::optional<std::uint64_t> bound;
      if (!requests.empty()) bound = requests.front().time.first_ns;
      emit(requests, 0, responses, count_before(responses, bound, false), limits, out);
      continue;
    }
    if (responses.empty()) {
      if (!flush && !crowded) break;
      emit(requests, requests.size(), responses, 0, limits, out);
      continue;
    }
    std::size_t n_req = count_before(requests, responses.front().time.first_ns, true);
    std::optional<std::uint64_t> next_request;
    if (n_req < requests.size()) next_request = requests[n_req].time.first_ns;
    if (!next_request && !flush && !crowded) break;  // the server may not be done answering
    emit(requests, n_req, responses, count_before(responses, next_request, false), limits, out);
  }
}

}  // namespace reel::protocols::raw
