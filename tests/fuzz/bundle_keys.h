// Fixed keys of the bundle fuzz target and its seeds: a village signs, its
// township reads (tests/fuzz/bundle_fuzz.cpp, make_seeds.cpp).
#pragma once

#include <sodium.h>

#include <cstring>

#include "protocol/crypto.h"

namespace liandong::fuzz {

inline constexpr const char* kBundleFrom = "360723101007";
inline constexpr const char* kBundleTo = "360723101";
inline constexpr uint64_t kBundleNowMs = 1'790'000'000'000;  // 2026-09

inline SigningKey bundle_signer() {
  unsigned char seed[crypto_sign_SEEDBYTES];
  std::memset(seed, 7, sizeof seed);
  SigningKey k;
  crypto_sign_seed_keypair(k.pub.data(), k.secret.data(), seed);
  return k;
}

inline CurveKeyPair bundle_reader_keys() {
  unsigned char seed[crypto_box_SEEDBYTES];
  std::memset(seed, 9, sizeof seed);
  CurveKeyPair k;
  crypto_box_seed_keypair(k.pub.data(), k.secret.data(), seed);
  return k;
}

}  // namespace liandong::fuzz
