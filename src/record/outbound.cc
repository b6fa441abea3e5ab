#include "record/outbound.h"

#include "core/clock.h"

namespace reel::record {

RelayTap OutboundRecorder::tap() {
  RelayTap t;
  t.open = [this](ConnId id, const Endpoint& client, const Endpoint& server) {
    auto c = std::make_unique<Conn>();
    c->client = client;
    c->server = server;
    c->recorder = mock::CallRecorder::create(client, server, options_);
    std::lock_guard lock(mu_);
    conns_[id] = std::move(c);
    return true;
  };
  // One connection lives on one worker thread, so its recorder is only ever fed by that
  // thread; the lock covers the map and the queue, not the parsing.
  t.data = [this](ConnId id, Direction dir, std::span<const std::byte> bytes) {
    Conn* c;
    {
      std::lock_guard lock(mu_);
      auto it = conns_.find(id);
      if (it == conns_.end()) return;
      c = it->second.get();
    }
    c->recorder->data(dir, bytes, monotonic_ns());
    collect(*c);
  };
  t.close = [this](ConnId id, bool reset) {
    std::unique_ptr<Conn> c;
    {
      std::lock_guard lock(mu_);
      auto it = conns_.find(id);
      if (it == conns_.end()) return;
      c = std::move(it->second);
      conns_.erase(it);
    }
    c->recorder->close(reset, monotonic_ns());
    collect(*c);
    std::lock_guard lock(mu_);
    invalid_closed_ += c->recorder->invalid_frames();
  };
  return t;
}

void mark_as_tls(mock::RecordedCall& call) {
  call.mock.metadata["reel.tls"] = "true";
  if (auto* http = std::get_if<testset::HttpMockSpec>(&call.mock.spec)) {
    if (http->req.url.starts_with("http://")) http->req.url.insert(4, "s");
  }
}

void OutboundRecorder::mark_tls(ConnId id) {
  std::lock_guard lock(mu_);
  if (auto it = conns_.find(id); it != conns_.end()) it->second->tls = true;
}

void OutboundRecorder::collect(Conn& c) {
  auto calls = c.recorder->take();
  if (calls.empty()) return;
  if (c.tls) {
    for (auto& call : calls) mark_as_tls(call);
  }
  std::lock_guard lock(mu_);
  for (auto& call : calls) done_.push_back({c.client, c.server, std::move(call)});
}

std::vector<OutboundCall> OutboundRecorder::take() {
  std::lock_guard lock(mu_);
  return std::exchange(done_, {});
}

std::uint64_t OutboundRecorder::invalid_frames() const {
  std::lock_guard lock(mu_);
  std::uint64_t n = invalid_closed_;
  for (const auto& [id, c] : conns_) n += c->recorder->invalid_frames();
  return n;
}

std::size_t OutboundRecorder::open_connections() const {
  std::lock_guard lock(mu_);
  return conns_.size();
}

}  // namespace reel::record
