// The TLS uprobes on the real kernel: a child in a test-made cgroup runs an OpenSSL client and
// server against each other over loopback; the events must rebuild exactly the plaintext each
// side wrote, in TLS-flagged data events of the capture's connections, with the socket tied by
// SSL_set_fd (server) or by the syscall inside the SSL call (a client on a socket BIO, as curl
// does), and no ciphertext once the connection is known to be TLS.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "bpf/abi/tls.h"
#include "capture/capture.h"
#include "capture/tls_probes.h"
#include "harness.h"
#include "kernel/cgroup.h"
#include "tls/ca.h"

namespace reel {
namespace {

using namespace std::chrono_literals;
using capture::Capture;
using capture::DataEvent;
using capture::Event;
using capture::OpenEvent;

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

bool ssl_write_all(SSL* ssl, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    int n = SSL_write(ssl, s.data() + off, static_cast<int>(std::min<std::size_t>(s.size() - off, 40000)));
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

std::string ssl_read_n(SSL* ssl, std::size_t want, bool use_ex) {
  std::string out;
  char buf[16384];
  while (out.size() < want) {
    std::size_t got = 0;
    if (use_ex) {
      if (SSL_read_ex(ssl, buf, sizeof buf, &got) != 1) break;
    } else {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      got = static_cast<std::size_t>(n);
    }
    out.append(buf, got);
  }
  return out;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cg = Cgroup::create_child(fmt::format("{}-tls", ::getpid()));
    ASSERT_TRUE(cg) << cg.error().message;
    cg_.emplace(std::move(*cg));
    capture::CaptureConfig c;
    c.cgroup_ids = {cg_->id()};
    auto cap = Capture::start(c);
    ASSERT_TRUE(cap) << cap.error().message;
    cap_ = std::move(*cap);
    capture::TlsConfig tc;
    tc.capture_map_fd = [this](const char* name) { return cap_->map_fd(name); };
    auto probes = capture::TlsProbes::start(tc);
    ASSERT_TRUE(probes) << probes.error().message;
    probes_ = std::move(*probes);
    probes_->scan_process(::getpid());  // this binary's libssl: the child inherits the mapping
    ASSERT_FALSE(probes_->binaries().empty()) << "no OpenSSL found in this test's mappings";
    cap_->set_tls_active();

    ca_dir_ = std::filesystem::temp_directory_path() / fmt::format("reel-tls-test-{}", ::getpid());
    auto ca = tls::CertAuthority::open(ca_dir_);
    ASSERT_TRUE(ca) << ca.error().message;
    auto leaf = (*ca)->leaf_for("127.0.0.1");
    ASSERT_TRUE(leaf) << leaf.error().message;
    leaf_ = *leaf;
  }
  void TearDown() override {
    std::filesystem::remove_all(ca_dir_);
    std::filesystem::remove_all(tls::trust_dir_for(ca_dir_));  // bundle, trust store, certs/
  }

  std::optional<Cgroup> cg_;
  std::unique_ptr<Capture> cap_;
  std::unique_ptr<capture::TlsProbes> probes_;
  std::filesystem::path ca_dir_;
  std::shared_ptr<const tls::Leaf> leaf_;
};

TEST_F(TlsTest, PlaintextOfBothSidesExactlyAndNoCiphertext) {
  const std::string request = "POST /upload HTTP/1.1\r\nHost: t\r\n\r\n" + random_bytes(100000, 7);
  const std::string response = "HTTP/1.1 200 OK\r\n\r\n" + random_bytes(70000, 9);
  auto child = testing::CgroupChild::start(cg_->fd(), [&]() -> std::string {
    auto server = testing::listen_tcp("127.0.0.1");
    std::string server_saw;
    std::thread srv([&] {
      auto conn = testing::accept_within(server.fd.get(), 5s);
      SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
      SSL_CTX_use_certificate(ctx, leaf_->cert.get());
      SSL_CTX_use_PrivateKey(ctx, leaf_->key.get());
      SSL* ssl = SSL_new(ctx);
      SSL_set_fd(ssl, conn.get());  // tie by SSL_set_fd
      if (SSL_accept(ssl) == 1) {
        server_saw = ssl_read_n(ssl, request.size(), /*use_ex=*/true);
        ssl_write_all(ssl, response);
      }
      SSL_shutdown(ssl);
      SSL_free(ssl);
      SSL_CTX_free(ctx);
    });
    auto fd = testing::connect_tcp(server.ep);
    if (!fd) return fd.error().message;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    // A socket BIO instead of SSL_set_fd, as curl's own BIO: the tie comes from the syscall.
    SSL_set_bio(ssl, BIO_new_socket(fd->get(), BIO_NOCLOSE), BIO_new_socket(fd->get(), BIO_NOCLOSE));
    std::string got;
    if (SSL_connect(ssl) == 1 && ssl_write_all(ssl, request))
      got = ssl_read_n(ssl, response.size(), /*use_ex=*/false);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    srv.join();
    return (server_saw == request ? "server ok " : "server saw wrong bytes ") +
           (got == response ? std::string("client ok") : std::string("client saw wrong bytes"));
  });
  ASSERT_EQ(child.finish(), "server ok client ok");

  std::map<std::uint64_t, int> role;  // gen -> cap_role
  std::map<std::pair<std::uint64_t, int>, std::string> plain;
  std::map<std::uint64_t, std::uint64_t> ciphertext_after_tls;
  std::map<std::uint64_t, bool> is_tls;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  auto complete = [&] {
    std::size_t full = 0;
    for (auto& [k, s] : plain) full += s.size();
    return full >= 2 * (request.size() + response.size());
  };
  while (!complete() && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(cap_->poll(20, [&](const Event& e) {
      if (auto* o = std::get_if<OpenEvent>(&e)) role[o->key.gen] = o->role;
      auto* d = std::get_if<DataEvent>(&e);
      if (!d) return;
      if (!(d->flags & CAP_F_TLS)) {
        if (is_tls[d->key.gen]) ciphertext_after_tls[d->key.gen] += d->len;
        return;
      }
      is_tls[d->key.gen] = true;
      auto& s = plain[{d->key.gen, d->dir}];
      ASSERT_EQ(d->bytes.size(), d->len) << "plaintext cut";
      if (s.size() < d->pos + d->len) s.resize(d->pos + d->len);
      std::memcpy(s.data() + d->pos, d->bytes.data(), d->bytes.size());
    }));
  }
  ASSERT_EQ(role.size(), 2u);
  for (auto& [gen, r] : role) {
    bool client = r == CAP_ROLE_CLIENT;
    const std::string& out = plain[std::make_pair(gen, int{CAP_DIR_EGRESS})];
    const std::string& in = plain[std::make_pair(gen, int{CAP_DIR_INGRESS})];
    // Compared as booleans: a failure would otherwise print 170 kB of random bytes.
    EXPECT_TRUE(out == (client ? request : response)) << "gen " << gen << " egress " << out.size();
    EXPECT_TRUE(in == (client ? response : request)) << "gen " << gen << " ingress " << in.size();
    EXPECT_EQ(ciphertext_after_tls[gen], 0u) << "ciphertext after the first plaintext, gen " << gen;
  }
  auto c = probes_->counters();
  EXPECT_EQ(c.by_kind[TLS_CNT_UNTIED], 0u);
  EXPECT_EQ(c.by_kind[TLS_CNT_LOST], 0u);
  EXPECT_GE(c.by_kind[TLS_CNT_BY_SYSCALL], 1u) << "the client's first SSL_write ties by syscall";
  EXPECT_GE(c.by_kind[TLS_CNT_BY_SET_FD], 1u);
}

}  // namespace
}  // namespace reel
