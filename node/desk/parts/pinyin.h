// Pinyin initials (拼音首字母) of Chinese names, so the desk can find a
// catalog item or a case by typing "dbsq" for 低保申请.
//
// Each character is converted to GB2312 with iconv (glibc). The 3,755
// characters of GB2312 level 1 (0xB0A1..0xD7F9) are sorted by pinyin, so a
// table of 23 boundaries gives each one its initial. Level-2 characters
// (sorted by radical) and characters outside GB2312 get their initial from a
// small explicit table of characters seen in names (pinyin.cpp); any other is
// dropped. A few words whose first reading in GB2312 is not the one used in
// them (调解 is tiáojiě, not diào) are looked up as whole words first.
//
// No I/O, no clocks. If glibc's GB2312 converter cannot be loaded, only the
// explicit tables and ASCII give initials.
//
// Thread contract: any thread may call; each thread keeps its own iconv
// descriptor.
#pragma once

#include <string>
#include <string_view>

namespace liandong::desk {

// Upper-case initials of the Chinese characters of `utf8`, in order: "低保申请"
// -> "DBSQ". ASCII letters and digits are kept, upper-cased ("B超检查" ->
// "BCJC"); everything else (punctuation, spaces, unknown characters, bytes that
// are not valid UTF-8) is dropped.
std::string pinyin_initials(std::string_view utf8);

// True when `query` matches `name` for a search box: the query, upper-cased,
// occurs in the name's pinyin initials ("sq" and "DBSQ" match 低保申请), or
// the query occurs in the name itself, ASCII compared without case ("低保"
// matches 低保申请). An empty query matches every name.
bool initials_match(std::string_view query, std::string_view name);

}  // namespace liandong::desk
