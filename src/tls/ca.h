// reel's certificate authority: one per machine, made on first need, used to sign short-lived
// leaf certificates for the names an app connects to, so reel can stand in for its TLS servers.
// The key never leaves the CA directory (0700, key 0600) and is never part of a recording. What
// apps are told to trust lives beside it in a trust directory that every user can read (an app
// may run as another user, `--user`): "<CA dir>-trust", 0755, files 0644.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tls/openssl_util.h"

namespace reel::tls {

// /var/lib/reel/ca, or $REEL_CA_DIR when set.
std::filesystem::path default_ca_dir();
// The public sibling of a CA directory: /var/lib/reel/ca -> /var/lib/reel/ca-trust.
std::filesystem::path trust_dir_for(const std::filesystem::path& ca_dir);

struct Leaf {
  X509Ptr cert;
  PkeyPtr key;
};

class CertAuthority {
 public:
  static constexpr const char* kCertFile = "ca.crt";
  static constexpr const char* kKeyFile = "ca.key";
  static constexpr const char* kBundleFile = "bundle.pem";
  static constexpr const char* kTrustStoreFile = "truststore.p12";
  static constexpr const char* kCertsDir = "certs";

  // Loads the CA from `dir`, creating it (and saying so in the log) when there is none yet, and
  // (re)writes the trust files in trust_dir_for(dir), each with the system's CAs and this one:
  // bundle.pem, truststore.p12 (PKCS12 for the JVM), certs/ (hashed, for SSL_CERT_DIR) and a copy
  // of ca.crt. A bundle.pem left in `dir` by an older reel is removed.
  [[nodiscard]] static Result<std::unique_ptr<CertAuthority>> open(
      const std::filesystem::path& dir);

  // A certificate for `host` (a DNS name, or an IP address in text form: an IP SAN), signed by
  // this CA, valid from an hour ago for 7 days. Cached; thread-safe.
  [[nodiscard]] Result<std::shared_ptr<const Leaf>> leaf_for(const std::string& host);

  X509* cert() const { return cert_.get(); }
  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& trust_dir() const { return trust_dir_; }
  std::filesystem::path cert_path() const { return dir_ / kCertFile; }
  // What apps are given: readable by every user.
  std::filesystem::path public_cert_path() const { return trust_dir_ / kCertFile; }
  std::filesystem::path bundle_path() const { return trust_dir_ / kBundleFile; }
  std::filesystem::path trust_store_path() const { return trust_dir_ / kTrustStoreFile; }
  std::filesystem::path certs_dir() const { return trust_dir_ / kCertsDir; }
  // Whether open() made a new CA rather than loading one.
  bool created() const { return created_; }

 private:
  CertAuthority() = default;
  Result<void> make_dirs() const;
  Result<void> load_or_create();
  Result<void> write_trust_files() const;

  std::filesystem::path dir_;
  std::filesystem::path trust_dir_;
  X509Ptr cert_;
  PkeyPtr key_;
  bool created_ = false;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Leaf>> leaves_;
};

// The environment that makes the usual TLS stacks in a process reel starts trust reel's CA:
// "NAME=value" entries for OpenSSL (and Ruby, .NET, Go: SSL_CERT_FILE, SSL_CERT_DIR), Python
// requests, curl, Node, gRPC's C core and the JVM (JAVA_TOOL_OPTIONS, added to the one reel
// was given).
std::vector<std::string> trust_env(const CertAuthority& ca);

// `existing` JAVA_TOOL_OPTIONS with the -Djavax.net.ssl.trustStore* options for `store` appended;
// unchanged when it already names a trust store (the app's own choice wins; reel warns).
std::string java_tool_options(std::string_view existing, const std::filesystem::path& store);

}  // namespace reel::tls
