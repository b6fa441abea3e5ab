// reel's certificate authority: one per machine, made on first need, used to sign short-lived
// leaf certificates for the names an app connects to, so reel can stand in for its TLS servers.
// The key never leaves the CA directory (0700, key 0600) and is never part of a recording.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "tls/openssl_util.h"

namespace reel::tls {

// /var/lib/reel/ca, or $REEL_CA_DIR when set.
std::filesystem::path default_ca_dir();

struct Leaf {
  X509Ptr cert;
  PkeyPtr key;
};

class CertAuthority {
 public:
  static constexpr const char* kCertFile = "ca.crt";
  static constexpr const char* kKeyFile = "ca.key";
  static constexpr const char* kBundleFile = "bundle.pem";

  // Loads the CA from `dir`, creating it (and saying so in the log) when there is none yet, and
  // (re)writes the trust bundle beside it: the system's CAs followed by this one.
  [[nodiscard]] static Result<std::unique_ptr<CertAuthority>> open(
      const std::filesystem::path& dir);

  // A certificate for `host` (a DNS name, or an IP address in text form: an IP SAN), signed by
  // this CA, valid from an hour ago for 7 days. Cached; thread-safe.
  [[nodiscard]] Result<std::shared_ptr<const Leaf>> leaf_for(const std::string& host);

  X509* cert() const { return cert_.get(); }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path cert_path() const { return dir_ / kCertFile; }
  std::filesystem::path bundle_path() const { return dir_ / kBundleFile; }
  // Whether open() made a new CA rather than loading one.
  bool created() const { return created_; }

 private:
  CertAuthority() = default;
  Result<void> load_or_create();
  Result<void> write_bundle() const;

  std::filesystem::path dir_;
  X509Ptr cert_;
  PkeyPtr key_;
  bool created_ = false;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Leaf>> leaves_;
};

// The environment that makes the usual TLS stacks (OpenSSL, Python requests, curl, Node) in a
// process reel starts trust reel's CA: "NAME=value" entries pointing at the bundle.
std::vector<std::string> trust_env(const CertAuthority& ca);

}  // namespace reel::tls
