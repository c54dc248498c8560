#include "node/sealed_keys.h"

#include <sodium.h>

#include <algorithm>
#include <filesystem>

#include "config/input_file.h"
#include "node/input_files.h"
#include "protocol/crypto.h"
#include "protocol/ids.h"

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

// "LDKEYS", then the format's number.
constexpr std::string_view kMagic{"LDKEYS\0\1", 8};
constexpr std::size_t kHeaderBytes =
    kMagic.size() + 8 + 8 + crypto_pwhash_SALTBYTES + crypto_secretbox_NONCEBYTES;
constexpr std::size_t kMaxFiles = 16;
constexpr std::size_t kMaxSealedBytes = 256 * 1024;
// What a file may ask of Argon2id before it is refused unread (a hostile
// header must not take the machine's memory).
constexpr uint64_t kMaxOps = 16;
constexpr uint64_t kMaxMemBytes = 1ull << 30;

void put_u16(std::string& out, std::size_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}
void put_u32(std::string& out, std::size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put_text(std::string& out, std::string_view s) {
  put_u16(out, s.size());
  out.append(s);
}

// Reads the plaintext of a box, bounded by its size.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  std::size_t number(int bytes) {
    if (in_.size() < static_cast<std::size_t>(bytes)) return fail();
    std::size_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v = (v << 8) | static_cast<unsigned char>(in_[static_cast<std::size_t>(i)]);
    in_.remove_prefix(static_cast<std::size_t>(bytes));
    return v;
  }
  std::string text(std::size_t n) {
    if (in_.size() < n) return fail(), std::string();
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  bool at_end() const { return in_.empty(); }

 private:
  std::size_t fail() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

using SecretKey = std::array<unsigned char, crypto_secretbox_KEYBYTES>;

Status derive_key(SecretKey& key, std::string_view passphrase, const unsigned char* salt,
                  PassphraseCost cost) {
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt, cost.ops,
                    static_cast<std::size_t>(cost.mem_bytes), crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Status::internal("内存不足，无法处理口令 (crypto_pwhash: out of memory)");
  return Status::ok();
}

bool plain_name(std::string_view n) {
  return !n.empty() && n.size() <= 64 && n != "." && n != ".." &&
         std::all_of(n.begin(), n.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

}  // namespace

PassphraseCost default_passphrase_cost() {
  return PassphraseCost{crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

Result<std::vector<KeyFile>> read_key_folder(const std::string& keys_dir) {
  std::error_code ec;
  if (!fs::is_directory(keys_dir, ec))
    return Status::invalid("本机没有密钥目录 " + keys_dir + " (no keys folder)");
  std::vector<KeyFile> out;
  for (const auto& entry : fs::directory_iterator(keys_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".tmp")) continue;  // a write cut short (identity.cpp)
    if (!entry.is_regular_file() || entry.is_symlink() || !plain_name(name))
      return Status::invalid("密钥目录 " + keys_dir + " 中有非密钥文件 " + name +
                             " (not a plain key file)");
    auto f = config::read_input_file(entry.path(), kMaxKeyFileBytes);
    if (!f.ok) return Status::invalid("cannot read " + entry.path().string() + ": " + f.error);
    out.push_back(KeyFile{name, std::move(f.bytes)});
    if (out.size() > kMaxFiles)
      return Status::invalid("密钥目录 " + keys_dir + " 中文件过多 (more than 16 files)");
  }
  if (ec) return Status::invalid("cannot list " + keys_dir + ": " + ec.message());
  if (out.empty()) return Status::invalid("密钥目录 " + keys_dir + " 是空的 (no key files)");
  std::sort(out.begin(), out.end(),
            [](const KeyFile& a, const KeyFile& b) { return a.name < b.name; });
  return out;
}

Result<std::string> read_passphrase_file(const std::string& path, std::size_t min_chars) {
  auto f = config::read_input_file(path, 4096);
  if (!f.ok) return Status::invalid("口令文件 " + path + " 无法读取 (" + f.error + ")");
  std::string line = f.bytes.substr(0, f.bytes.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  sodium_memzero(f.bytes.data(), f.bytes.size());
  if (line.empty())
    return Status::invalid("口令文件 " + path + " 的第一行是空的 (empty passphrase)");
  if (line.size() < min_chars)
    return Status::invalid("口令太短：至少 " + std::to_string(min_chars) +
                           " 个字符 (passphrase shorter than " + std::to_string(min_chars) + ")");
  return line;
}

Result<std::string> seal_keys(const KeyBundle& bundle, std::string_view passphrase,
                              PassphraseCost cost) {
  if (!crypto_ready()) return Status::internal("libsodium did not initialize");
  std::string plain;
  put_text(plain, bundle.code);
  put_text(plain, bundle.store_id);
  put_u16(plain, bundle.files.size());
  for (const auto& f : bundle.files) {
    put_text(plain, f.name);
    put_u32(plain, f.bytes.size());
    plain.append(f.bytes);
  }
  std::string out(kMagic);
  put_be64(out, cost.ops);
  put_be64(out, cost.mem_bytes);
  std::array<unsigned char, crypto_pwhash_SALTBYTES> salt{};
  std::array<unsigned char, crypto_secretbox_NONCEBYTES> nonce{};
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  out.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  out.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  SecretKey key{};
  if (auto s = derive_key(key, passphrase, salt.data(), cost); !s) return s;
  const std::size_t at = out.size();
  out.resize(at + crypto_secretbox_MACBYTES + plain.size());
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(out.data() + at),
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                        nonce.data(), key.data());
  sodium_memzero(key.data(), key.size());
  sodium_memzero(plain.data(), plain.size());
  return out;
}

Result<KeyBundle> open_keys(std::string_view sealed, std::string_view passphrase) {
  if (!crypto_ready()) return Status::internal("libsodium did not initialize");
  const auto not_ours = [] {
    return Status::corruption("keys.enc 不是本程序加密的密钥文件 (not a sealed liandong key file)");
  };
  if (sealed.size() < kHeaderBytes + crypto_secretbox_MACBYTES || sealed.size() > kMaxSealedBytes ||
      sealed.substr(0, kMagic.size()) != kMagic)
    return not_ours();
  std::string_view rest = sealed.substr(kMagic.size());
  PassphraseCost cost{get_be64(rest.substr(0, 8)), get_be64(rest.substr(8, 8))};
  rest.remove_prefix(16);
  if (cost.ops < crypto_pwhash_OPSLIMIT_MIN || cost.ops > kMaxOps ||
      cost.mem_bytes < crypto_pwhash_MEMLIMIT_MIN || cost.mem_bytes > kMaxMemBytes)
    return not_ours();
  const auto* salt = reinterpret_cast<const unsigned char*>(rest.data());
  const auto* nonce = salt + crypto_pwhash_SALTBYTES;
  rest.remove_prefix(crypto_pwhash_SALTBYTES + crypto_secretbox_NONCEBYTES);
  SecretKey key{};
  if (auto s = derive_key(key, passphrase, salt, cost); !s) return s;
  std::string plain(rest.size() - crypto_secretbox_MACBYTES, '\0');
  const int rc = crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                            reinterpret_cast<const unsigned char*>(rest.data()),
                                            rest.size(), nonce, key.data());
  sodium_memzero(key.data(), key.size());
  if (rc != 0)
    return Status::invalid(
        "口令不对，备份中的密钥无法解开（或 keys.enc 已被改动）；未作任何改动 (wrong passphrase, "
        "or keys.enc was altered)");
  Reader r(plain);
  KeyBundle b;
  b.code = r.text(r.number(2));
  b.store_id = r.text(r.number(2));
  const std::size_t n = r.number(2);
  for (std::size_t i = 0; i < n && r.ok() && i < kMaxFiles; ++i) {
    KeyFile f;
    f.name = r.text(r.number(2));
    f.bytes = r.text(r.number(4));
    if (!plain_name(f.name)) return not_ours();
    b.files.push_back(std::move(f));
  }
  sodium_memzero(plain.data(), plain.size());
  if (!r.ok() || !r.at_end() || b.files.size() != n) return not_ours();
  return b;
}

}  // namespace liandong::node
