#include "tls/ca.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "core/unique_fd.h"
#include "tls/trust_store.h"

namespace reel::tls {
namespace {

namespace fs = std::filesystem;

constexpr long kHour = 3600;
constexpr long kLeafValidity = 7 * 24 * kHour;
constexpr long kCaValidity = 10L * 365 * 24 * kHour;
// Where Debian-family systems keep the bundle of trusted CAs; other layouts fall back to
// OpenSSL's compiled-in default.
constexpr const char* kSystemBundle = "/etc/ssl/certs/ca-certificates.crt";

Result<PkeyPtr> new_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return fail_msg("cannot generate an ECDSA P-256 key: {}", openssl_errors());
  return key;
}

bool set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
  bytes[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  return ok;
}

bool add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool set_name(X509_NAME* name, const std::string& cn) {
  auto add = [&](const char* field, const std::string& v) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1,
                                      0) == 1;
  };
  return add("O", "reel") && add("CN", cn.substr(0, 64));
}

// A certificate with everything but the extensions: serial, names, validity, public key.
Result<X509Ptr> new_cert(const std::string& cn, X509* issuer, EVP_PKEY* pub, long not_after_s) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1 || !set_random_serial(cert.get()) ||
      !set_name(X509_get_subject_name(cert.get()), cn) ||
      !X509_set_issuer_name(
          cert.get(), issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(cert.get())) ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kHour) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after_s) ||
      X509_set_pubkey(cert.get(), pub) != 1) {
    return fail_msg("cannot build a certificate for {}: {}", cn, openssl_errors());
  }
  return cert;
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string host_name() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

template <typename F>
std::string pem_of(F write) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, std::size_t(len));
  BIO_free(bio);
  return out;
}

template <typename T, typename F>
Result<T> from_pem(const fs::path& path, F read) {
  std::string pem = REEL_TRY(read_whole_file(path));
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  T obj(read(bio));
  BIO_free(bio);
  if (!obj)
    return fail_msg("{} is not a PEM file OpenSSL can read: {}", path.string(), openssl_errors());
  return obj;
}

// An app run as another user (--user) reads the trust files through every directory above them.
void warn_if_not_searchable(const fs::path& trust_dir) {
  for (fs::path p = trust_dir.parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
      spdlog::warn(
          "{} is not searchable by other users: an app run with --user cannot read reel's trust "
          "files in {} (chmod o+x {})",
          p.string(), trust_dir.string(), p.string());
      return;
    }
    if (p == p.root_path()) return;
  }
}

}  // namespace

fs::path default_ca_dir() {
  if (const char* env = std::getenv("REEL_CA_DIR"); env && *env) return env;
  return "/var/lib/reel/ca";
}

fs::path trust_dir_for(const fs::path& ca_dir) {
  fs::path dir = ca_dir.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "ca/" -> "ca"
  return dir.parent_path() / (dir.filename().string() + "-trust");
}

Result<std::unique_ptr<CertAuthority>> CertAuthority::open(const fs::path& dir) {
  std::unique_ptr<CertAuthority> ca(new CertAuthority());
  ca->dir_ = dir;
  ca->trust_dir_ = trust_dir_for(dir);
  REEL_TRY(ca->make_dirs());
  // Two reels starting at once must not make two CAs, nor write the trust files together.
  UniqueFd lock(::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock || ::flock(lock.get(), LOCK_EX) != 0) return fail_errno("cannot lock " + dir.string());
  REEL_TRY(ca->load_or_create());
  REEL_TRY(ca->write_trust_files());
  return ca;
}

Result<void> CertAuthority::make_dirs() const {
  for (const auto& [path, mode] : {std::pair{dir_, 0700}, std::pair{trust_dir_, 0755}}) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) return fail_msg("cannot create the CA directory {}: {}", path.string(), ec.message());
    if (::chmod(path.c_str(), mode_t(mode)) != 0)
      return fail_errno(fmt::format("chmod {:o} {}", mode, path.string()));
  }
  warn_if_not_searchable(trust_dir_);
  return {};
}

