// Checks of what a person types on the command line, before a command
// reads the store: division codes, names, dates. A failed check is a
// one-line reason (English, naming the value); the command refuses with it
// and changes nothing.
//
// Pure logic: no I/O, no clocks ("today" comes from the caller).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace liandong::node {

// A division code that can name a place: 2, 4, 6, 9 or 12 digits
// (protocol/ids.h valid_code) none of whose parts is all zeros: province
// (2 digits), city (2), county (2), township (3), village (3). "00",
// "000000", "360700" (the city itself, not a county), "360723000" are not
// places.
bool plausible_code(std::string_view code);

// Why `name` cannot name a person (--actor, roster entries), or nullopt:
// empty or only white space (ASCII or the ideographic space U+3000), white
// space at either end, a control character, not UTF-8, or longer than
// kMaxPersonNameBytes.
constexpr std::size_t kMaxPersonNameBytes = 128;
std::optional<std::string> person_name_problem(std::string_view name);

// Why `due` cannot be a committed completion date (承诺办结日期) for an
// acceptance made on China day `today` (days since 1970-01-01), or
// nullopt: not a real calendar date YYYY-MM-DD (2026-02-31 is not), or
// before `today`.
std::optional<std::string> due_date_problem(std::string_view due, int64_t today);

}  // namespace liandong::node
