// The capture programs on the real kernel: a child in a test-made cgroup talks over loopback with
// every syscall family; the events must rebuild exactly the bytes each side sent, with positions,
// roles and totals, and nothing from outside the cgroup.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <map>
#include <set>
#include <random>
#include <thread>

#include "capture/capture.h"
#include "harness.h"
#include "kernel/bpf_features.h"
#include "kernel/cgroup.h"

namespace reel {
namespace {

using namespace std::chrono_literals;
using capture::Capture;
using capture::CaptureConfig;
using capture::CloseEvent;
using capture::DataEvent;
using capture::Event;
using capture::OpenEvent;

// Every event of one run, with each direction's bytes placed at their positions.
struct Collected {
  std::vector<OpenEvent> opens;
  std::vector<CloseEvent> closes;
  std::map<std::pair<std::uint64_t, int>, std::string> streams;  // (gen, dir) -> bytes
  std::map<std::pair<std::uint64_t, int>, std::uint64_t> gaps;    // (gen, dir) -> bytes not copied
  std::vector<DataEvent> datagrams;
  std::vector<std::string> datagram_bytes;
  std::set<std::uint32_t> tgids;
  std::map<std::pair<std::uint64_t, int>, int> data_events;  // (gen, dir) -> events

  std::string& stream(std::uint64_t gen, int dir) { return streams[{gen, dir}]; }
  std::uint64_t gap(std::uint64_t gen, int dir) { return gaps[{gen, dir}]; }

  void add(const Event& ev) {
    if (auto* o = std::get_if<OpenEvent>(&ev)) {
      opens.push_back(*o);
      tgids.insert(o->key.tgid);
    } else if (auto* c = std::get_if<CloseEvent>(&ev)) {
      closes.push_back(*c);
    } else if (auto* d = std::get_if<DataEvent>(&ev)) {
      tgids.insert(d->key.tgid);
      data_events[{d->key.gen, d->dir}]++;
      auto& s = streams[{d->key.gen, d->dir}];
      if (d->bytes.empty()) {
        gaps[{d->key.gen, d->dir}] += d->len;
        if (s.size() < d->pos + d->len) s.resize(d->pos + d->len, '\0');
        return;
      }
      if (s.size() < d->pos + d->bytes.size()) s.resize(d->pos + d->bytes.size(), '\0');
      std::memcpy(s.data() + d->pos, d->bytes.data(), d->bytes.size());
      if (d->flags & CAP_F_DATAGRAM) {
        datagrams.push_back(*d);
        datagram_bytes.emplace_back(reinterpret_cast<const char*>(d->bytes.data()), d->bytes.size());
      }
    }
  }
};

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    auto cg = Cgroup::create_child(fmt::format("{}-cap{}", ::getpid(), n++));
    ASSERT_TRUE(cg) << cg.error().message;
    cg_.emplace(std::move(*cg));
    CaptureConfig c;
    c.cgroup_ids = {cg_->id()};
    auto cap = Capture::start(c);
    ASSERT_TRUE(cap) << cap.error().message;
    cap_ = std::move(*cap);
  }

