#include "node/input_checks.h"

#include <string>

#include "node/text_escape.h"
#include "protocol/ids.h"
#include "storage/calendar.h"

namespace liandong::node {

bool plausible_code(std::string_view code) {
  if (!valid_code(code)) return false;
  static constexpr std::size_t kParts[][2] = {{0, 2}, {2, 2}, {4, 2}, {6, 3}, {9, 3}};
  for (const auto& [at, len] : kParts) {
    if (at >= code.size()) break;
    if (code.substr(at, len).find_first_not_of('0') == std::string_view::npos) return false;
  }
  return true;
}

namespace {

bool is_space(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == 0x3000 || cp == 0xA0;
}

bool is_control(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || hidden_control(cp);
}

}  // namespace

std::optional<std::string> person_name_problem(std::string_view name) {
  if (name.size() > kMaxPersonNameBytes)
    return "a name is at most " + std::to_string(kMaxPersonNameBytes) + " bytes";
  bool any = false, first_space = false, last_space = false;
  for (std::size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    const std::size_t len = utf8_at(name, i, cp);
    if (len == 0) return std::string("a name must be UTF-8 text");
    if (is_control(cp)) return std::string("a name may not hold control characters");
    const bool space = is_space(cp);
    if (i == 0) first_space = space;
    last_space = space;
    any = any || !space;
    i += len;
  }
  if (!any) return std::string("a name may not be empty or only spaces");
  if (first_space || last_space) return std::string("a name may not begin or end with a space");
  return std::nullopt;
}

std::optional<std::string> due_date_problem(std::string_view due, int64_t today) {
  const auto d = storage::parse_date(due);
  if (!d) return "'" + std::string(due) + "' is not a date YYYY-MM-DD";
  const int64_t day = storage::days_from_date(*d);
  if (day < today) return "'" + std::string(due) + "' is before the day of acceptance";
  return std::nullopt;
}

}  // namespace liandong::node
