// bench_consumer: what `reel trace` spends in user space per exchange, without the kernel.
//
// Ring records shaped like the ones bench/trace.sh produces (wrk asking nginx for a 693-byte file
// over 32 keep-alive connections: one read of the request, one gathered writev of the response)
// are built in memory and go through the path `reel trace` runs on every record: decode_event,
// then trace::Pipeline (tracker, filter, sink, summary), writing to /dev/null. A drain of 64
// exchanges per connection is followed by the flush the trace loop does after each poll.
//
// What it leaves out: the ring itself (libbpf's loop, the cache lines the producer shares) and the
// yields of Capture::poll. So its ns/exchange is a floor of the live figure, and the figure to
// compare between two builds of the consumer; bench/trace.sh gives the live one.
//
//   build/bench/bench_consumer [--benchmark_repetitions=5 ...]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "capture/capture.h"
#include "trace/pipeline.h"

namespace {

using namespace reel;

constexpr std::uint32_t kTgid = 4242;
constexpr int kConnections = 32;
constexpr int kExchangesPerDrain = 64 * kConnections;

std::string request_bytes() {
  return "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:18089\r\n\r\n";
}

std::string response_bytes() {
  std::string body;
  for (int i = 0; body.size() < 693; i++) body += static_cast<char>('A' + i % 26);
  body.resize(692);
  body += '\n';
  return "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 10:41:03 GMT\r\n"
         "Content-Type: text/html\r\nContent-Length: 693\r\nLast-Modified: Mon, 07 Dec 2026 "
         "10:40:58 GMT\r\nConnection: keep-alive\r\nETag: \"6932c6ea-2b5\"\r\n"
         "Accept-Ranges: bytes\r\n\r\n" +
         body;
}

std::vector<std::byte> open_record(int fd) {
  abi::cap_open_event e{};
  e.h.type = CAP_EV_OPEN;
  e.h.role = CAP_ROLE_SERVER;
  e.h.tgid = kTgid;
  e.h.tid = kTgid;
  e.h.fd = static_cast<std::uint32_t>(fd);
  e.h.gen = static_cast<std::uint64_t>(fd);
  e.h.ts_ns = 1;
  for (abi::cap_addr* a : {&e.local, &e.remote}) {
    a->ip[10] = a->ip[11] = 0xff;
    a->ip[12] = 127;
    a->ip[15] = 1;
  }
  e.local.port = 18089;
  e.remote.port = static_cast<std::uint16_t>(40000 + fd);
  e.family = 2;
  e.protocol = 6;
  std::memcpy(e.comm, "nginx", 5);
  std::vector<std::byte> raw(sizeof e);
  std::memcpy(raw.data(), &e, sizeof e);
  return raw;
}

// A data record for `payload`; its fd, position and time are set per use.
std::vector<std::byte> data_record(int dir, const std::string& payload) {
  constexpr std::size_t head = offsetof(abi::cap_data_event, data);
  abi::cap_data_event e;
  std::memset(&e, 0, head);
  e.h.type = CAP_EV_DATA;
  e.h.dir = static_cast<std::uint8_t>(dir);
  e.h.tgid = kTgid;
  e.h.tid = kTgid;
  e.len = e.copied = static_cast<std::uint32_t>(payload.size());
  std::vector<std::byte> raw(head + payload.size());
  std::memcpy(raw.data(), &e, head);
  std::memcpy(raw.data() + head, payload.data(), payload.size());
  return raw;
}

void place(std::vector<std::byte>& raw, int fd, std::uint64_t pos, std::uint64_t ts) {
  auto* e = reinterpret_cast<abi::cap_data_event*>(raw.data());
  e->h.fd = static_cast<std::uint32_t>(fd);
  e->h.gen = static_cast<std::uint64_t>(fd);
  e->h.ts_ns = ts;
  e->pos = pos;
}

void deliver(trace::Pipeline& p, const std::vector<std::byte>& raw) {
  auto ev = capture::decode_event(raw);
  if (!ev) std::abort();
  p.on_event(*ev);
}

void consume(benchmark::State& state, const char* format, bool verbose) {
  std::FILE* out = std::fopen("/dev/null", "w");
  std::setvbuf(out, nullptr, _IOFBF, 1 << 16);
  trace::TraceOptions o;
  o.format = format;
  o.verbose = verbose;
  trace::SinkOptions so;
  so.out = out;
  so.verbose = verbose;
  auto sink = o.format == "json" ? trace::make_json_sink(so) : trace::make_pretty_sink(so);
  trace::Filter filter = *trace::Filter::parse({});
  trace::Summary summary;
  trace::Pipeline pipeline(trace::tracker_options(o, 64 * 1024, summary), filter, *sink, summary,
                           0);

  std::string req = request_bytes(), resp = response_bytes();
  std::vector<std::byte> req_raw = data_record(CAP_DIR_INGRESS, req);
  std::vector<std::byte> resp_raw = data_record(CAP_DIR_EGRESS, resp);
  for (int fd = 0; fd < kConnections; fd++) deliver(pipeline, open_record(100 + fd));
  std::uint64_t ts = 1'000'000, pos = 0;
  for (auto _ : state) {
    for (int i = 0; i < kExchangesPerDrain / kConnections; i++, pos++) {
      for (int c = 0; c < kConnections; c++) {
        place(req_raw, 100 + c, pos * req.size(), ts += 1'000);
        deliver(pipeline, req_raw);
        place(resp_raw, 100 + c, pos * resp.size(), ts += 9'000);
        deliver(pipeline, resp_raw);
      }
    }
    if (pipeline.emit()) std::fflush(out);
  }
  std::uint64_t expected = static_cast<std::uint64_t>(state.iterations()) * kExchangesPerDrain;
  if (pipeline.tracker().stats().exchanges != expected || summary.shown() != expected) {
    state.SkipWithError("the pipeline did not see every exchange");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(expected));
  // Seconds per exchange (printed as 1.2u: 1.2 µs).
  state.counters["per_exchange"] = benchmark::Counter(
      static_cast<double>(expected), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  std::fclose(out);
}

void BM_Pretty(benchmark::State& s) { consume(s, "pretty", false); }
void BM_PrettyVerbose(benchmark::State& s) { consume(s, "pretty", true); }
void BM_Json(benchmark::State& s) { consume(s, "json", false); }

BENCHMARK(BM_Pretty)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PrettyVerbose)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Json)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
