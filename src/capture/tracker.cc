#include "capture/tracker.h"

#include <algorithm>

#include "bpf/abi/tls.h"
#include "capture/stream_buffer.h"
#include "kernel/proc_net.h"
#include "protocols/decoder.h"
#include "protocols/infer.h"

namespace reel::capture {

namespace {

using protocols::MessageType;
using protocols::Protocol;

// Bytes of unrecognised traffic after which a connection is shown as raw exchanges.
constexpr std::size_t kInferLimit = 1024;

// A TLS record header (handshake or alert, TLS 1.0-1.3) at the start of a stream: its plaintext
// may follow from the uprobes, so the ciphertext is not worth a decoder yet.
bool starts_like_tls(std::span<const std::byte> b) {
  return b.size() >= 3 && (b[0] == std::byte{0x16} || b[0] == std::byte{0x15}) &&
         b[1] == std::byte{0x03} && b[2] <= std::byte{0x04};
}

bool listening_from_proc(const Endpoint& local) {
  return find_listener_inode(local).has_value();
}

}  // namespace

struct Tracker::Connection {
  ConnectionInfo info;
  StreamBuffer egress, ingress;  // written / read by the traced process
  std::unique_ptr<protocols::Decoder> decoder;
  std::uint64_t last_ns = 0;
  bool gave_up_inference = false;

  StreamBuffer& side(MessageType t) {
    bool egress_is_request = !info.server;
    return (t == MessageType::kRequest) == egress_is_request ? egress : ingress;
  }
  // What the bytes of a data event's direction are: the app's writes are requests on its
  // client connections and responses on its server ones.
  MessageType type_of(std::uint8_t dir) const {
    return (dir == CAP_DIR_EGRESS) != info.server ? MessageType::kRequest : MessageType::kResponse;
  }
};

namespace {

// Feeds `data` to the decoder until it takes no more (it waits for the rest of a message);
// returns the bytes it took. `time_at` is given offsets into `data`.
std::size_t feed_all(protocols::Decoder& decoder, MessageType t, std::span<const std::byte> data,
                     const protocols::TimeAt& time_at) {
  std::size_t used = 0;
  while (used < data.size()) {
    std::size_t n = decoder.feed(t, data.subspan(used), [&](std::size_t off) { return time_at(used + off); });
    if (n == 0) break;
    used += n;
  }
  return used;
}

}  // namespace

Tracker::Tracker(TrackerOptions options) : options_(std::move(options)) {
  if (!options_.is_listening) options_.is_listening = listening_from_proc;
}
Tracker::~Tracker() = default;

void Tracker::on_event(const Event& event, ExchangeHandler& out) {
  if (auto* o = std::get_if<OpenEvent>(&event)) {
    on_open(*o);
  } else if (auto* d = std::get_if<DataEvent>(&event)) {
    on_data(*d, out);
  } else if (auto* c = std::get_if<CloseEvent>(&event)) {
    close(c->key, c->ts_ns);
  } else if (auto* x = std::get_if<ExitEvent>(&event)) {
    // The process is gone, and with it every fd it had: flush its connections.
    std::vector<ConnKey> gone;
    for (auto& [k, c] : conns_)
      if (k.tgid == x->tgid) gone.push_back(k);
    for (auto& k : gone) close(k, x->ts_ns);
  }
  if (done_.size() >= kBatch) deliver(out);
}

void Tracker::deliver(ExchangeHandler& out) {
  for (std::size_t i = 0; i < done_.size(); i++) out.on_exchange(*done_conns_[i], done_[i]);
  done_.clear();
  done_conns_.clear();
  retired_.clear();
}

namespace {

// The vector form of the tracker's calls: each exchange appended with its connection.
class Append final : public ExchangeHandler {
 public:
  explicit Append(std::vector<TracedExchange>& out) : out_(out) {}
  void on_exchange(const ConnectionInfo& conn, protocols::Exchange& exchange) override {
    out_.emplace_back(conn, std::move(exchange));
  }

