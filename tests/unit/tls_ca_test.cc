#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/unique_fd.h"
#include "tls/app_hint.h"
#include "tls/ca.h"
#include "tls/trust_store.h"

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

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static std::size_t pem_count(const std::string& pem) {
    auto certs = read_pem_certs(pem);
    return certs ? certs->size() : 0;
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
  EXPECT_FALSE(fs::exists(dir_ / "bundle.pem")) << "nothing an app reads stays in the 0700 dir";

  // What apps are told to trust: readable by any user (an app may run with --user).
  const CertAuthority& c = **ca;
  EXPECT_EQ(c.trust_dir(), root_ / "ca-trust");
  EXPECT_EQ(mode_of(c.trust_dir()), 0755u);
  EXPECT_EQ(mode_of(c.bundle_path()), 0644u);
  EXPECT_EQ(mode_of(c.trust_store_path()), 0644u);
  EXPECT_EQ(mode_of(c.public_cert_path()), 0644u);
  EXPECT_EQ(mode_of(c.certs_dir()), 0755u);
  EXPECT_EQ(slurp(c.public_cert_path()), slurp(c.cert_path()));

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
       {"SSL_CERT_FILE=", "REQUESTS_CA_BUNDLE=", "CURL_CA_BUNDLE=", "NODE_EXTRA_CA_CERTS=",
        "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH="}) {
    EXPECT_NE(std::find(env.begin(), env.end(), name + bundle_path), env.end()) << name;
  }
  EXPECT_NE(std::find(env.begin(), env.end(), "SSL_CERT_DIR=" + (*ca)->certs_dir().string()),
            env.end());
}

TEST_F(TlsCaTest, TrustStoreHoldsEveryBundleCertAsATrustedJavaEntry) {
  auto ca = CertAuthority::open(dir_);
  ASSERT_TRUE(ca) << ca.error().message;
  std::string der = slurp((*ca)->trust_store_path());
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, long(der.size()));
  ASSERT_NE(p12, nullptr);
  EXPECT_EQ(PKCS12_verify_mac(p12, kTrustStorePassword, -1), 1) << "Java checks the MAC";
  ASN1_OBJECT* trusted_usage = OBJ_txt2obj(kOracleTrustedKeyUsage, 1);
  ASN1_OBJECT* any_eku = OBJ_txt2obj(kAnyExtendedKeyUsage, 1);
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
  ASSERT_NE(safes, nullptr);
  std::size_t bags = 0, trusted = 0;
  bool has_ca = false;
  std::set<std::string> aliases;
  for (int i = 0; i < sk_PKCS7_num(safes); i++) {
    STACK_OF(PKCS12_SAFEBAG)* safe = PKCS12_unpack_p7data(sk_PKCS7_value(safes, i));
    ASSERT_NE(safe, nullptr) << "an unencrypted safe";
    for (int j = 0; j < sk_PKCS12_SAFEBAG_num(safe); j++) {
      const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(safe, j);
      ASSERT_EQ(PKCS12_SAFEBAG_get_nid(bag), NID_certBag);
      bags++;
      const STACK_OF(X509_ATTRIBUTE)* attrs = PKCS12_SAFEBAG_get0_attrs(bag);
      int at = X509at_get_attr_by_OBJ(attrs, trusted_usage, -1);
      if (at >= 0) {
        ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(X509at_get_attr(attrs, at), 0);
        if (v && v->type == V_ASN1_OBJECT && OBJ_cmp(v->value.object, any_eku) == 0) trusted++;
      }
      char* alias = PKCS12_get_friendlyname(const_cast<PKCS12_SAFEBAG*>(bag));
      ASSERT_NE(alias, nullptr) << "every entry has an alias";
      aliases.insert(alias);
      OPENSSL_free(alias);
      X509* cert = PKCS12_SAFEBAG_get1_cert(bag);
      if (cert && X509_cmp(cert, (*ca)->cert()) == 0) has_ca = true;
      X509_free(cert);
    }
    sk_PKCS12_SAFEBAG_pop_free(safe, PKCS12_SAFEBAG_free);
  }
  sk_PKCS7_pop_free(safes, PKCS7_free);
  PKCS12_free(p12);
  ASN1_OBJECT_free(trusted_usage);
  ASN1_OBJECT_free(any_eku);
  EXPECT_TRUE(has_ca);
  EXPECT_EQ(bags, pem_count(slurp((*ca)->bundle_path()))) << "the same certificates as the bundle";
  EXPECT_EQ(trusted, bags) << "each with Oracle's trusted-key-usage attribute";
  EXPECT_EQ(aliases.size(), bags) << "aliases are unique";
}

