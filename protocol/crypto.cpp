#include "protocol/crypto.h"

#include <sodium.h>

#include <cstring>

namespace liandong {

bool crypto_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

SigningKey generate_signing_key() {
  crypto_ready();
  SigningKey k;
  crypto_sign_keypair(k.pub.data(), k.secret.data());
  return k;
}

CurveKeyPair generate_curve_keypair() {
  crypto_ready();
  CurveKeyPair k;
  crypto_box_keypair(k.pub.data(), k.secret.data());
  return k;
}

std::optional<SigningKey> signing_key_from_secret(std::string_view secret64) {
  if (secret64.size() != crypto_sign_SECRETKEYBYTES) return std::nullopt;
  crypto_ready();
  // Re-derive the pair from the seed half and require the stored secret to
  // match it whole: a file with a corrupted half is refused, not used.
  SigningKey k;
  crypto_sign_seed_keypair(k.pub.data(), k.secret.data(),
                           reinterpret_cast<const unsigned char*>(secret64.data()));
  if (sodium_memcmp(k.secret.data(), secret64.data(), k.secret.size()) != 0) return std::nullopt;
  return k;
}

Signature sign(const SigningKey& key, std::string_view message) {
  crypto_ready();
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), key.secret.data());
  return sig;
}

bool verify(const PublicKey& key, std::string_view message, std::string_view signature) {
  if (signature.size() != crypto_sign_BYTES) return false;
  crypto_ready();
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::optional<PublicKey> public_key_from_hex(std::string_view hex) {
  auto bytes = from_hex(hex);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  PublicKey k{};
  std::memcpy(k.data(), bytes->data(), 32);
  return k;
}

namespace {
constexpr char kZ85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
}

std::string to_z85(std::string_view bytes) {
  std::string out;
  if (bytes.size() % 4 != 0) return out;
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    uint32_t v = 0;
    for (int j = 0; j < 4; ++j)
      v = v * 256 + static_cast<uint8_t>(bytes[i + j]);
    char chunk[5];
    for (int j = 4; j >= 0; --j) {
      chunk[j] = kZ85[v % 85];
      v /= 85;
    }
    out.append(chunk, 5);
  }
  return out;
}

std::optional<std::string> from_z85(std::string_view text) {
  if (text.size() % 5 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 5) {
    uint64_t v = 0;
    for (int j = 0; j < 5; ++j) {
      const char* p = std::strchr(kZ85, text[i + j]);
      if (p == nullptr || text[i + j] == '\0') return std::nullopt;
      v = v * 85 + static_cast<uint64_t>(p - kZ85);
    }
    if (v > 0xffffffffULL) return std::nullopt;
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  return out;
}

}  // namespace liandong
