#include "node/join_code.h"

#include <sodium.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace liandong::node {

namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr uint8_t kVersion = 1;
constexpr std::string_view kPrefix = "LD";

std::array<uint8_t, 2> check_of(const std::vector<uint8_t>& bytes) {
  unsigned char h[crypto_generichash_BYTES_MIN];
  crypto_generichash(h, sizeof h, bytes.data(), bytes.size(), nullptr, 0);
  return {h[0], h[1]};
}

// Crockford's symbol value, or -1.
int symbol_value(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'O') return 0;
  if (c == 'I' || c == 'L') return 1;
  for (int i = 0; i < 32; ++i)
    if (kAlphabet[i] == c) return i;
  return -1;
}

bool ipv4_bytes(const std::string& host, std::array<uint8_t, 4>& out) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  char tail = 0;
  if (std::sscanf(host.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4) return false;
  if (a > 255 || b > 255 || c > 255 || d > 255) return false;
  out = {static_cast<uint8_t>(a), static_cast<uint8_t>(b), static_cast<uint8_t>(c),
         static_cast<uint8_t>(d)};
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
             std::to_string(d) ==
         host;
}

int length_index(std::size_t digits) {
  return digits == 6 ? 0 : digits == 9 ? 1 : digits == 12 ? 2 : -1;
}

}  // namespace

Fingerprint key_fingerprint(const std::array<uint8_t, 32>& curve_pub,
                            const std::array<uint8_t, 32>& sign_pub) {
  unsigned char in[64];
  std::memcpy(in, curve_pub.data(), 32);
  std::memcpy(in + 32, sign_pub.data(), 32);
  unsigned char h[crypto_generichash_BYTES_MIN];
  crypto_generichash(h, sizeof h, in, sizeof in, nullptr, 0);
  Fingerprint f{};
  std::memcpy(f.data(), h, f.size());
  return f;
}

std::string format_join_code(const JoinCode& c) {
  std::vector<uint8_t> b;
  std::array<uint8_t, 4> ip{};
  const bool is_ip = ipv4_bytes(c.host, ip);
  const int len = length_index(c.code.size());
  b.push_back(static_cast<uint8_t>((kVersion << 4) | (is_ip ? 0 : 4) | (len < 0 ? 0 : len)));
  const uint64_t value = std::stoull(c.code);
  for (int shift = 32; shift >= 0; shift -= 8)
    b.push_back(static_cast<uint8_t>(value >> shift));
  if (is_ip) {
    b.insert(b.end(), ip.begin(), ip.end());
  } else {
    b.push_back(static_cast<uint8_t>(c.host.size()));
    b.insert(b.end(), c.host.begin(), c.host.end());
  }
  b.push_back(static_cast<uint8_t>(c.port >> 8));
  b.push_back(static_cast<uint8_t>(c.port));
  b.insert(b.end(), c.fingerprint.begin(), c.fingerprint.end());
  b.insert(b.end(), c.secret.begin(), c.secret.end());
  const auto check = check_of(b);
  b.insert(b.end(), check.begin(), check.end());

  std::string symbols;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t byte : b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      symbols.push_back(kAlphabet[(acc >> bits) & 31]);
    }
  }
  if (bits > 0) symbols.push_back(kAlphabet[(acc << (5 - bits)) & 31]);
  std::string out(kPrefix);
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    if (i % 4 == 0) out.push_back('-');
    out.push_back(symbols[i]);
  }
  return out;
}

std::variant<JoinCode, std::string> parse_join_code(std::string_view text) {
  std::string symbols;
  for (char ch : text) {
    if (ch == '-' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') continue;
    symbols.push_back(ch);
  }
  if (symbols.size() >= 2 && (symbols[0] == 'L' || symbols[0] == 'l') &&
      (symbols[1] == 'D' || symbols[1] == 'd'))
    symbols.erase(0, 2);
  if (symbols.size() < 40 || symbols.size() > 160)
    return std::string("入网码长度不对：请核对是否抄全（以 LD 开头，共 12 组左右）");
  std::vector<uint8_t> b;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : symbols) {
    const int v = symbol_value(ch);
    if (v < 0) return "入网码中有无效字符 '" + std::string(1, ch) + "'";
    acc = (acc << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      b.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  const std::string mistyped = "入网码有误：校验不符，请逐组核对后重输";
  if (b.size() < 1 + 5 + 4 + 2 + 8 + 8 + 2) return mistyped;
  // The symbols' leftover bits (fewer than 8) are the encoder's padding:
  // `b` holds exactly the bytes encoded.
  auto try_parse = [&](std::size_t n) -> std::variant<JoinCode, std::string> {
    if (n < 22) return mistyped;
    std::vector<uint8_t> body(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n - 2));
    const auto check = check_of(body);
    if (check[0] != b[n - 2] || check[1] != b[n - 1]) return mistyped;
    std::size_t at = 0;
    const uint8_t head = body[at++];
    if ((head >> 4) != kVersion) return std::string("入网码版本不受支持：请升级本机的联动软件");
    const int len = head & 3;
    if (len > 2) return mistyped;
    uint64_t value = 0;
    for (int i = 0; i < 5; ++i)
      value = (value << 8) | body[at++];
    JoinCode c;
    const std::size_t digits = len == 0 ? 6 : len == 1 ? 9 : 12;
    std::string code = std::to_string(value);
    if (code.size() > digits) return mistyped;
    c.code = std::string(digits - code.size(), '0') + code;
    if ((head & 4) == 0) {
      if (body.size() < at + 4 + 2 + 16) return mistyped;
      c.host = std::to_string(body[at]) + "." + std::to_string(body[at + 1]) + "." +
               std::to_string(body[at + 2]) + "." + std::to_string(body[at + 3]);
      at += 4;
    } else {
      const std::size_t hl = body[at++];
      if (hl == 0 || body.size() < at + hl + 2 + 16) return mistyped;
      c.host.assign(body.begin() + static_cast<std::ptrdiff_t>(at),
                    body.begin() + static_cast<std::ptrdiff_t>(at + hl));
      at += hl;
    }
    c.port = static_cast<uint16_t>((body[at] << 8) | body[at + 1]);
    at += 2;
    std::memcpy(c.fingerprint.data(), body.data() + at, 8);
    at += 8;
    std::memcpy(c.secret.data(), body.data() + at, 8);
    at += 8;
    if (at != body.size() || c.port == 0) return mistyped;
    return c;
  };
  return try_parse(b.size());
}

}  // namespace liandong::node
