#include "node/desk/parts/pinyin.h"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>

namespace liandong::desk {
namespace {

// The first GB2312 code of each initial in level 1 (A 阿 ... Z 匝); level 1
// ends at 0xD7F9 (座). No syllable of level 1 begins with I, U or V.
struct Boundary {
  uint16_t first;
  char initial;
};
constexpr std::array<Boundary, 23> kLevel1 = {{
    {0xB0A1, 'A'}, {0xB0C5, 'B'}, {0xB2C1, 'C'}, {0xB4EE, 'D'}, {0xB6EA, 'E'}, {0xB7A2, 'F'},
    {0xB8C1, 'G'}, {0xB9FE, 'H'}, {0xBBF7, 'J'}, {0xBFA6, 'K'}, {0xC0AC, 'L'}, {0xC2E8, 'M'},
    {0xC4C3, 'N'}, {0xC5B6, 'O'}, {0xC5BE, 'P'}, {0xC6DA, 'Q'}, {0xC8BB, 'R'}, {0xC8F6, 'S'},
    {0xCBFA, 'T'}, {0xCDDA, 'W'}, {0xCEF4, 'X'}, {0xD1B9, 'Y'}, {0xD4D1, 'Z'},
}};
constexpr uint16_t kLevel1Last = 0xD7F9;

// Characters outside GB2312 level 1 that occur in names: surnames, given
// names and place names (褚 is in the demo workload, deploy/network.py).
// Sorted by code point. Characters with two common readings are left out.
struct Extra {
  char32_t cp;
  char initial;
};
constexpr Extra kExtra[] = {
    {U'亓', 'Q'}, {U'喆', 'Z'}, {U'垚', 'Y'}, {U'堃', 'K'}, {U'妍', 'Y'}, {U'婧', 'J'},
    {U'婷', 'T'}, {U'婺', 'W'}, {U'岚', 'L'}, {U'峥', 'Z'}, {U'嵘', 'R'}, {U'弋', 'Y'},
    {U'彧', 'Y'}, {U'懿', 'Y'}, {U'旻', 'M'}, {U'昊', 'H'}, {U'昕', 'X'}, {U'晔', 'Y'},
    {U'晟', 'S'}, {U'曦', 'X'}, {U'梓', 'Z'}, {U'沅', 'Y'}, {U'淦', 'G'}, {U'淼', 'M'},
    {U'滢', 'Y'}, {U'漪', 'Y'}, {U'潇', 'X'}, {U'濮', 'P'}, {U'炜', 'W'}, {U'焱', 'Y'},
    {U'煜', 'Y'}, {U'熠', 'Y'}, {U'烨', 'Y'}, {U'犇', 'B'}, {U'玥', 'Y'}, {U'玮', 'W'},
    {U'珂', 'K'}, {U'珏', 'J'}, {U'珺', 'J'}, {U'琛', 'C'}, {U'琦', 'Q'}, {U'琪', 'Q'},
    {U'瑜', 'Y'}, {U'瑾', 'J'}, {U'璇', 'X'}, {U'璐', 'L'}, {U'璟', 'J'}, {U'皓', 'H'},
    {U'睿', 'R'}, {U'祎', 'Y'}, {U'翊', 'Y'}, {U'芃', 'P'}, {U'芮', 'R'}, {U'菁', 'J'},
    {U'萱', 'X'}, {U'蓓', 'B'}, {U'蔺', 'L'}, {U'薇', 'W'}, {U'褚', 'C'}, {U'赟', 'Y'},
    {U'邝', 'K'}, {U'邬', 'W'}, {U'郜', 'G'}, {U'郦', 'L'}, {U'鄱', 'P'}, {U'钰', 'Y'},
    {U'铖', 'C'}, {U'锴', 'K'}, {U'鑫', 'X'}, {U'闫', 'Y'}, {U'韬', 'T'}, {U'馨', 'X'},
    {U'骞', 'Q'}, {U'麒', 'Q'}, {U'麟', 'L'}, {U'黛', 'D'},
};

// Words whose characters GB2312 files under another reading: 调 under diào
// (调查), 重 under zhòng, 行 under xíng. Only words that do not also end or
// begin other common words (not 村长: 农村长期).
struct Word {
  std::string_view text;
  std::string_view initials;
};
constexpr Word kWords[] = {
    {"调解", "TJ"}, {"调处", "TC"}, {"重新", "CX"}, {"重建", "CJ"}, {"重复", "CF"}, {"银行", "YH"},
};

// The code point of the valid UTF-8 sequence at s[i] and its length, or
// length 0 where s[i] begins no valid sequence.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t len = 0;
  char32_t min = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// One iconv descriptor per thread, UTF-8 -> GB2312 (EUC-CN, stateless).
class Gb2312 {
 public:
  Gb2312() : cd_(iconv_open("GB2312", "UTF-8")) {}
  ~Gb2312() {
    if (ok()) iconv_close(cd_);
  }
  Gb2312(const Gb2312&) = delete;
  Gb2312& operator=(const Gb2312&) = delete;