 private:
  std::vector<TracedExchange>& out_;
};

}  // namespace

void Tracker::on_event(const Event& event, std::vector<TracedExchange>& out) {
  Append a(out);
  on_event(event, a);
  deliver(a);
}

void Tracker::expire_idle(std::uint64_t now_ns, std::vector<TracedExchange>& out) {
  Append a(out);
  expire_idle(now_ns, a);
}

void Tracker::flush_all(std::vector<TracedExchange>& out) {
  Append a(out);
  flush_all(a);
}

const ConnectionInfo* Tracker::connection(const ConnKey& key) const {
  auto it = conns_.find(key);
  return it == conns_.end() ? nullptr : &it->second->info;
}

void Tracker::on_open(const OpenEvent& e) {
  auto c = std::make_unique<Connection>();
  c->info = ConnectionInfo{e.key, e.comm, e.local, e.remote, e.role == CAP_ROLE_SERVER, e.udp};
  if (e.role == CAP_ROLE_UNKNOWN) c->info.server = !e.udp && options_.is_listening(e.local);
  c->last_ns = e.ts_ns;
  auto& slot = conns_[e.key];
  if (slot) retire(std::move(slot));
  slot = std::move(c);
  stats_.connections++;
}

void Tracker::retire(std::unique_ptr<Connection> c) {
  if (c.get() == last_) last_ = nullptr;
  // Exchanges waiting for delivery may point at its info: it goes when they do.
  if (!done_.empty()) retired_.push_back(std::move(c));
}

Tracker::Connection* Tracker::find(const ConnKey& key) {
  if (last_ && last_->info.key == key) return last_;
  auto it = conns_.find(key);
  return it == conns_.end() ? nullptr : (last_ = it->second.get());
}

void Tracker::on_data(const DataEvent& e, ExchangeHandler& out) {
  Connection* found = find(e.key);
  if (!found) {
    stats_.orphan_events++;
    return;
  }
  Connection& c = *found;
  if ((e.flags & CAP_F_TLS) && !c.info.tls) {
    // Plaintext from now on: whatever came before was the handshake's ciphertext. Exchanges
    // already complete go out first: they were not TLS plaintext.
    deliver(out);
    c.info.tls = true;
    c.egress = StreamBuffer();
    c.ingress = StreamBuffer();
    c.decoder.reset();
    stats_.tls_connections++;
  } else if (!(e.flags & CAP_F_TLS) && c.info.tls) {
    return;  // ciphertext that was on its way before the kernel knew
  }
  c.last_ns = e.ts_ns;
  stats_.bytes += e.len;
  if (c.info.udp) return on_datagram(c, e);
  StreamBuffer& buf = e.dir == CAP_DIR_EGRESS ? c.egress : c.ingress;
  if (c.decoder && e.bytes.size() == e.len && buf.at_rest(e.pos)) {
    // The common case under load: in order, nothing held. Parse in the ring's memory and keep
    // only what the decoder leaves (a message's unfinished part).
    std::size_t used =
        feed_all(*c.decoder, c.type_of(e.dir), e.bytes, [&](std::size_t) { return e.ts_ns; });
    buf.pass(used, e.ts_ns);
    if (used < e.bytes.size()) buf.add(e.pos + used, e.bytes.subspan(used), e.ts_ns);
    return drive(c);
  }
  buf.add_captured(e.pos, e.bytes, e.len, e.ts_ns);
  drive(c);
}

namespace {

// Picks the decoder once the first bytes tell the protocol (or clearly never will).
std::unique_ptr<protocols::Decoder> infer(Tracker::Connection& c, const protocols::Limits& limits,
                                          StreamBuffer& req, StreamBuffer& resp) {
  Protocol p = Protocol::kUnknown;
  if (!req.readable().empty()) p = protocols::infer_protocol(req.readable(), MessageType::kRequest, c.info.udp);
  if (p == Protocol::kUnknown && !resp.readable().empty())
    p = protocols::infer_protocol(resp.readable(), MessageType::kResponse, c.info.udp);
  bool enough = req.readable().size() >= kInferLimit || resp.readable().size() >= kInferLimit ||
                (!req.readable().empty() && !resp.readable().empty());
  if (p == Protocol::kUnknown && !enough) return nullptr;
  protocols::DecoderOptions o;
  o.limits = limits;
  o.datagrams = c.info.udp;
  return protocols::make_decoder(p, o);
}

}  // namespace

// A datagram is a whole message: it goes to the decoder as it is, never joined with the next.
void Tracker::on_datagram(Connection& c, const DataEvent& e) {
  MessageType t = c.type_of(e.dir);
  if (e.bytes.size() < e.len) {
    stats_.bytes_lost += e.len - e.bytes.size();
    return;  // a cut datagram cannot be parsed
  }
  if (!c.decoder) {
    protocols::DecoderOptions o;
    o.limits = options_.limits;
    o.datagrams = true;
    c.decoder = protocols::make_decoder(protocols::infer_protocol(e.bytes, t, true), o);
  }
  c.decoder->feed(t, e.bytes, [&](std::size_t) { return e.ts_ns; });
  collect(c, false);
}

void Tracker::drive(Connection& c) {
  StreamBuffer& req = c.side(MessageType::kRequest);
  StreamBuffer& resp = c.side(MessageType::kResponse);
  if (!c.decoder) {
    // Holes before the first bytes (reel attached mid-stream) are not the protocol's business.
    for (StreamBuffer* b : {&req, &resp})
      if (b->gap().kind == GapKind::kLost) b->skip_gap();
    if (!c.info.tls && !c.info.udp &&
        (starts_like_tls(req.readable()) || starts_like_tls(resp.readable())))
      return;
    c.decoder = infer(c, options_.limits, req, resp);
    if (!c.decoder) return;
    (void)req.take_loss();
    (void)resp.take_loss();
  }
  for (MessageType t : {MessageType::kRequest, MessageType::kResponse}) {
    StreamBuffer& b = c.side(t);
    for (;;) {
      if (b.gap().kind == GapKind::kLost) b.skip_gap();
      if (auto lost = b.take_loss()) {
        stats_.bytes_lost += lost;
        c.decoder->on_gap(t, lost);
      }
      auto data = b.readable();
      if (data.empty()) break;
      std::uint64_t base = b.position();
      std::size_t n = feed_all(*c.decoder, t, data, [&](std::size_t off) { return b.time_at(base + off); });
      b.consume(n);
      if (n < data.size()) break;  // the decoder waits for more
    }
  }
  collect(c, false);
}

void Tracker::collect(Connection& c, bool flush) {
  if (!c.decoder) return;
  std::size_t before = done_.size();
  c.decoder->take_exchanges(done_, flush);
  for (std::size_t i = before; i < done_.size(); i++) {
    stats_.exchanges++;
    stats_.by_protocol[static_cast<int>(done_[i].protocol) & 7]++;
    done_conns_.push_back(&c.info);
  }
}

void Tracker::close(const ConnKey& key, std::uint64_t ts_ns) {
  auto it = conns_.find(key);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  if (!c.decoder) {
    // Too little traffic to recognise: show it raw rather than drop it.
    protocols::DecoderOptions o;
    o.limits = options_.limits;
    o.datagrams = c.info.udp;
    if (!c.egress.readable().empty() || !c.ingress.readable().empty())
      c.decoder = protocols::make_decoder(Protocol::kUnknown, o);
    if (c.decoder) drive(c);
  }
  if (c.decoder) {
    c.decoder->on_close(MessageType::kRequest, ts_ns);
    c.decoder->on_close(MessageType::kResponse, ts_ns);
    stats_.invalid_frames += c.decoder->stats().invalid;
    collect(c, true);
  }
  retire(std::move(it->second));
  conns_.erase(it);
}

void Tracker::expire_idle(std::uint64_t now_ns, ExchangeHandler& out) {
  std::vector<ConnKey> idle;
  for (auto& [k, c] : conns_)
    if (now_ns > c->last_ns && now_ns - c->last_ns > options_.idle_ns) idle.push_back(k);
  for (auto& k : idle) close(k, now_ns);
  deliver(out);
}

void Tracker::flush_all(ExchangeHandler& out) {
  std::vector<ConnKey> all;
  for (auto& [k, c] : conns_) all.push_back(k);
  for (auto& k : all) close(k, conns_[k]->last_ns);
  deliver(out);
}

}  // namespace reel::capture
