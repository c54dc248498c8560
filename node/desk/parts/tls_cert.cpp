#include "node/desk/parts/tls_cert.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

namespace liandong::desk {
namespace {

namespace fs = std::filesystem;

template <auto F>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    F(p);
  }
};
using Bio = std::unique_ptr<BIO, Free<BIO_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Free<X509_free>>;
using Ext = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using Names = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;
using Name = std::unique_ptr<GENERAL_NAME, Free<GENERAL_NAME_free>>;
using Bignum = std::unique_ptr<BIGNUM, Free<BN_free>>;
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};

constexpr const char* kCertWhat = "证书文件";
constexpr const char* kKeyWhat = "私钥文件";
constexpr std::size_t kMaxPemBytes = 1 << 20;
constexpr int64_t kDaySeconds = 86400;
constexpr int kValidYears = 10;
constexpr std::size_t kMaxCommonName = 64;  // X.520 ub-common-name

// The reason OpenSSL gave for the last failure on this thread; clears the
// thread's error queue.
std::string ssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  std::string reason = "unknown OpenSSL error";
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    reason = buf;
  }
  ERR_clear_error();
  return reason;
}

Status ssl_failed(const char* step) {
  return Status::internal(std::string("证书生成失败: ") + step + " (" + ssl_reason() + ")");
}

Status io_failed(const char* what, const fs::path& path, int err) {
  std::string m =
      std::string(what) + "无法写入: " + path.string() + " (" + std::strerror(err) + ")";
  if (err == ENOSPC || err == EDQUOT) return Status::no_space(std::move(m));
  return Status::internal(std::move(m));
}

// Never asks for a password: an encrypted key is refused.
int no_password(char*, int, int, void*) {
  return 0;
}

Result<std::string> read_pem(const fs::path& path, const char* what) {
  const std::string prefix = std::string(what) + "无法读取: " + path.string() + " (";
  std::unique_ptr<FILE, FileClose> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    const int err = errno;
    std::string m = prefix + std::strerror(err) + ")";
    return err == ENOENT ? Status::not_found(std::move(m)) : Status::invalid(std::move(m));
  }
  std::string data(kMaxPemBytes + 1, '\0');
  const std::size_t n = std::fread(data.data(), 1, data.size(), f.get());
  if (std::ferror(f.get())) return Status::invalid(prefix + std::strerror(errno) + ")");
  if (n > kMaxPemBytes) return Status::invalid(prefix + "larger than 1 MiB)");
  data.resize(n);
  return data;
}

Result<Cert> load_cert(const fs::path& path) {
  auto pem = read_pem(path, kCertWhat);
  if (!pem.ok()) return pem.status();
  ERR_clear_error();
  Bio bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  Cert cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr) : nullptr);
  if (!cert) {
    return Status::invalid("证书文件不是 PEM 证书: " + path.string() + " (" + ssl_reason() + ")");
  }
  return cert;
}

Result<Pkey> load_key(const fs::path& path) {
  auto pem = read_pem(path, kKeyWhat);
  if (!pem.ok()) return pem.status();
  ERR_clear_error();
  Bio bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr) : nullptr);
  if (!key) {
    return Status::invalid("私钥文件不是未加密的 PEM 私钥: " + path.string() + " (" + ssl_reason() +
                           ")");
  }
  return key;
}

// A host name: dot-separated labels of letters, digits and hyphens, each 1 to
// 63 long and not beginning or ending with a hyphen; at most 253 in all.
bool valid_host_name(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = s[i];
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
    ++label;
  }
  return true;
}

