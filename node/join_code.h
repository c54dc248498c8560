// The one-time join code (入网码) a parent prints with `liandong enroll
// create` and a new node is given with `liandong join` — read over the
// phone or copied from the desk. Pure: no I/O.
//
// Bytes, then Crockford base32 in groups of four (docs/OPERATIONS.md):
//   1  version 1 (high nibble), host kind (bit 2: 0 IPv4, 1 name) and the
//      code's length (bits 0-1: 6, 9 or 12 digits)
//   5  the new node's division code, big-endian
//   4  IPv4 address, or 1 length byte and the host name's ASCII
//   2  the parent's enrollment port
//   8  the parent's key fingerprint: BLAKE2b of curveKey ‖ signKey, first 8
//   8  the secret
//   2  check: BLAKE2b of everything before, first 2 (a mistyped code is
//      caught before anything is sent)
// An IPv4 code is 48 characters, "LD" and 12 groups of four.
//
// Thread contract: plain functions, no shared state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace liandong::node {

using Fingerprint = std::array<uint8_t, 8>;
using JoinSecret = std::array<uint8_t, 8>;

struct JoinCode {
  std::string code;  // the new node's division code (6, 9 or 12 digits)
  std::string host;  // the parent, as the new node reaches it
  uint16_t port = 0;
  Fingerprint fingerprint{};
  JoinSecret secret{};
  friend bool operator==(const JoinCode&, const JoinCode&) = default;
};

// "LD" followed by groups like "7K3M-...". The code and host must be valid
// (a division code of 6, 9 or 12 digits; a host of at most 63 characters).
std::string format_join_code(const JoinCode& c);

// Reads a code as typed: case, spaces, dashes, O for 0 and I or L for 1
// are forgiven. The error is one Chinese line.
std::variant<JoinCode, std::string> parse_join_code(std::string_view text);

// The fingerprint of a parent's keys.
Fingerprint key_fingerprint(const std::array<uint8_t, 32>& curve_pub,
                            const std::array<uint8_t, 32>& sign_pub);

}  // namespace liandong::node
