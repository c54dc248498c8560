#include "config/value_checks.h"

#include <array>
#include <cstdint>

namespace liandong::config {

namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
static_assert(kZ85Alphabet.size() == 85);

// Character -> digit value, or -1 for characters outside the alphabet.
constexpr std::array<int, 256> kZ85Digit = [] {
  std::array<int, 256> t{};
  t.fill(-1);
  for (std::size_t i = 0; i < kZ85Alphabet.size(); ++i) {
    t[static_cast<unsigned char>(kZ85Alphabet[i])] = static_cast<int>(i);
  }
  return t;
}();

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Shows a character in a message: printable ASCII as is, anything else as \xNN.
std::string show_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte \\x") + kHex[u >> 4] + kHex[u & 15];
}

std::optional<std::string> port_problem(std::string_view port, TcpUse use) {
  if (port == "*") {
    if (use == TcpUse::kBind) return std::nullopt;
    return "port '*' is only allowed where the node binds ([listen])";
  }
  if (port.empty()) return "port is missing";
  if (port.size() > 5) return "port '" + std::string(port) + "' is not in 1..65535";
  std::uint32_t value = 0;
  for (char c : port) {
    if (!is_digit(c)) return "port '" + std::string(port) + "' is not a number";
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value < 1 || value > 65535) return "port '" + std::string(port) + "' is not in 1..65535";
  return std::nullopt;
}

std::optional<std::string> host_problem(std::string_view host, TcpUse use) {
  if (host.empty()) return "host is missing";
  if (host == "*") {
    if (use == TcpUse::kBind) return std::nullopt;
    return "host '*' is only allowed where the node binds ([listen])";
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return "IPv6 address must be '[ADDRESS]'";
    for (char c : host.substr(1, host.size() - 2)) {
      if (!is_hex(c) && c != ':' && c != '.') return "bad IPv6 address '" + std::string(host) + "'";
    }
    return std::nullopt;
  }
  for (char c : host) {
    if (c == ':') return "an IPv6 address must be in brackets, like tcp://[::1]:7601";
    if (!is_alnum(c) && c != '.' && c != '-' && c != '_') {
      return "host '" + std::string(host) + "' has a bad character " + show_char(c);
    }
  }
  return std::nullopt;
}

}  // namespace

bool is_division_code(std::string_view code) {
  const auto n = code.size();
  if (n != 2 && n != 4 && n != 6 && n != 9 && n != 12) return false;
  for (char c : code) {
    if (!is_digit(c)) return false;
  }
  return true;
}

std::string_view division_level(std::string_view code) {
  if (!is_division_code(code)) return "";
  switch (code.size()) {
    case 2:
      return "province";
    case 4:
      return "city";
    case 6:
      return "county";
    case 9:
      return "township";
    default:
      return "village";
  }
}

bool is_strict_ancestor(std::string_view ancestor, std::string_view code) {
  return is_division_code(ancestor) && is_division_code(code) && ancestor.size() < code.size() &&
         code.substr(0, ancestor.size()) == ancestor;
}

std::optional<std::string> z85_decode(std::string_view text) {
  if (text.size() % 5 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (std::size_t i = 0; i < text.size(); i += 5) {
    std::uint64_t value = 0;
    for (std::size_t j = i; j < i + 5; ++j) {
      const int digit = kZ85Digit[static_cast<unsigned char>(text[j])];
      if (digit < 0) return std::nullopt;
      value = value * 85 + static_cast<std::uint64_t>(digit);
    }
    if (value > 0xffffffffu) return std::nullopt;
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((value >> shift) & 0xff));
    }
  }
  return out;
}

std::optional<std::string> curve_key_problem(std::string_view text) {
  const std::string kWhat = "not a 40-character Z85 key";
  if (text.size() != 40) {
    return kWhat + " (it has " + std::to_string(text.size()) + " characters)";
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (kZ85Digit[static_cast<unsigned char>(text[i])] < 0) {
      return kWhat + " (" + show_char(text[i]) + " at position " + std::to_string(i + 1) +
             " is not a Z85 character)";
    }
  }
  if (!z85_decode(text)) return kWhat + " (a 5-character group is larger than 32 bits)";
  return std::nullopt;
}

std::optional<std::string> sign_key_problem(std::string_view text) {
  const std::string kWhat = "not a 64-digit hex Ed25519 key";
  if (text.size() != 64) {
    return kWhat + " (it has " + std::to_string(text.size()) + " characters)";
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_hex(text[i])) {
      return kWhat + " (" + show_char(text[i]) + " at position " + std::to_string(i + 1) +
             " is not a hex digit)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> tcp_endpoint_problem(std::string_view endpoint, TcpUse use) {
  constexpr std::string_view kScheme = "tcp://";
  const std::string expected =
      use == TcpUse::kBind ? "tcp://HOST:PORT (HOST may be '*')" : "tcp://HOST:PORT";
  if (endpoint.substr(0, kScheme.size()) != kScheme) {
    return "'" + std::string(endpoint) + "' is not " + expected;
  }
  const std::string_view rest = endpoint.substr(kScheme.size());
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    return "'" + std::string(endpoint) + "' has no port; expected " + expected;
  }
  const std::string_view host = rest.substr(0, colon);
  if (auto p = host_problem(host, use)) return "'" + std::string(endpoint) + "': " + *p;
  if (auto p = port_problem(rest.substr(colon + 1), use)) {
    return "'" + std::string(endpoint) + "': " + *p;
  }
  return std::nullopt;
}

std::optional<std::filesystem::path> ipc_path(std::string_view endpoint,
                                              const std::filesystem::path& base_dir,
                                              std::string& problem) {
  constexpr std::string_view kScheme = "ipc://";
  if (endpoint.substr(0, kScheme.size()) != kScheme) {
    problem = "'" + std::string(endpoint) + "' is not ipc://PATH";
    return std::nullopt;
  }
  const std::string_view text = endpoint.substr(kScheme.size());
  if (text.empty()) {
    problem = "'" + std::string(endpoint) + "' has an empty path";
    return std::nullopt;
  }
  if (text == "*") {
    problem = "ipc://* (a random path) cannot be found by the liandong commands";
    return std::nullopt;
  }
  if (text.front() == '@') {
    problem = "abstract sockets ('ipc://@NAME') are not allowed: no file permission guards them";
    return std::nullopt;
  }
  for (char c : text) {
    if (is_control(c)) {
      problem = "the path contains a control character";
      return std::nullopt;
    }
  }
  std::filesystem::path path(text);
  if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
  return path.lexically_normal();
}

}  // namespace liandong::config
