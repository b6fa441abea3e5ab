#include "tls/trust_store.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "core/unique_fd.h"

namespace reel::tls {
namespace {

namespace fs = std::filesystem;

// Java's alias for an entry: unique, and readable in `keytool -list`.
std::string alias_for(X509* cert, std::size_t index) {
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn - 1);
  return fmt::format("{:03} {}", index, *cn ? cn : "certificate");
}

}  // namespace

Result<std::vector<X509Ptr>> read_pem_certs(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  if (!bio) return fail_msg("out of memory reading certificates");
  std::vector<X509Ptr> out;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) out.emplace_back(cert);
  BIO_free(bio);
  ERR_clear_error();  // the read that ended the loop (no more PEM blocks)
  if (out.empty()) return fail_msg("no PEM certificate found");
  return out;
}

Result<std::string> pkcs12_trust_store(const std::vector<X509Ptr>& certs, const char* password) {
  ASN1_OBJECT* any_eku = OBJ_txt2obj(kAnyExtendedKeyUsage, 1);
  STACK_OF(PKCS12_SAFEBAG)* bags = sk_PKCS12_SAFEBAG_new_null();
  STACK_OF(PKCS7)* safes = nullptr;
  PKCS12* p12 = nullptr;
  std::string der;
  bool ok = any_eku && bags;
  for (std::size_t i = 0; ok && i < certs.size(); i++) {
    PKCS12_SAFEBAG* bag = PKCS12_SAFEBAG_create_cert(certs[i].get());
    ok = bag && sk_PKCS12_SAFEBAG_push(bags, bag) > 0;
    if (!ok) {
      PKCS12_SAFEBAG_free(bag);
      break;
    }
    // len -1 with V_ASN1_OBJECT: the value is the ASN1_OBJECT itself (copied), not its bytes.
    ok = PKCS12_add_friendlyname_utf8(bag, alias_for(certs[i].get(), i).c_str(), -1) == 1 &&
         PKCS12_add1_attr_by_txt(bag, kOracleTrustedKeyUsage, V_ASN1_OBJECT,
                                 reinterpret_cast<const unsigned char*>(any_eku), -1) == 1;
  }
  // Certificates are public: an unencrypted safe (nid -1) that every PKCS12 reader takes.
  ok = ok && PKCS12_add_safe(&safes, bags, -1, 0, nullptr) == 1;
  if (ok) p12 = PKCS12_add_safes(safes, 0);
  ok = ok && p12 &&
       PKCS12_set_mac(p12, password, -1, nullptr, 0, PKCS12_DEFAULT_ITER, EVP_sha256()) == 1;
  if (ok) {
    unsigned char* buf = nullptr;
    int len = i2d_PKCS12(p12, &buf);
    ok = len > 0;
    if (ok) der.assign(reinterpret_cast<char*>(buf), std::size_t(len));
    OPENSSL_free(buf);
  }
  std::string errors = ok ? "" : openssl_errors();
  PKCS12_free(p12);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  ASN1_OBJECT_free(any_eku);
  if (!ok) return fail_msg("cannot build the PKCS12 trust store: {}", errors);
  return der;
}

Result<void> write_hashed_dir(const fs::path& dir, const std::vector<X509Ptr>& certs) {
  std::map<std::string, std::string> files;  // name -> PEM
  std::map<unsigned long, int> seen;
  for (const auto& cert : certs) {
    unsigned long hash = X509_subject_name_hash(cert.get());
    BIO* bio = BIO_new(BIO_s_mem());
    if (!bio || PEM_write_bio_X509(bio, cert.get()) != 1) {
      BIO_free(bio);
      return fail_msg("cannot write a certificate as PEM: {}", openssl_errors());
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    files[fmt::format("{:08x}.{}", hash, seen[hash]++)] = std::string(data, std::size_t(len));
    BIO_free(bio);
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail_msg("cannot create {}: {}", dir.string(), ec.message());
  if (::chmod(dir.c_str(), 0755) != 0) return fail_errno("chmod 0755 " + dir.string());
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!files.contains(entry.path().filename().string())) fs::remove(entry.path(), ec);
  }
  for (const auto& [name, pem] : files) REEL_TRY(write_file_atomic(dir / name, pem, 0644));
  return {};
}

Result<void> write_file_atomic(const fs::path& path, const std::string& data, mode_t mode) {
  fs::path tmp = path;
  tmp += ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return fail_errno("cannot write " + tmp.string());
  ::fchmod(fd.get(), mode);  // the umask must not widen or narrow it
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0) return fail_errno("cannot write " + tmp.string());
    off += std::size_t(n);
  }
  if (::fsync(fd.get()) != 0) return fail_errno("cannot write " + tmp.string());
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail_errno("cannot write " + path.string());
  return {};
}

Result<std::string> read_whole_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail_errno("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace reel::tls
