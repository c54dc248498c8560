#include "protocol/ids.h"

#include <cstdio>

namespace liandong {

bool valid_code(std::string_view code) {
  const auto n = code.size();
  if (n != 2 && n != 4 && n != 6 && n != 9 && n != 12) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool within(std::string_view code, std::string_view node) {
  return code.starts_with(node);
}

std::string parent_code(std::string_view code) {
  switch (code.size()) {
    case 12:
      return std::string(code.substr(0, 9));
    case 9:
      return std::string(code.substr(0, 6));
    case 6:
      return std::string(code.substr(0, 4));
    case 4:
      return std::string(code.substr(0, 2));
    default:
      return {};
  }
}

const char* level_name(std::string_view code) {
  switch (code.size()) {
    case 12:
      return "village";
    case 9:
      return "township";
    case 6:
      return "county";
    case 4:
      return "city";
    case 2:
      return "province";
    default:
      return "unknown";
  }
}

const char* level_name_zh(std::string_view code) {
  switch (code.size()) {
    case 12:
      return "村";
    case 9:
      return "乡镇";
    case 6:
      return "县";
    case 4:
      return "市";
    case 2:
      return "省";
    default:
      return "?";
  }
}

std::string format_id(const Id& id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%06llu", static_cast<unsigned long long>(id.seq));
  return id.origin + buf;
}

std::optional<Id> parse_id(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  Id id{std::string(text.substr(0, dash)), 0};
  if (!valid_code(id.origin)) return std::nullopt;
  auto digits = text.substr(dash + 1);
  if (digits.empty() || digits.size() > 20) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<uint64_t>(c - '0');
    if (id.seq > (UINT64_MAX - d) / 10) return std::nullopt;  // would overflow
    id.seq = id.seq * 10 + d;
  }
  if (id.seq == 0) return std::nullopt;
  return id;
}

void put_be64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint64_t get_be64(std::string_view in) {
  uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < in.size(); ++i)
    v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

std::string id_key(const Id& id) {
  std::string key(kMaxCodeLen, '\0');
  id.origin.copy(key.data(), kMaxCodeLen);
  put_be64(key, id.seq);
  return key;
}

Id id_from_key(std::string_view key) {
  Id id;
  auto origin = key.substr(0, kMaxCodeLen);
  id.origin = std::string(origin.substr(0, origin.find('\0')));
  id.seq = get_be64(key.substr(kMaxCodeLen));
  return id;
}

}  // namespace liandong
