#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <string>

#include "tls/client_hello.h"

namespace reel::tls {
namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// A real ClientHello, as OpenSSL writes it, for `sni` and ALPN "h2,http/1.1".
std::string openssl_hello(const char* sni) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rd = BIO_new(BIO_s_mem());
  BIO* wr = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rd, wr);
  if (sni) SSL_set_tlsext_host_name(ssl, sni);
  static const unsigned char alpn[] = "\x02h2\x08http/1.1";
  SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1);
  SSL_connect(ssl);  // wants to read: the hello is in `wr`
  char* data = nullptr;
  long len = BIO_get_mem_data(wr, &data);
  std::string out(data, std::size_t(len));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

TEST(TlsClientHello, ParsesSniAndAlpnFromOpenSsl) {
  std::string hello = openssl_hello("api.rates.test");
  ASSERT_GT(hello.size(), 50u);
  EXPECT_TRUE(looks_like_client_hello(bytes(hello)));
  ClientHello h = parse_client_hello(bytes(hello));
  ASSERT_EQ(h.status, ClientHello::Status::kParsed);
  EXPECT_EQ(h.sni, "api.rates.test");
  EXPECT_EQ(h.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(TlsClientHello, NoSni) {
  ClientHello h = parse_client_hello(bytes(openssl_hello(nullptr)));
  ASSERT_EQ(h.status, ClientHello::Status::kParsed);
  EXPECT_EQ(h.sni, "");
}

TEST(TlsClientHello, EveryPrefixNeedsMoreNeverInvalid) {
  std::string hello = openssl_hello("api.rates.test");
  for (std::size_t n = 1; n < hello.size(); n++) {
    auto h = parse_client_hello(bytes(hello.substr(0, n)));
    ASSERT_EQ(h.status, ClientHello::Status::kNeedsMore) << n;
  }
}

TEST(TlsClientHello, OtherProtocolsAreNotTls) {
  for (std::string s : {std::string("GET / HTTP/1.1\r\n"), std::string("*1\r\n$4\r\nPING\r\n"),
                        std::string("\0\0\0\x08", 4), std::string("\x16\x01\x00", 3),
                        std::string("\x16\x03\x01\x00\x10\x02", 6)}) {
    EXPECT_FALSE(looks_like_client_hello(bytes(s))) << s;
  }
  EXPECT_TRUE(looks_like_client_hello(bytes("\x16")));
}

TEST(TlsClientHello, CorruptLengthsAreInvalid) {
  std::string hello = openssl_hello("api.rates.test");
  hello[6] = char(0x7f);  // handshake body length runs past the record
  EXPECT_EQ(parse_client_hello(bytes(hello)).status, ClientHello::Status::kInvalid);
}

TEST(TlsClientHello, NamesThatCannotBeACertificateNameAreDropped) {
  ClientHello h = parse_client_hello(bytes(openssl_hello("bad,name=x")));
  ASSERT_EQ(h.status, ClientHello::Status::kParsed);
  EXPECT_EQ(h.sni, "");
}

}  // namespace
}  // namespace reel::tls