  // The two-byte GB2312 code of one character given as UTF-8, or 0.
  uint16_t code(std::string_view utf8_char) {
    if (!ok()) return 0;
    char* in = const_cast<char*>(utf8_char.data());  // iconv does not write it
    std::size_t in_left = utf8_char.size();
    char out[4];
    char* out_ptr = out;
    std::size_t out_left = sizeof out;
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    if (iconv(cd_, &in, &in_left, &out_ptr, &out_left) == static_cast<std::size_t>(-1) ||
        in_left != 0 || out_ptr - out != 2) {
      return 0;
    }
    return static_cast<uint16_t>(static_cast<unsigned char>(out[0]) << 8 |
                                 static_cast<unsigned char>(out[1]));
  }

 private:
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  iconv_t cd_;
};

char level1_initial(uint16_t gb) {
  if (gb < kLevel1.front().first || gb > kLevel1Last) return 0;
  auto next = std::upper_bound(kLevel1.begin(), kLevel1.end(), gb,
                               [](uint16_t g, const Boundary& b) { return g < b.first; });
  return std::prev(next)->initial;
}

char extra_initial(char32_t cp) {
  auto it = std::lower_bound(std::begin(kExtra), std::end(kExtra), cp,
                             [](const Extra& e, char32_t c) { return e.cp < c; });
  return it != std::end(kExtra) && it->cp == cp ? it->initial : 0;
}

char upper_ascii(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

bool is_alnum_ascii(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

std::string pinyin_initials(std::string_view utf8) {
  thread_local Gb2312 gb2312;
  std::string out;
  std::size_t i = 0;
  while (i < utf8.size()) {
    const std::string_view rest = utf8.substr(i);
    auto word = std::find_if(std::begin(kWords), std::end(kWords),
                             [&](const Word& w) { return rest.starts_with(w.text); });
    if (word != std::end(kWords)) {
      out += word->initials;
      i += word->text.size();
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = decode_utf8(utf8, i, cp);
    if (len == 0) {
      ++i;  // not UTF-8: dropped
      continue;
    }
    char initial = 0;
    if (len == 1) {
      if (is_alnum_ascii(cp)) initial = upper_ascii(static_cast<char>(cp));
    } else {
      initial = level1_initial(gb2312.code(utf8.substr(i, len)));
      if (initial == 0) initial = extra_initial(cp);
    }
    if (initial != 0) out += initial;
    i += len;
  }
  return out;
}

bool initials_match(std::string_view query, std::string_view name) {
  std::string upper_query(query);
  std::transform(upper_query.begin(), upper_query.end(), upper_query.begin(), upper_ascii);
  if (pinyin_initials(name).find(upper_query) != std::string::npos) return true;
  std::string upper_name(name);
  std::transform(upper_name.begin(), upper_name.end(), upper_name.begin(), upper_ascii);
  return upper_name.find(upper_query) != std::string::npos;
}

}  // namespace liandong::desk
