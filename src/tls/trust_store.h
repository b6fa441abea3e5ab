// The public files that make an app trust reel's CA, in the forms the common runtimes read: a
// PEM bundle (OpenSSL, Python, curl, Node, Ruby, Go), a directory of certificates named by subject
// hash (SSL_CERT_DIR: OpenSSL's CApath, Go, .NET) and a PKCS12 trust store (the JVM). Each holds
// the same certificates, the system's CAs and reel's, so hosts reel passes through still verify.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tls/openssl_util.h"

namespace reel::tls {

// Not a secret: the store holds public certificates only, but Java wants a password to check its
// integrity MAC with.
inline constexpr const char* kTrustStorePassword = "reel-trust";
// Oracle's "trusted key usage" bag attribute: Java's KeyStore takes a PKCS12 certificate bag as a
// trusted anchor only when it carries this (OpenSSL 3.2's `pkcs12 -jdktrust` writes the same).
inline constexpr const char* kOracleTrustedKeyUsage = "2.16.840.1.113894.746875.1.1";
inline constexpr const char* kAnyExtendedKeyUsage = "2.5.29.37.0";

// Every certificate of a PEM bundle, in order.
[[nodiscard]] Result<std::vector<X509Ptr>> read_pem_certs(std::string_view pem);

// A PKCS12 file (DER) with one unencrypted certificate bag per certificate, each with a
// friendlyName (Java's alias) and the trusted-key-usage attribute (anyExtendedKeyUsage), and a
// SHA-256 MAC under `password`.
[[nodiscard]] Result<std::string> pkcs12_trust_store(const std::vector<X509Ptr>& certs,
                                                     const char* password);

// Makes `dir` hold exactly one PEM file per certificate, named "<subject hash>.<n>" as
// c_rehash names them.
[[nodiscard]] Result<void> write_hashed_dir(const std::filesystem::path& dir,
                                            const std::vector<X509Ptr>& certs);

// Writes through a temporary file and rename, with exactly `mode` whatever the umask.
[[nodiscard]] Result<void> write_file_atomic(const std::filesystem::path& path,
                                             const std::string& data, mode_t mode);
[[nodiscard]] Result<std::string> read_whole_file(const std::filesystem::path& path);

}  // namespace reel::tls
