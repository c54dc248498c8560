#include "node/time_text.h"

#include <ctime>

namespace liandong::node {

std::string local_time(uint64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000 + 8 * 3600);  // 北京时间
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::optional<std::chrono::seconds> parse_duration(const std::string& s) {
  if (s.size() < 2 || s.size() > 8) return std::nullopt;
  const char unit = s.back();
  uint64_t n = 0;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  switch (unit) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::seconds(n * 60);
    case 'h':
      return std::chrono::seconds(n * 3600);
    case 'd':
      return std::chrono::seconds(n * 86400);
    default:
      return std::nullopt;
  }
}

}  // namespace liandong::node
