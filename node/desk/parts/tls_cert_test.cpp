#include "node/desk/parts/tls_cert.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

using liandong::Code;
using liandong::desk::cert_fingerprint;
using liandong::desk::check_cert_pair;
using liandong::desk::make_self_signed;
using liandong::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kNowMs = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr uint64_t kDayMs = 86400000;
const std::vector<std::string> kNames = {"desk.example", "localhost", "192.168.1.10", "::1"};

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    out.insert(e.path().filename().string());
  return out;
}

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<X509, X509Free> read_cert(const fs::path& p) {
  FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr) return nullptr;
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return std::unique_ptr<X509, X509Free>(x);
}

std::unique_ptr<EVP_PKEY, PkeyFree> read_key(const fs::path& p) {
  FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr) return nullptr;
  EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return std::unique_ptr<EVP_PKEY, PkeyFree>(k);
}

std::string name_entry(X509_NAME* name, int nid) {
  char buf[256] = {};
  if (X509_NAME_get_text_by_NID(name, nid, buf, sizeof buf) < 0) return "";
  return buf;
}

// Standard output of a shell command, or nullopt when it did not exit 0.
std::optional<std::string> shell(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  if (::pclose(p) != 0) return std::nullopt;
  return out;
}

bool have_openssl_cli() {
  return shell("openssl version 2>/dev/null").has_value();
}

}  // namespace

TEST_CASE("tls cert: a new pair is written, private key 0600, and passes its own check", "[desk]") {
  TempDir dir;
  const fs::path cert = dir.path() / "cert.pem", key = dir.path() / "key.pem";
  const mode_t old_mask = ::umask(0);  // the key's mode must not depend on the umask
  const auto made = make_self_signed(cert, key, "水城村代理点", kNames, kNowMs);
  ::umask(old_mask);
  REQUIRE(made.to_string() == "ok");

  CHECK(entries(dir.path()) == std::set<std::string>{"cert.pem", "key.pem"});
  CHECK((fs::status(key).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK((fs::status(cert).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
         fs::perms::others_read));
  CHECK(file_text(cert).starts_with("-----BEGIN CERTIFICATE-----\n"));
  CHECK(file_text(key).starts_with("-----BEGIN PRIVATE KEY-----\n"));
  CHECK(check_cert_pair(cert, key, kNowMs).is_ok());
}

TEST_CASE("tls cert: the certificate says what the desk needs", "[desk]") {
  TempDir dir;
  const fs::path cert = dir.path() / "cert.pem", key = dir.path() / "key.pem";
  REQUIRE(make_self_signed(cert, key, "水城村代理点", kNames, kNowMs).is_ok());
  auto x = read_cert(cert);
  auto k = read_key(key);
  REQUIRE(x);
  REQUIRE(k);

  CHECK(X509_get_version(x.get()) == X509_VERSION_3);
  CHECK(name_entry(X509_get_subject_name(x.get()), NID_commonName) == "水城村代理点");
  CHECK(name_entry(X509_get_subject_name(x.get()), NID_organizationName) == "Liandong");
  CHECK(X509_NAME_cmp(X509_get_subject_name(x.get()), X509_get_issuer_name(x.get())) == 0);
  CHECK(X509_verify(x.get(), k.get()) == 1);
  CHECK(X509_get_signature_nid(x.get()) == NID_ecdsa_with_SHA256);

  char group[64] = {};
  REQUIRE(EVP_PKEY_get_group_name(k.get(), group, sizeof group, nullptr) == 1);
  CHECK(std::string(group) == "prime256v1");

  const time_t now = static_cast<time_t>(kNowMs / 1000);
  CHECK(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x.get()), now - 86400) == 0);
  // Ten calendar years after 2026-02-28: 2036-02-28, 3,652 days with two leap days.
  CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x.get()), now - 86400 + 3652LL * 86400) == 0);

  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x.get()), nullptr);
  REQUIRE(serial != nullptr);
  CHECK(BN_num_bits(serial) == 159);
  CHECK_FALSE(BN_is_negative(serial));
  BN_free(serial);

  // X509_get_extension_flags() also reads and caches the extensions.
  const uint32_t flags = X509_get_extension_flags(x.get());
  CHECK((flags & EXFLAG_CA) == 0);
  CHECK((flags & EXFLAG_BCONS) != 0);
  CHECK(X509_get_key_usage(x.get()) == KU_DIGITAL_SIGNATURE);
  CHECK(X509_get_extended_key_usage(x.get()) == XKU_SSL_SERVER);
  CHECK(X509_check_host(x.get(), "desk.example", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(x.get(), "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(x.get(), "other.example", 0, 0, nullptr) == 0);
  CHECK(X509_check_ip_asc(x.get(), "192.168.1.10", 0) == 1);
  CHECK(X509_check_ip_asc(x.get(), "::1", 0) == 1);
  CHECK(X509_check_ip_asc(x.get(), "192.168.1.11", 0) == 0);
  CHECK(X509_check_purpose(x.get(), X509_PURPOSE_SSL_SERVER, 0) == 1);
}

TEST_CASE("tls cert: every certificate has its own key, serial and fingerprint", "[desk]") {
  TempDir dir;
  const fs::path c1 = dir.path() / "c1.pem", k1 = dir.path() / "k1.pem";
  const fs::path c2 = dir.path() / "c2.pem", k2 = dir.path() / "k2.pem";
  REQUIRE(make_self_signed(c1, k1, "desk", kNames, kNowMs).is_ok());
  REQUIRE(make_self_signed(c2, k2, "desk", kNames, kNowMs).is_ok());
  auto x1 = read_cert(c1), x2 = read_cert(c2);
  REQUIRE(x1);
  REQUIRE(x2);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(x1.get()), X509_get0_serialNumber(x2.get())) != 0);
  CHECK(file_text(k1) != file_text(k2));
  auto f1 = cert_fingerprint(c1), f2 = cert_fingerprint(c2);
  REQUIRE(f1.ok());
  REQUIRE(f2.ok());
  CHECK(*f1 != *f2);

  SECTION("a key does not match another certificate") {
    const auto s = check_cert_pair(c1, k2, kNowMs);
    CHECK(s.code() == Code::invalid);
    CHECK(s.message() == "私钥与证书不匹配: " + k2.string() + " 不是 " + c1.string() + " 的私钥");
  }
}

