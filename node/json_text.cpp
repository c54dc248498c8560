#include "node/json_text.h"

namespace liandong::node {

std::string json_text(const Json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // nlohmann escapes U+0000..U+001F; DEL (0x7F) too here. A 0x7F byte is
  // never part of a multi-byte UTF-8 sequence, and outside strings JSON
  // text holds none.
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\x7f') {
      out += "\\u007f";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace liandong::node
