// Ed25519 signing keys and signatures (libsodium), and the hex and key-file
// helpers around them.
//
// Thread contract: all functions are safe to call from any thread; a
// SigningKey is an immutable value once made.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace liandong {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

struct SigningKey {
  std::array<uint8_t, 64> secret{};  // libsodium's seed || public form
  PublicKey pub{};
};

// A Curve25519 pair for CurveZMQ links (crypto_box keys).
struct CurveKeyPair {
  std::array<uint8_t, 32> secret{};
  std::array<uint8_t, 32> pub{};
};

// Initializes libsodium once; returns false if it cannot.
bool crypto_ready();

SigningKey generate_signing_key();
CurveKeyPair generate_curve_keypair();
// Rebuilds a key from its 64-byte secret; nullopt if the bytes are not one.
std::optional<SigningKey> signing_key_from_secret(std::string_view secret64);

Signature sign(const SigningKey& key, std::string_view message);
bool verify(const PublicKey& key, std::string_view message, std::string_view signature);

std::string to_hex(std::string_view bytes);
template <std::size_t N>
std::string to_hex(const std::array<uint8_t, N>& a) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(a.data()), N));
}
// nullopt unless `hex` is exactly 2*N hex digits.
std::optional<std::string> from_hex(std::string_view hex);
std::optional<PublicKey> public_key_from_hex(std::string_view hex);

// Z85 (ZeroMQ's key text form); `bytes` must be a multiple of 4 long.
std::string to_z85(std::string_view bytes);
std::optional<std::string> from_z85(std::string_view text);

}  // namespace liandong