TEST_CASE("tls cert: the fingerprint is the SHA-256 the openssl tool shows", "[desk]") {
  TempDir dir;
  const fs::path cert = dir.path() / "cert.pem", key = dir.path() / "key.pem";
  REQUIRE(make_self_signed(cert, key, "desk", kNames, kNowMs).is_ok());
  auto fp = cert_fingerprint(cert);
  REQUIRE(fp.ok());
  CHECK(std::regex_match(*fp, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}")));

  if (!have_openssl_cli()) {
    WARN("openssl command not installed: fingerprint not compared with it");
    return;
  }
  auto out = shell("openssl x509 -in '" + cert.string() + "' -noout -fingerprint -sha256");
  REQUIRE(out.has_value());
  CAPTURE(*out);
  const auto eq = out->find('=');
  REQUIRE(eq != std::string::npos);
  CHECK(out->substr(eq + 1) == *fp + "\n");

  auto text = shell("openssl x509 -in '" + cert.string() + "' -noout -text");
  REQUIRE(text.has_value());
  CAPTURE(*text);
  for (const char* want :
       {"Version: 3 (0x2)", "Subject: O = Liandong, CN = desk", "ASN1 OID: prime256v1", "CA:FALSE",
        "Digital Signature", "TLS Web Server Authentication", "DNS:desk.example",
        "IP Address:192.168.1.10", "IP Address:0:0:0:0:0:0:0:1",
        "Not Before: Feb 28 00:00:00 2026 GMT", "Not After : Feb 28 00:00:00 2036 GMT"}) {
    CHECK(text->find(want) != std::string::npos);
  }
}

TEST_CASE("tls cert: existing files are never overwritten", "[desk]") {
  TempDir dir;
  const fs::path cert = dir.path() / "cert.pem", key = dir.path() / "key.pem";
  REQUIRE(make_self_signed(cert, key, "desk", kNames, kNowMs).is_ok());
  const std::string cert_before = file_text(cert), key_before = file_text(key);

  SECTION("both exist") {
    const auto s = make_self_signed(cert, key, "desk", kNames, kNowMs);
    CHECK(s.code() == Code::invalid);
    CHECK(s.message() == "证书文件已存在，不覆盖: " + cert.string());
    CHECK(entries(dir.path()) == std::set<std::string>{"cert.pem", "key.pem"});
  }
  SECTION("only the key exists") {
    const fs::path other = dir.path() / "other.pem";
    const auto s = make_self_signed(other, key, "desk", kNames, kNowMs);
    CHECK(s.code() == Code::invalid);
    CHECK(s.message() == "私钥文件已存在，不覆盖: " + key.string());
    CHECK_FALSE(fs::exists(other));
  }
  SECTION("only the certificate exists") {
    const fs::path other = dir.path() / "other.pem";
    const auto s = make_self_signed(cert, other, "desk", kNames, kNowMs);
    CHECK(s.code() == Code::invalid);
    CHECK_FALSE(fs::exists(other));
  }
  SECTION("a dangling symbolic link counts as existing") {
    const fs::path link = dir.path() / "link.pem";
    fs::create_symlink(dir.path() / "nowhere", link);
    const auto s = make_self_signed(dir.path() / "c.pem", link, "desk", kNames, kNowMs);
    CHECK(s.code() == Code::invalid);
    CHECK_FALSE(fs::exists(dir.path() / "nowhere"));
    CHECK_FALSE(fs::exists(dir.path() / "c.pem"));
  }
  CHECK(file_text(cert) == cert_before);
  CHECK(file_text(key) == key_before);
}

TEST_CASE("tls cert: bad names are refused and nothing is written", "[desk]") {
  TempDir dir;
  const fs::path cert = dir.path() / "cert.pem", key = dir.path() / "key.pem";
  struct Bad {
    std::string common_name;
    std::vector<std::string> names;
  };
  for (const Bad& bad : {Bad{"", kNames}, Bad{std::string(65, 'a'), kNames}, Bad{"desk", {}},
                         Bad{"desk", {"bad name"}}, Bad{"desk", {"localhost", "-desk.example"}},
                         Bad{"desk", {"desk..example"}}, Bad{"desk", {"desk.example,IP:1.2.3.4"}},
                         Bad{"desk", {std::string(64, 'a') + ".example"}}}) {
    CAPTURE(bad.common_name, bad.names);
    const auto s = make_self_signed(cert, key, bad.common_name, bad.names, kNowMs);
    CHECK(s.code() == Code::invalid);
    CHECK(entries(dir.path()).empty());
  }
  CHECK(
      make_self_signed(cert, key, std::string(64, 'a'), {std::string(63, 'b') + ".example"}, kNowMs)
          .is_ok());
}

TEST_CASE("tls cert: a missing directory is an error and leaves nothing", "[desk]") {
  TempDir dir;
  const auto s = make_self_signed(dir.path() / "no" / "cert.pem", dir.path() / "key.pem", "desk",
                                  kNames, kNowMs);
  CHECK(s.code() == Code::internal);
  CHECK(s.message().starts_with("证书文件无法写入: " + (dir.path() / "no" / "cert.pem").string() +
                                " ("));
  CHECK(entries(dir.path()).empty());
}

TEST_CASE("tls cert: the check refuses what the desk cannot serve with", "[desk]") {
  TempDir dir;
  const fs::path cert = dir.path() / "cert.pem", key = dir.path() / "key.pem";
  REQUIRE(make_self_signed(cert, key, "desk", kNames, kNowMs).is_ok());

  SECTION("valid from one day before it was made until ten years later") {
    CHECK(check_cert_pair(cert, key, kNowMs - kDayMs + 1000).is_ok());
    CHECK(check_cert_pair(cert, key, kNowMs + 3651 * kDayMs - 1000).is_ok());
  }
  SECTION("not yet valid") {
    const auto s = check_cert_pair(cert, key, kNowMs - 2 * kDayMs);
    CHECK(s.code() == Code::invalid);
    CHECK(s.message() == "证书尚未生效: " + cert.string() + " (生效时间 2026-02-28 00:00:00 UTC)");
  }
  SECTION("expired") {
    const auto s = check_cert_pair(cert, key, kNowMs + 3651 * kDayMs);
    CHECK(s.code() == Code::invalid);
    CHECK(s.message() == "证书已过期: " + cert.string() + " (有效期至 2036-02-28 00:00:00 UTC)");
  }
  SECTION("missing files") {
    const auto no_cert = check_cert_pair(dir.path() / "none.pem", key, kNowMs);
    CHECK(no_cert.code() == Code::not_found);
    CHECK(no_cert.message() == "证书文件无法读取: " + (dir.path() / "none.pem").string() +
                                   " (No such file or directory)");
    const auto no_key = check_cert_pair(cert, dir.path() / "none.pem", kNowMs);
    CHECK(no_key.code() == Code::not_found);
    CHECK(no_key.message().starts_with("私钥文件无法读取: "));
    CHECK(cert_fingerprint(dir.path() / "none.pem").status().code() == Code::not_found);
  }
  SECTION("not PEM") {
    const fs::path junk = dir.path() / "junk.pem";
    write_text(junk, "not a certificate\n");
    const auto bad_cert = check_cert_pair(junk, key, kNowMs);
    CHECK(bad_cert.code() == Code::invalid);
    CHECK(bad_cert.message().starts_with("证书文件不是 PEM 证书: " + junk.string() + " ("));
    CHECK(cert_fingerprint(junk).status().code() == Code::invalid);
    // The certificate where the key should be, and the key where the certificate should be.
    CHECK(check_cert_pair(cert, cert, kNowMs)
              .message()
              .starts_with("私钥文件不是未加密的 PEM 私钥: "));
    CHECK(check_cert_pair(key, key, kNowMs).message().starts_with("证书文件不是 PEM 证书: "));
  }
  SECTION("an encrypted key is refused without asking for a password") {
    const fs::path locked = dir.path() / "locked.pem";
    auto k = read_key(key);
    REQUIRE(k);
    FILE* f = std::fopen(locked.c_str(), "wb");
    REQUIRE(f != nullptr);
    const char pass[] = "secret-pass";
    REQUIRE(PEM_write_PKCS8PrivateKey(f, k.get(), EVP_aes_256_cbc(), pass, sizeof pass - 1, nullptr,
                                      nullptr) == 1);
    std::fclose(f);
    const auto s = check_cert_pair(cert, locked, kNowMs);
    CHECK(s.code() == Code::invalid);
    CHECK(s.message().starts_with("私钥文件不是未加密的 PEM 私钥: " + locked.string()));
  }
  SECTION("a directory is not readable as a file") {
    const auto s = check_cert_pair(dir.path(), key, kNowMs);
    CHECK(s.code() == Code::invalid);
    CHECK(s.message().starts_with("证书文件无法读取: " + dir.path().string() + " ("));
  }
}
