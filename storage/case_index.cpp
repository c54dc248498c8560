#include "storage/case_index.h"

#include <sodium.h>

namespace liandong::storage {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string hashed(std::string_view value, const unsigned char* key, std::size_t key_len,
                   std::size_t out_len) {
  std::string out(out_len, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(value.data()), value.size(), key,
                     key_len);
  return out;
}

// A plain value ‖ 0x00, or 0x01 ‖ BLAKE2b-256 for a long one. Texts hold
// no NUL (validate_event), so a plain part never starts with 0x01 unless
// the value does; the trailing 0x00 keeps "王" from matching "王小红".
std::string plain_part(std::string_view value) {
  if (value.size() > kMaxPlainPart) return "\x01" + hashed(value, nullptr, 0, 32);
  std::string out(value);
  out.push_back('\0');
  return out;
}

}  // namespace

std::string normalize_id_number(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is_space(c)) continue;
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

std::string normalize_phone(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  if (out.size() == 13 && out.starts_with("86")) out.erase(0, 2);
  return out;
}

std::string trim_name(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return std::string(s);
}

std::optional<std::string> search_part(CaseIndex index, std::string_view value,
                                       const SearchSecret& secret) {
  switch (index) {
    case CaseIndex::name: {
      const std::string v = trim_name(value);
      if (v.empty()) return std::nullopt;
      return plain_part(v);
    }
    case CaseIndex::item:
      if (value.empty()) return std::nullopt;
      return plain_part(value);
    case CaseIndex::id_number: {
      const std::string v = normalize_id_number(value);
      if (v.empty()) return std::nullopt;
      return hashed(v, secret.data(), secret.size(), 16);
    }
    case CaseIndex::phone: {
      const std::string v = normalize_phone(value);
      if (v.empty()) return std::nullopt;
      return hashed(v, secret.data(), secret.size(), 16);
    }
    case CaseIndex::cases:
    case CaseIndex::status:
      break;
  }
  return std::nullopt;
}

}  // namespace liandong::storage
