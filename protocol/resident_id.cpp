#include "protocol/resident_id.h"

#include <algorithm>
#include <array>

namespace liandong {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int digits(std::string_view s, std::size_t at, std::size_t len) {
  int v = 0;
  for (std::size_t i = at; i < at + len; ++i)
    v = v * 10 + (s[i] - '0');
  return v;
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Province-level codes of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macao,
// 83 residence permits of Taiwan residents, 91 foreigners' permanent
// residence ID cards of the 2023 form).
bool known_province(int p) {
  static constexpr std::array<std::pair<int, int>, 9> kRanges = {
      {{11, 15}, {21, 23}, {31, 37}, {41, 46}, {50, 54}, {61, 65}, {71, 71}, {81, 83}, {91, 91}}};
  return std::any_of(kRanges.begin(), kRanges.end(),
                     [p](const auto& r) { return p >= r.first && p <= r.second; });
}

}  // namespace

char resident_id_check_char(std::string_view id) {
  static constexpr std::array<int, 17> kWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                   3, 7, 9,  10, 5, 8, 4, 2};
  int sum = 0;
  for (std::size_t i = 0; i < kWeights.size(); ++i)
    sum += (id[i] - '0') * kWeights[i];
  return "10X98765432"[sum % 11];
}

std::string normalised_resident_id(std::string_view id) {
  std::string out(id);
  if (out.size() == 18 && out[17] == 'x') out[17] = 'X';
  return out;
}

std::optional<std::string> resident_id_problem(std::string_view given, int64_t today) {
  const std::string id = normalised_resident_id(given);
  if (id.size() != 18)
    return "身份证号码应为 18 位，这里是 " + std::to_string(id.size()) +
           " 个字符 (a resident ID number has 18 characters)";
  if (!std::all_of(id.begin(), id.begin() + 17, is_digit) || !(is_digit(id[17]) || id[17] == 'X'))
    return std::string(
        "身份证号码应为 17 位数字加 1 位校验码（数字或 X） (17 digits and a check character)");
  const int province = digits(id, 0, 2);
  if (!known_province(province))
    return "身份证号码的地区码 " + id.substr(0, 6) + " 不是有效的省级行政区划代码 (" +
           id.substr(0, 2) + " is no province code)";
  const int y = digits(id, 6, 4), m = digits(id, 10, 2), d = digits(id, 12, 2);
  const std::string birth = id.substr(6, 8);
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
    return "身份证号码中的出生日期 " + birth + " 不存在 (no such date)";
  if (y < 1900) return "身份证号码中的出生日期 " + birth + " 早于 1900 年 (before 1900)";
  if (days_from_civil(y, m, d) > today)
    return "身份证号码中的出生日期 " + birth + " 晚于今天 (in the future)";
  const char want = resident_id_check_char(id);
  if (id[17] != want)
    return std::string("身份证号码校验位不符（应为 ") + want + "） (check character should be " +
           want + ")";
  return std::nullopt;
}

std::optional<std::string> phone_problem(std::string_view phone) {
  std::string d;
  for (const char c : phone) {
    if (c == ' ' || c == '-') continue;
    if (!is_digit(c) || d.size() >= 16)
      return "电话号码格式不对：" + std::string(phone) +
             " (only digits, spaces and hyphens; 11-digit mobile or area code and number)";
    d.push_back(c);
  }
  const bool mobile = d.size() == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
  const bool landline = d.size() >= 10 && d.size() <= 12 && d[0] == '0' && d[1] != '0';
  if (mobile || landline) return std::nullopt;
  return "电话号码格式不对：" + std::string(phone) +
         " (an 11-digit mobile number 13x-19x, or a landline with its area code, e.g. "
         "0797-1234567)";
}

Status check_applicant(proto::Applicant::Builder applicant, int64_t today) {
  const auto id = applicant.getIdNumber();
  if (id.size() > 0) {
    const std::string_view text(id.begin(), id.size());
    if (auto why = resident_id_problem(text, today)) return Status::invalid(*why);
    if (text.back() == 'x') applicant.setIdNumber(normalised_resident_id(text));
  }
  const auto phone = applicant.getPhone();
  if (phone.size() > 0) {
    if (auto why = phone_problem(std::string_view(phone.begin(), phone.size())))
      return Status::invalid(*why);
  }
  return Status::ok();
}

}  // namespace liandong