Result<void> CertAuthority::load_or_create() {
  fs::path crt = dir_ / kCertFile, key = dir_ / kKeyFile;
  if (fs::exists(crt) && fs::exists(key)) {
    cert_ = REEL_TRY((from_pem<X509Ptr>(
        crt, [](BIO* b) { return PEM_read_bio_X509(b, nullptr, nullptr, nullptr); })));
    key_ = REEL_TRY((from_pem<PkeyPtr>(
        key, [](BIO* b) { return PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr); })));
    if (X509_check_private_key(cert_.get(), key_.get()) != 1)
      return fail_msg("{} does not match {}: remove both to make a new CA", key.string(),
                      crt.string());
    return {};
  }

  key_ = REEL_TRY(new_key());
  cert_ =
      REEL_TRY(new_cert("reel local CA (" + host_name() + ")", nullptr, key_.get(), kCaValidity));
  X509* c = cert_.get();
  if (!add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(c, c, NID_subject_key_identifier, "hash") ||
      X509_sign(c, key_.get(), EVP_sha256()) <= 0) {
    return fail_msg("cannot make the reel CA certificate: {}", openssl_errors());
  }
  std::string key_pem = pem_of([&](BIO* b) {
    PEM_write_bio_PrivateKey(b, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  std::string crt_pem = pem_of([&](BIO* b) { PEM_write_bio_X509(b, c); });
  REEL_TRY(write_file_atomic(key, key_pem, 0600));
  REEL_TRY(write_file_atomic(crt, crt_pem, 0644));
  created_ = true;
  spdlog::info(
      "created reel's local CA in {} (it signs the certificates reel shows the app for "
      "TLS dependencies; `reel ca install` trusts it system-wide)",
      dir_.string());
  return {};
}

Result<void> CertAuthority::write_trust_files() const {
  std::string bundle;
  fs::path system = kSystemBundle;
  if (!fs::exists(system)) system = X509_get_default_cert_file();
  if (auto sys = read_whole_file(system)) {
    bundle = std::move(*sys);
    if (!bundle.empty() && bundle.back() != '\n') bundle += '\n';
  } else {
    spdlog::warn("no system CA bundle at {}: the app will trust only reel's CA", system.string());
  }
  std::string crt_pem = pem_of([&](BIO* b) { PEM_write_bio_X509(b, cert_.get()); });
  bundle += crt_pem;
  // bundle.pem is written last, so an unchanged one means the rest is there too.
  auto old = read_whole_file(bundle_path());
  bool current = old && *old == bundle && fs::exists(trust_store_path()) && fs::exists(certs_dir());
  if (!current) {
    auto certs = REEL_TRY(with_context(read_pem_certs(bundle), "reel's trust bundle"));
    REEL_TRY(write_hashed_dir(certs_dir(), certs));
    std::string store = REEL_TRY(pkcs12_trust_store(certs, kTrustStorePassword));
    REEL_TRY(write_file_atomic(trust_store_path(), store, 0644));
    REEL_TRY(write_file_atomic(public_cert_path(), crt_pem, 0644));
    REEL_TRY(write_file_atomic(bundle_path(), bundle, 0644));
  }
  // Older reels kept the bundle in the CA directory itself (0700: unreadable to --user apps).
  std::error_code ec;
  if (fs::remove(dir_ / kBundleFile, ec))
    spdlog::info("reel's trust files moved to {} (readable by every user); the CA key stays in {}",
                 trust_dir_.string(), dir_.string());
  return {};
}

Result<std::shared_ptr<const Leaf>> CertAuthority::leaf_for(const std::string& host) {
  std::lock_guard lock(mu_);
  if (auto it = leaves_.find(host); it != leaves_.end()) {
    // Reissued a day before it would run out, for a reel that stays up for long.
    if (X509_cmp_time(X509_get0_notAfter(it->second->cert.get()), nullptr) > 0) {
      time_t soon = std::time(nullptr) + 24 * kHour;
      if (X509_cmp_time(X509_get0_notAfter(it->second->cert.get()), &soon) > 0) return it->second;
    }
  }
  auto leaf = std::make_shared<Leaf>();
  leaf->key = REEL_TRY(new_key());
  leaf->cert = REEL_TRY(new_cert(host, cert_.get(), leaf->key.get(), kLeafValidity));
  bool is_ip = is_ip_literal(host);
  X509* c = leaf->cert.get();
  if (!add_ext(c, cert_.get(), NID_subject_alt_name, (is_ip ? "IP:" : "DNS:") + host) ||
      !add_ext(c, cert_.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(c, cert_.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_ext(c, cert_.get(), NID_ext_key_usage, "serverAuth") ||
      !add_ext(c, cert_.get(), NID_authority_key_identifier, "keyid:always") ||
      X509_sign(c, key_.get(), EVP_sha256()) <= 0) {
    return fail_msg("cannot sign a certificate for {}: {}", host, openssl_errors());
  }
  std::shared_ptr<const Leaf> out = std::move(leaf);
  leaves_[host] = out;
  return out;
}

std::string java_tool_options(std::string_view existing, const fs::path& store) {
  std::string out(existing);
  if (out.find("javax.net.ssl.trustStore=") != std::string::npos) {
    spdlog::warn(
        "JAVA_TOOL_OPTIONS already names a trust store: reel leaves it, so a JVM will refuse "
        "reel's certificate unless that store trusts {} (keytool -importcert)",
        (store.parent_path() / CertAuthority::kCertFile).string());
    return out;
  }
  std::string path = store.string();
  // The JVM splits JAVA_TOOL_OPTIONS on white space unless it is quoted.
  if (path.find_first_of(" \t") != std::string::npos) path = "\"" + path + "\"";
  if (!out.empty()) out += ' ';
  out += "-Djavax.net.ssl.trustStore=" + path +
         " -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=" +
         kTrustStorePassword;
  return out;
}

std::vector<std::string> trust_env(const CertAuthority& ca) {
  std::string bundle = ca.bundle_path().string();
  const char* java = std::getenv("JAVA_TOOL_OPTIONS");
  return {"SSL_CERT_FILE=" + bundle,
          "SSL_CERT_DIR=" + ca.certs_dir().string(),
          "REQUESTS_CA_BUNDLE=" + bundle,
          "CURL_CA_BUNDLE=" + bundle,
          "NODE_EXTRA_CA_CERTS=" + bundle,
          // gRPC's C core (Python, Ruby, C++, PHP grpc) for channels given no root certificates.
          "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=" + bundle,
          "JAVA_TOOL_OPTIONS=" + java_tool_options(java ? java : "", ca.trust_store_path())};
}

}  // namespace reel::tls
