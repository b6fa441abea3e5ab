// RAII owners for the OpenSSL objects reel keeps, and OpenSSL's error queue as a sentence.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace reel::tls {

struct SslDeleter {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
};
using X509Ptr = std::unique_ptr<X509, SslDeleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, SslDeleter>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslDeleter>;
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

// Drains this thread's OpenSSL error queue into one line ("" when it is empty).
std::string openssl_errors();

}  // namespace reel::tls
