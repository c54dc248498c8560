// JSON a node writes (--json output), with nlohmann-json: built as a value,
// never by concatenation, and written as one line of UTF-8 text.
//
// Thread contract: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace liandong::node {

// Keys keep the order they are set in, as a person reads them.
using Json = nlohmann::ordered_json;

// `j` as compact JSON text: UTF-8 as is, invalid UTF-8 replaced (U+FFFD),
// control characters and DEL escaped as \u00NN, so no byte from outside
// acts on a terminal. No trailing newline.
std::string json_text(const Json& j);

}  // namespace liandong::node