  // Polls until `done` holds or the deadline passes.
  void drain_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      ASSERT_TRUE(cap_->poll(20, [&](const Event& e) { got_.add(e); }));
    } while (!done() && std::chrono::steady_clock::now() < deadline);
  }

  std::optional<Cgroup> cg_;
  std::unique_ptr<Capture> cap_;
  Collected got_;
};

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_F(CaptureTest, ClientSyscallsRebuildBothStreamsExactly) {
  auto server = testing::listen_tcp("127.0.0.1");
  const std::string big = random_bytes(40000, 1);
  std::string expect_out = "hello" "abcd" "sendto" "msg1msg2" + big;
  std::string expect_in = "world" "vec!" "from" "msgX";
  auto child = testing::CgroupChild::start(cg_->fd(), [&] {
    auto fd = testing::connect_tcp(server.ep);
    if (!fd) return fd.error().message;
    int s = fd->get();
    (void)!::write(s, "hello", 5);
    iovec v[2] = {{(void*)"ab", 2}, {(void*)"cd", 2}};
    (void)!::writev(s, v, 2);
    ::sendto(s, "sendto", 6, 0, nullptr, 0);
    iovec m[2] = {{(void*)"msg1", 4}, {(void*)"msg2", 4}};
    msghdr mh{};
    mh.msg_iov = m;
    mh.msg_iovlen = 2;
    ::sendmsg(s, &mh, 0);
    testing::write_all(s, big);
    std::string in = testing::read_n(s, 5, 5s);  // read()
    char a[2], b[2];
    iovec rv[2] = {{a, 2}, {b, 2}};
    pollfd p{s, POLLIN, 0};
    ::poll(&p, 1, 5000);
    ssize_t n = ::readv(s, rv, 2);
    if (n == 4) in += std::string(a, 2) + std::string(b, 2);
    ::poll(&p, 1, 5000);
    char c[4];
    if (::recvfrom(s, c, 4, MSG_WAITALL, nullptr, nullptr) == 4) in += std::string(c, 4);
    char d[4];
    iovec dv{d, 4};
    msghdr rh{};
    rh.msg_iov = &dv;
    rh.msg_iovlen = 1;
    if (::recvmsg(s, &rh, MSG_WAITALL) == 4) in += std::string(d, 4);
    return in;
  });
  auto conn = testing::accept_within(server.fd.get(), 5s);
  ASSERT_TRUE(conn);
  EXPECT_EQ(testing::read_n(conn.get(), expect_out.size(), 5s), expect_out);
  // Sent one at a time so each lands in its own read call.
  for (const char* part : {"world", "vec!", "from", "msgX"}) {
    testing::write_all(conn.get(), part);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(child.finish(), expect_in);
  drain_until([&] { return !got_.closes.empty(); });

  ASSERT_EQ(got_.opens.size(), 1u);
  const OpenEvent& o = got_.opens[0];
  EXPECT_EQ(o.role, CAP_ROLE_CLIENT);
  EXPECT_EQ(o.remote, server.ep);
  EXPECT_FALSE(o.udp);
  ASSERT_EQ(got_.closes.size(), 1u);
  EXPECT_EQ(got_.closes[0].key, o.key);
  EXPECT_EQ(got_.closes[0].bytes_egress, expect_out.size());
  EXPECT_EQ(got_.closes[0].bytes_ingress, expect_in.size());
  EXPECT_EQ(got_.stream(o.key.gen, CAP_DIR_EGRESS), expect_out);
  EXPECT_EQ(got_.stream(o.key.gen, CAP_DIR_INGRESS), expect_in);
  EXPECT_EQ(got_.gap(o.key.gen, CAP_DIR_EGRESS), 0u);
  EXPECT_EQ(got_.tgids.size(), 1u) << "events from outside the cgroup";
  EXPECT_EQ(cap_->counters().by_kind[CAP_CNT_LOST], 0u);
}

// A writev of up to 4 iovecs that fits one event (a response's head and body) is gathered into
// one event where bpf_loop is; more iovecs, or more bytes, or the bounded loop (older kernels)
// send one event per iovec. Every byte is exact either way.
TEST_F(CaptureTest, SmallWritevsAreGatheredIntoOneEventEach) {
  auto server = testing::listen_tcp("127.0.0.1");
  const std::string head = random_bytes(300, 2), body = random_bytes(8192 - 300 - 7, 3);
  const std::string many = random_bytes(500, 4), over = random_bytes(9000, 5);
  auto child = testing::CgroupChild::start(cg_->fd(), [&] {
    auto fd = testing::connect_tcp(server.ep);
    if (!fd) return fd.error().message;
    int s = fd->get();
    // 1: four iovecs (one empty) of exactly 8192 bytes: one event.
    iovec v[4] = {{(void*)head.data(), head.size()}, {(void*)"", 0}, {(void*)"seven!!", 7},
                  {(void*)body.data(), body.size()}};
    if (::writev(s, v, 4) != 8192) return std::string("short writev");
    // 2: five iovecs: the loop, one event per iovec.
    iovec w[5];
    for (int i = 0; i < 5; i++) w[i] = {(void*)(many.data() + 100 * i), 100};
    if (::writev(s, w, 5) != 500) return std::string("short writev");
    // 3: two iovecs over one event's size: the loop.
    iovec x[2] = {{(void*)over.data(), 4500}, {(void*)(over.data() + 4500), 4500}};
    if (::writev(s, x, 2) != 9000) return std::string("short writev");
    return std::string();
  });
  auto conn = testing::accept_within(server.fd.get(), 5s);
  ASSERT_TRUE(conn);
  const std::string want = head + "seven!!" + body + many + over;
  EXPECT_EQ(testing::read_n(conn.get(), want.size(), 5s), want);
  EXPECT_EQ(child.finish(), "");
  drain_until([&] { return !got_.closes.empty(); });
  ASSERT_EQ(got_.opens.size(), 1u);
  std::uint64_t gen = got_.opens[0].key.gen;
  EXPECT_TRUE(got_.stream(gen, CAP_DIR_EGRESS) == want) << "the streams differ";
  EXPECT_EQ(got_.gap(gen, CAP_DIR_EGRESS), 0u);
  // 1 gathered + 5 per iovec + 2 (4500 each, under a chunk) = 8.
  auto features = bpf_features();
  ASSERT_TRUE(features) << features.error().message;
  // Gathered: 1 + 5 per iovec + 2 (4500 each, under a chunk). Else the first writev is 3.
  EXPECT_EQ((got_.data_events[{gen, CAP_DIR_EGRESS}]), features->bpf_loop ? 8 : 10);
}

TEST_F(CaptureTest, ServerSideAcceptAndSendfileAndCap) {
  // Child: accept one connection, answer with a capped write and a sendfile.
  auto listener = testing::listen_tcp("127.0.0.1");
  char path[] = "/tmp/reel-capture-XXXXXX";
  int file = ::mkstemp(path);
  const std::string file_bytes = random_bytes(10000, 2);
  ASSERT_EQ(::write(file, file_bytes.data(), file_bytes.size()), (ssize_t)file_bytes.size());
  const std::string huge = random_bytes(200000, 3);  // above the 64 KiB per-call cap
  auto child = testing::CgroupChild::start(cg_->fd(), [&] {
    auto c = testing::accept_within(listener.fd.get(), 5s);
    if (!c) return std::string("no connection");
    std::string req = testing::read_n(c.get(), 3, 5s);
    testing::write_all(c.get(), huge);
    off_t off = 0;
    ssize_t n = ::sendfile(c.get(), file, &off, file_bytes.size());
    return req + " " + std::to_string(n);
  });
  auto fd = testing::connect_tcp(listener.ep);
  ASSERT_TRUE(fd);
  testing::write_all(fd->get(), "GET");
  EXPECT_EQ(testing::read_n(fd->get(), huge.size() + file_bytes.size(), 5s), huge + file_bytes);
  EXPECT_EQ(child.finish(), "GET 10000");
  ::close(file);
  ::unlink(path);
  drain_until([&] {
    return got_.stream(got_.opens.empty() ? 0 : got_.opens[0].key.gen, CAP_DIR_EGRESS).size() >=
           huge.size() + file_bytes.size();
  });
  ASSERT_EQ(got_.opens.size(), 1u) << "the listener itself is not a connection";
  const OpenEvent& o = got_.opens[0];
  EXPECT_EQ(o.role, CAP_ROLE_SERVER);
  EXPECT_EQ(o.local, listener.ep);
  EXPECT_EQ(got_.stream(o.key.gen, CAP_DIR_INGRESS), "GET");
  const std::string& out = got_.stream(o.key.gen, CAP_DIR_EGRESS);
  ASSERT_EQ(out.size(), huge.size() + file_bytes.size());
  // Whatever was copied is exact; what was not is accounted as a gap of the right size.
  std::size_t copied = out.size() - got_.gap(o.key.gen, CAP_DIR_EGRESS);
  EXPECT_EQ(got_.gap(o.key.gen, CAP_DIR_EGRESS) >= file_bytes.size(), true) << "sendfile is a gap";
  EXPECT_EQ(out.substr(0, 65536), huge.substr(0, 65536));
  EXPECT_GT(copied, 65536u - 1);
  EXPECT_GT(cap_->counters().by_kind[CAP_CNT_CAPPED_BYTES], 0u);
}

TEST_F(CaptureTest, UdpDatagramsCarryTheirPeerAndBoundaries) {
  auto server = testing::bind_udp("127.0.0.1");
  std::thread echo([&] {
    for (int i = 0; i < 2; i++) {
      char buf[64];
      sockaddr_storage from;
      socklen_t len = sizeof from;
      pollfd p{server.fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return;
      ssize_t n = ::recvfrom(server.fd.get(), buf, sizeof buf, 0, (sockaddr*)&from, &len);
      ::sendto(server.fd.get(), buf, n, 0, (sockaddr*)&from, len);
    }
  });
  std::string got = testing::run_in_cgroup(cg_->fd(), [&] {
    UniqueFd u(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_storage ss;
    socklen_t len = server.ep.to_sockaddr(ss);
    std::string r;
    for (const char* q : {"query-one", "q2"}) {
      ::sendto(u.get(), q, strlen(q), 0, (sockaddr*)&ss, len);
      char buf[64];
      pollfd p{u.get(), POLLIN, 0};
      ::poll(&p, 1, 5000);
      ssize_t n = ::recvfrom(u.get(), buf, sizeof buf, 0, nullptr, nullptr);
      r += std::string(buf, n > 0 ? n : 0) + ";";
    }
    return r;
  });
  echo.join();
  EXPECT_EQ(got, "query-one;q2;");
  drain_until([&] { return got_.datagrams.size() >= 4; });
  ASSERT_EQ(got_.datagrams.size(), 4u);
  EXPECT_EQ(got_.datagram_bytes, (std::vector<std::string>{"query-one", "query-one", "q2", "q2"}));
  EXPECT_EQ(got_.datagrams[0].dir, CAP_DIR_EGRESS);
  EXPECT_EQ(got_.datagrams[0].peer, server.ep) << "sendto names the server";
  EXPECT_EQ(got_.datagrams[1].dir, CAP_DIR_INGRESS);
  ASSERT_EQ(got_.opens.size(), 1u);
  EXPECT_TRUE(got_.opens[0].udp);
}

TEST_F(CaptureTest, NothingFromOutsideTheCgroup) {
  auto server = testing::listen_tcp("127.0.0.1");
  // This process (outside) and a child (inside) talk at the same time.
  auto inside = testing::CgroupChild::start(cg_->fd(), [&] {
    auto fd = testing::connect_tcp(server.ep);
    if (!fd) return std::string("fail");
    testing::write_all(fd->get(), "inside");
    return std::string("ok");
  });
  auto outside = testing::connect_tcp(server.ep);
  ASSERT_TRUE(outside);
  testing::write_all(outside->get(), "outside");
  EXPECT_EQ(inside.finish(), "ok");
  auto a = testing::accept_within(server.fd.get(), 2s), b = testing::accept_within(server.fd.get(), 2s);
  drain_until([&] { return !got_.closes.empty(); });
  ASSERT_EQ(got_.opens.size(), 1u);
  EXPECT_EQ(got_.tgids.size(), 1u);
  EXPECT_EQ(got_.tgids.count(static_cast<std::uint32_t>(::getpid())), 0u);
  EXPECT_EQ(got_.stream(got_.opens[0].key.gen, CAP_DIR_EGRESS), "inside");
}

// Each fallback of bpf/features.h alone on this kernel (the kernel matrix runs them all together
// and on kernels that need them): the streams still rebuild exactly, and each leaves its mark.
class CaptureFallbackTest : public CaptureTest, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    ::setenv("REEL_BPF_FALLBACKS", GetParam(), 1);
    CaptureTest::SetUp();
  }
  void TearDown() override { ::unsetenv("REEL_BPF_FALLBACKS"); }
};

TEST_P(CaptureFallbackTest, StreamsRebuildExactlyAndTheFallbackShows) {
  // What loaded: the forced fallback, and on an older kernel (the matrix) whatever it lacks too.
  auto features = bpf_features();
  ASSERT_TRUE(features) << features.error().message;
  const std::string_view forced = GetParam();
  if (forced == "task_storage") { EXPECT_FALSE(features->task_storage); }
  if (forced == "bpf_loop") { EXPECT_FALSE(features->bpf_loop); }
  if (forced == "atomics") { EXPECT_FALSE(features->fetch_atomics || features->bpf_loop); }
  bpf_map_info info{};
  std::uint32_t len = sizeof info;
  ASSERT_EQ(bpf_obj_get_info_by_fd(cap_->map_fd("stashes"), &info, &len), 0);
  EXPECT_EQ(info.type, features->task_storage ? BPF_MAP_TYPE_TASK_STORAGE : BPF_MAP_TYPE_LRU_HASH);

  auto server = testing::listen_tcp("127.0.0.1");
  const std::string big = random_bytes(60000, 7);  // 8 chunks, under the 64 KiB per-call cap
  std::string parts;
  std::vector<std::string> pieces;
  for (int i = 0; i < 20; i++) pieces.push_back(random_bytes(100, 100 + i));
  for (auto& p : pieces) parts += p;
  auto child = testing::CgroupChild::start(cg_->fd(), [&] {
    auto fd = testing::connect_tcp(server.ep);
    if (!fd) return fd.error().message;
    testing::write_all(fd->get(), big);
    std::vector<iovec> v;
    for (auto& p : pieces) v.push_back({p.data(), p.size()});
    (void)!::writev(fd->get(), v.data(), static_cast<int>(v.size()));
    return std::string("ok");
  });
  auto conn = testing::accept_within(server.fd.get(), 5s);
  ASSERT_TRUE(conn);
  EXPECT_TRUE(testing::read_n(conn.get(), big.size() + parts.size(), 10s) == big + parts);
  EXPECT_EQ(child.finish(), "ok");
  drain_until([&] { return !got_.closes.empty(); });
  ASSERT_EQ(got_.opens.size(), 1u);
  std::uint64_t gen = got_.opens[0].key.gen;
  ASSERT_EQ(got_.closes.size(), 1u);
  EXPECT_EQ(got_.closes[0].bytes_egress, big.size() + parts.size());
  const std::string& out = got_.stream(gen, CAP_DIR_EGRESS);
  ASSERT_EQ(out.size(), big.size() + parts.size());
  EXPECT_TRUE(out.substr(0, big.size()) == big) << "the 60000-byte write differs";
  // The bounded loop copies 16 iovecs of one call; the other 4 (400 bytes) arrive as a gap.
  // The baseline object (atomics) has no bpf_loop either.
  bool bounded = !features->bpf_loop;
  std::size_t copied = bounded ? 16 * 100 : parts.size();
  EXPECT_TRUE(out.substr(big.size(), copied) == parts.substr(0, copied)) << "the writev differs";
  EXPECT_EQ(got_.gap(gen, CAP_DIR_EGRESS), parts.size() - copied);
  EXPECT_EQ(cap_->counters().by_kind[CAP_CNT_CAPPED_BYTES], parts.size() - copied);
  EXPECT_EQ(cap_->counters().by_kind[CAP_CNT_LOST], 0u);
}

// The reader sleeps between timed drains; a burst must wake it before the ring fills, with the
// host's features and with each fallback (one with the bounded loop woke it too seldom, and lost
// most events at nginx's full rate). 640 KiB sent while no one polls, into a 1 MiB ring whose
// wake-up mark is a quarter: a poll that may wait 30 s must return at once, with nothing lost.
TEST(CaptureWakeUp, ABurstWakesASleepingReaderWithAndWithoutFallbacks) {
  for (const char* fallbacks : {"", "bpf_loop", "atomics"}) {
    SCOPED_TRACE(std::string("REEL_BPF_FALLBACKS=") + fallbacks);
    ::setenv("REEL_BPF_FALLBACKS", fallbacks, 1);
    auto cg = Cgroup::create_child(fmt::format("{}-wake-{}", ::getpid(), *fallbacks ? fallbacks : "none"));
    ASSERT_TRUE(cg) << cg.error().message;
    CaptureConfig c;
    c.cgroup_ids = {cg->id()};
    c.ring_bytes = 1u << 20;
    auto cap = Capture::start(c);
    ::unsetenv("REEL_BPF_FALLBACKS");
    ASSERT_TRUE(cap) << cap.error().message;

    auto server = testing::listen_tcp("127.0.0.1");
    const std::string block = random_bytes(16 * 1024, 9);
    constexpr int kBlocks = 40;
    auto child = testing::CgroupChild::start(cg->fd(), [&] {
      auto fd = testing::connect_tcp(server.ep);
      if (!fd) return fd.error().message;
      for (int i = 0; i < kBlocks; i++) testing::write_all(fd->get(), block);
      return std::string("ok");
    });
    auto conn = testing::accept_within(server.fd.get(), 5s);
    ASSERT_TRUE(conn);
    EXPECT_EQ(testing::read_n(conn.get(), block.size() * kBlocks, 10s).size(), block.size() * kBlocks);
    EXPECT_EQ(child.finish(), "ok");

    std::uint64_t bytes = 0;
    auto count = [&](const Event& e) {
      if (auto* d = std::get_if<DataEvent>(&e)) bytes += d->bytes.size();
    };
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE((*cap)->poll(30'000, count));
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_LT(waited, 15s) << "the reader slept through the burst";
    for (int i = 0; i < 50 && bytes < block.size() * kBlocks; i++) ASSERT_TRUE((*cap)->poll(20, count));
    EXPECT_EQ(bytes, block.size() * kBlocks);
    EXPECT_EQ((*cap)->counters().by_kind[CAP_CNT_LOST], 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Each, CaptureFallbackTest,
                         ::testing::Values("task_storage", "bpf_loop", "atomics"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace reel