// subjectAltName entries: an IP entry for each address, a DNS entry for each
// host name.
Result<Names> alt_names(const std::vector<std::string>& entries) {
  if (entries.empty()) return Status::invalid("证书至少要有一个主机名或 IP 地址");
  Names names(sk_GENERAL_NAME_new_null());
  if (!names) return ssl_failed("subjectAltName");
  for (const std::string& entry : entries) {
    Name name(GENERAL_NAME_new());
    if (!name) return ssl_failed("subjectAltName");
    if (ASN1_OCTET_STRING* ip = a2i_IPADDRESS(entry.c_str())) {
      GENERAL_NAME_set0_value(name.get(), GEN_IPADD, ip);
    } else if (valid_host_name(entry)) {
      ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
      if (!dns || ASN1_STRING_set(dns, entry.data(), static_cast<int>(entry.size())) != 1) {
        ASN1_IA5STRING_free(dns);
        return ssl_failed("subjectAltName");
      }
      GENERAL_NAME_set0_value(name.get(), GEN_DNS, dns);
    } else {
      ERR_clear_error();
      return Status::invalid("不是主机名或 IP 地址: " + entry);
    }
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) return ssl_failed("subjectAltName");
    name.release();  // owned by names
  }
  return names;
}

Status add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return ssl_failed(OBJ_nid2sn(nid));
  return Status::ok();
}

Status set_random_serial(X509* cert) {
  unsigned char bytes[20];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return ssl_failed("serial");
  bytes[0] &= 0x7F;  // positive, at most 20 octets (RFC 5280)
  bytes[0] |= 0x40;  // never zero, always 159 bits
  Bignum bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) {
    return ssl_failed("serial");
  }
  return Status::ok();
}

Result<Cert> build_cert(EVP_PKEY* key, const std::string& common_name, const Names& names,
                        uint64_t now_ms) {
  Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return ssl_failed("X509_new");
  if (Status s = set_random_serial(cert.get()); !s) return s;
  const time_t not_before = static_cast<time_t>(now_ms / 1000) - kDaySeconds;
  struct tm end {};
  if (::gmtime_r(&not_before, &end) == nullptr) return Status::invalid("证书时间无效");
  end.tm_year += kValidYears;  // 29 February becomes 1 March
  const time_t not_after = ::timegm(&end);
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), not_after)) {
    return ssl_failed("validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("Liandong"), -1, -1,
                                 0) != 1) {
    return ssl_failed("subject");
  }
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return Status::invalid("证书名称无效: " + common_name + " (" + ssl_reason() + ")");
  }
  if (X509_set_issuer_name(cert.get(), subject) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return ssl_failed("issuer");
  }
  if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) !=
      1) {
    return ssl_failed("subjectAltName");
  }
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature"},
                            std::pair{NID_ext_key_usage, "serverAuth"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (Status s = add_ext(cert.get(), nid, value); !s) return s;
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return ssl_failed("X509_sign");
  return cert;
}

Result<std::string> bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  if (n <= 0 || data == nullptr) return ssl_failed("PEM");
  return std::string(data, static_cast<std::size_t>(n));
}

Result<std::string> cert_pem_text(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return ssl_failed("PEM");
  return bio_text(bio.get());
}

Result<std::string> key_pem_text(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return ssl_failed("PEM");
  }
  return bio_text(bio.get());
}

// Writes `data` to a new temporary file beside `path` with `mode`, synced;
// returns its name. On failure nothing is left.
Result<std::string> stage(const fs::path& path, const std::string& data, mode_t mode,
                          const char* what) {
  std::string tmp = path.string() + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return io_failed(what, path, errno);
  int err = ::fchmod(fd, mode) == 0 ? 0 : errno;
  for (std::size_t done = 0; err == 0 && done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) err = n < 0 ? errno : EIO;
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return io_failed(what, path, err);
  }
  return tmp;
}

// Gives the staged file its name unless the name is taken (link(2) never
// replaces), then drops the temporary name.
Status publish(const std::string& tmp, const fs::path& path, const char* what) {
  const int err = ::link(tmp.c_str(), path.c_str()) == 0 ? 0 : errno;
  ::unlink(tmp.c_str());
  if (err == EEXIST) return Status::invalid(std::string(what) + "已存在，不覆盖: " + path.string());
  if (err != 0) return io_failed(what, path, err);
  return Status::ok();
}