TEST_F(TlsCaTest, CertsDirHoldsEveryBundleCertUnderItsHash) {
  auto ca = CertAuthority::open(dir_);
  ASSERT_TRUE(ca) << ca.error().message;
  std::size_t files = 0;
  for (const auto& f : fs::directory_iterator((*ca)->certs_dir())) {
    files++;
    EXPECT_EQ(mode_of(f.path()), 0644u) << f.path();
  }
  EXPECT_EQ(files, pem_count(slurp((*ca)->bundle_path())));
  auto name = fmt::format("{:08x}.0", X509_subject_name_hash((*ca)->cert()));
  EXPECT_EQ(slurp((*ca)->certs_dir() / name), slurp((*ca)->cert_path())) << name;
}

TEST_F(TlsCaTest, AnOlderLayoutKeepsItsCaAndGetsTheTrustDir) {
  ASSERT_TRUE(CertAuthority::open(dir_));
  std::string crt = slurp(dir_ / "ca.crt");
  // As an older reel left it: the bundle in the CA directory, no trust directory.
  fs::copy_file(root_ / "ca-trust" / "bundle.pem", dir_ / "bundle.pem");
  fs::remove_all(root_ / "ca-trust");
  auto ca = CertAuthority::open(dir_);
  ASSERT_TRUE(ca) << ca.error().message;
  EXPECT_FALSE((*ca)->created()) << "the same CA goes on";
  EXPECT_EQ(slurp(dir_ / "ca.crt"), crt);
  EXPECT_FALSE(fs::exists(dir_ / "bundle.pem"));
  EXPECT_TRUE(slurp((*ca)->bundle_path()).ends_with(crt));
  EXPECT_TRUE(fs::exists((*ca)->trust_store_path()));
  EXPECT_EQ(mode_of(dir_), 0700u);
  EXPECT_EQ(mode_of(dir_ / "ca.key"), 0600u);
}

TEST_F(TlsCaTest, JavaToolOptionsAreAddedToTheUsers) {
  const fs::path store = "/var/lib/reel/ca-trust/truststore.p12";
  const std::string ours =
      "-Djavax.net.ssl.trustStore=/var/lib/reel/ca-trust/truststore.p12 "
      "-Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=reel-trust";
  EXPECT_EQ(java_tool_options("", store), ours);
  EXPECT_EQ(java_tool_options("-Xmx64m", store), "-Xmx64m " + ours);
  EXPECT_EQ(java_tool_options("-Djavax.net.ssl.trustStore=/mine.jks", store),
            "-Djavax.net.ssl.trustStore=/mine.jks")
      << "the app's own trust store is left alone";
  EXPECT_NE(java_tool_options("", "/a b/truststore.p12").find("trustStore=\"/a b/truststore.p12\""),
            std::string::npos)
      << "quoted: the JVM splits on spaces";

  auto ca = CertAuthority::open(dir_);
  ASSERT_TRUE(ca) << ca.error().message;
  ::setenv("JAVA_TOOL_OPTIONS", "-Xss1m", 1);
  auto env = trust_env(**ca);
  ::unsetenv("JAVA_TOOL_OPTIONS");
  std::string want = "JAVA_TOOL_OPTIONS=" + java_tool_options("-Xss1m", (*ca)->trust_store_path());
  EXPECT_NE(std::find(env.begin(), env.end(), want), env.end());
}

TEST_F(TlsCaTest, RefusalHintNamesTheRuntime) {
  EXPECT_EQ(runtime_of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java"), Runtime::kJvm);
  EXPECT_EQ(runtime_of("/usr/bin/python3.11"), Runtime::kPython);
  EXPECT_EQ(runtime_of("/usr/bin/node"), Runtime::kNode);
  EXPECT_EQ(runtime_of("/usr/bin/curl"), Runtime::kCurl);
  EXPECT_EQ(runtime_of(fs::read_symlink("/proc/self/exe").string()), Runtime::kUnknown);
  for (const char* go : {"/usr/lib/go/bin/go", "/usr/lib/go-1.19/bin/go"}) {
    if (fs::exists(go)) EXPECT_EQ(runtime_of(go), Runtime::kGo) << go;
  }

  auto ca = CertAuthority::open(dir_);
  ASSERT_TRUE(ca) << ca.error().message;
  EXPECT_NE(trust_advice(Runtime::kJvm, **ca).find((*ca)->trust_store_path().string()),
            std::string::npos);

  // This process at both ends of a loopback connection: the hint finds it from the accepted end.
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted);
  auto app = process_at_other_end(accepted.get());
  ASSERT_TRUE(app);
  EXPECT_EQ(app->pid, ::getpid());
  EXPECT_NE(refusal_hint(app, **ca).find(fmt::format("(pid {})", ::getpid())), std::string::npos);
  EXPECT_EQ(refusal_hint(std::nullopt, **ca), trust_advice(Runtime::kUnknown, **ca));
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
