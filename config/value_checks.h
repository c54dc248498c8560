// Checks on single config values: division codes and their hierarchy,
// ZeroMQ endpoints, and public-key text (Z85 CurveZMQ keys, hex Ed25519 keys).
// Internal to config/ (node_config.cpp uses them); exposed for tests.
//
// Thread contract: pure functions; call from any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace liandong::config {

// A division code (GB/T 2260 style): 2, 4, 6, 9 or 12 ASCII digits.
bool is_division_code(std::string_view code);

// "province", "city", "county", "township" or "village" by length; "" if not a code.
std::string_view division_level(std::string_view code);

// True if both are division codes and `ancestor` is a proper prefix of `code`
// (360723 and 360723101 are ancestors of 360723101007).
bool is_strict_ancestor(std::string_view ancestor, std::string_view code);

// Z85 decoding (ZeroMQ RFC 32): nullopt unless `text` is a multiple of 5
// characters of the Z85 alphabet and every 5-character group is below 2^32.
std::optional<std::string> z85_decode(std::string_view text);

// What is wrong with `text` as a CurveZMQ public key (40 Z85 characters, 32
// bytes); nullopt if nothing.
std::optional<std::string> curve_key_problem(std::string_view text);

// What is wrong with `text` as an Ed25519 public key (64 hex digits, either
// case); nullopt if nothing.
std::optional<std::string> sign_key_problem(std::string_view text);

enum class TcpUse {
  kConnect,  // HOST:PORT to dial: HOST a name or address, PORT 1..65535
  kBind,     // also HOST "*" (all interfaces) and PORT "*" (the OS picks one)
};

// What is wrong with `endpoint` as "tcp://HOST:PORT"; nullopt if nothing.
// HOST is a DNS name, an IPv4 address, an interface name or a bracketed IPv6
// address ("[::1]").
std::optional<std::string> tcp_endpoint_problem(std::string_view endpoint, TcpUse use);

// Longest socket path ZeroMQ's ipc:// transport accepts (sockaddr_un.sun_path - 1).
inline constexpr std::size_t kMaxIpcPathBytes = 107;

// Splits "ipc://PATH" into PATH, resolved against `base_dir` when relative and
// base_dir is not empty. Sets `problem` and returns nullopt when it is not an
// ipc:// endpoint, PATH is empty, names an abstract socket ("@...") or
// contains control characters. Does not check the length.
std::optional<std::filesystem::path> ipc_path(std::string_view endpoint,
                                              const std::filesystem::path& base_dir,
                                              std::string& problem);

}  // namespace liandong::config