void sync_dir(const fs::path& file) {
  fs::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

bool taken(const fs::path& path) {
  std::error_code ec;
  return fs::symlink_status(path, ec).type() != fs::file_type::not_found;
}

std::string date_text(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

Status make_self_signed(const fs::path& cert_pem, const fs::path& key_pem,
                        const std::string& common_name,
                        const std::vector<std::string>& dns_names_or_ips, uint64_t now_ms) {
  if (common_name.empty() || common_name.size() > kMaxCommonName) {
    return Status::invalid("证书名称须为 1 到 64 字节: " + common_name);
  }
  for (const auto& [path, what] :
       {std::pair{&cert_pem, kCertWhat}, std::pair{&key_pem, kKeyWhat}}) {
    if (taken(*path))
      return Status::invalid(std::string(what) + "已存在，不覆盖: " + path->string());
  }
  ERR_clear_error();
  auto names = alt_names(dns_names_or_ips);
  if (!names.ok()) return names.status();
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return ssl_failed("P-256 key");
  auto cert = build_cert(key.get(), common_name, *names, now_ms);
  if (!cert.ok()) return cert.status();
  auto cert_text = cert_pem_text(cert->get());
  if (!cert_text.ok()) return cert_text.status();
  auto key_text = key_pem_text(key.get());
  if (!key_text.ok()) return key_text.status();

  auto key_tmp = stage(key_pem, *key_text, 0600, kKeyWhat);
  if (!key_tmp.ok()) return key_tmp.status();
  auto cert_tmp = stage(cert_pem, *cert_text, 0644, kCertWhat);
  if (!cert_tmp.ok()) {
    ::unlink(key_tmp->c_str());
    return cert_tmp.status();
  }
  if (Status s = publish(*key_tmp, key_pem, kKeyWhat); !s) {
    ::unlink(cert_tmp->c_str());
    return s;
  }
  if (Status s = publish(*cert_tmp, cert_pem, kCertWhat); !s) {
    ::unlink(key_pem.c_str());  // ours: published just above
    return s;
  }
  sync_dir(key_pem);
  sync_dir(cert_pem);
  return Status::ok();
}

Result<std::string> cert_fingerprint(const fs::path& cert_pem) {
  auto cert = load_cert(cert_pem);
  if (!cert.ok()) return cert.status();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert->get(), EVP_sha256(), md, &n) != 1) {
    return Status::internal("证书指纹计算失败: " + cert_pem.string() + " (" + ssl_reason() + ")");
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    if (i > 0) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0x0F];
  }
  return out;
}

Status check_cert_pair(const fs::path& cert_pem, const fs::path& key_pem, uint64_t now_ms) {
  auto cert = load_cert(cert_pem);
  if (!cert.ok()) return cert.status();
  auto key = load_key(key_pem);
  if (!key.ok()) return key.status();
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return Status::invalid("私钥与证书不匹配: " + key_pem.string() + " 不是 " + cert_pem.string() +
                           " 的私钥");
  }
  time_t now = static_cast<time_t>(now_ms / 1000);
  const ASN1_TIME* not_before = X509_get0_notBefore(cert->get());
  const ASN1_TIME* not_after = X509_get0_notAfter(cert->get());
  // X509_cmp_time: -1 when the time is at or before now, 1 after, 0 unreadable.
  const int started = X509_cmp_time(not_before, &now);
  const int ends = X509_cmp_time(not_after, &now);
  ERR_clear_error();
  if (started == 0 || ends == 0) {
    return Status::invalid("证书有效期无法解析: " + cert_pem.string());
  }
  if (started > 0) {
    return Status::invalid("证书尚未生效: " + cert_pem.string() + " (生效时间 " +
                           date_text(not_before) + ")");
  }
  if (ends < 0) {
    return Status::invalid("证书已过期: " + cert_pem.string() + " (有效期至 " +
                           date_text(not_after) + ")");
  }
  return Status::ok();
}

}  // namespace liandong::desk
