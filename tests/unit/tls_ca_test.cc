#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tls/ca.h"

namespace reel::tls {
namespace {

namespace fs = std::filesystem;

class TlsCaTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reel-ca-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ / "ca";
  }
  void TearDown() override { fs::remove_all(root_); }

  static mode_t mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }

  // Verifies `cert` against `ca` alone, as a client trusting only reel's CA would.
  static bool verifies(X509* ca, X509* cert) {
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, cert, nullptr);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    bool ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
  }

  fs::path root_, dir_;
};

TEST_F(TlsCaTest, CreatesTheCaOnceWithPrivateKeyFile) {
  auto ca = CertAuthority::open(dir_);
  ASSERT_TRUE(ca) << ca.error().message;
  EXPECT_TRUE((*ca)->created());
  EXPECT_EQ(mode_of(dir_), 0700u);
  EXPECT_EQ(mode_of(dir_ / "ca.key"), 0600u);
  EXPECT_EQ(mode_of(dir_ / "ca.crt"), 0644u);
  EXPECT_TRUE(X509_check_ca((*ca)->cert()));

  auto again = CertAuthority::open(dir_);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE((*again)->created());
  EXPECT_EQ(X509_cmp((*ca)->cert(), (*again)->cert()), 0) << "a second run reuses the CA";
}

TEST_F(TlsCaTest, BundleHoldsTheSystemCasAndReels) {
  auto ca = CertAuthority::open(dir_);
  ASSERT_TRUE(ca) << ca.error().message;
  std::ifstream in((*ca)->bundle_path());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bundle = ss.str();
  std::ifstream crt_in((*ca)->cert_path());
  std::stringstream crt;
  crt << crt_in.rdbuf();
  ASSERT_FALSE(crt.str().empty());
  EXPECT_TRUE(bundle.ends_with(crt.str()));
  if (fs::exists("/etc/ssl/certs/ca-certificates.crt")) {
    EXPECT_GT(bundle.size(), crt.str().size()) << "system CAs first";
  }

  auto env = trust_env(**ca);
  std::string bundle_path = (*ca)->bundle_path().string();
  for (const char* name :
       {"SSL_CERT_FILE=", "REQUESTS_CA_BUNDLE=", "CURL_CA_BUNDLE=", "NODE_EXTRA_CA_CERTS="}) {
    EXPECT_NE(std::find(env.begin(), env.end(), name + bundle_path), env.end()) << name;
  }
}

TEST_F(TlsCaTest, LeafForANameVerifiesAgainstTheCa) {
  auto ca = CertAuthority::open(dir_);
  ASSERT_TRUE(ca) << ca.error().message;
  auto leaf = (*ca)->leaf_for("api.rates.test");
  ASSERT_TRUE(leaf) << leaf.error().message;
  X509* cert = (*leaf)->cert.get();
  EXPECT_TRUE(verifies((*ca)->cert(), cert));
  EXPECT_EQ(X509_check_host(cert, "api.rates.test", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(cert, "other.rates.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_private_key(cert, (*leaf)->key.get()), 1);
  EXPECT_EQ(EVP_PKEY_get_id((*leaf)->key.get()), EVP_PKEY_EC);
  // Short-lived: gone within 8 days.
  time_t in_8_days = std::time(nullptr) + 8 * 24 * 3600;
  EXPECT_LT(X509_cmp_time(X509_get0_notAfter(cert), &in_8_days), 0);

  auto cached = (*ca)->leaf_for("api.rates.test");
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->get(), leaf->get()) << "cached in memory";

  // A CA loaded again signs leaves that verify against the first one's certificate.
  auto again = CertAuthority::open(dir_);
  ASSERT_TRUE(again);
  auto other = (*again)->leaf_for("db.rates.test");
  ASSERT_TRUE(other);
  EXPECT_TRUE(verifies((*ca)->cert(), (*other)->cert.get()));
}

TEST_F(TlsCaTest, LeafForAnIpHasAnIpSan) {
  auto ca = CertAuthority::open(dir_);
  ASSERT_TRUE(ca) << ca.error().message;
  for (const char* ip : {"127.0.0.1", "::1"}) {
    auto leaf = (*ca)->leaf_for(ip);
    ASSERT_TRUE(leaf) << leaf.error().message;
    X509* cert = (*leaf)->cert.get();
    EXPECT_TRUE(verifies((*ca)->cert(), cert));
    EXPECT_EQ(X509_check_ip_asc(cert, ip, 0), 1) << ip;
  }
}

TEST_F(TlsCaTest, MismatchedKeyIsAClearError) {
  ASSERT_TRUE(CertAuthority::open(dir_));
  fs::path other = root_ / "other";
  ASSERT_TRUE(CertAuthority::open(other));
  fs::copy_file(other / "ca.key", dir_ / "ca.key", fs::copy_options::overwrite_existing);
  auto ca = CertAuthority::open(dir_);
  ASSERT_FALSE(ca);
  EXPECT_NE(ca.error().message.find("does not match"), std::string::npos) << ca.error().message;
}

}  // namespace
}  // namespace reel::tls
