// Text from outside (applicants' names, item codes, notes, peers' codes and
// reasons, command-line input echoed in errors) shown as data: never as
// terminal control sequences, never as spreadsheet formulas.
//
// Terminal: valid UTF-8 is kept as it is (CJK and other scripts intact),
// except characters that move the cursor, change colours or reorder text:
// ASCII control characters (ESC, CR, BS, ...) and DEL become `\xNN`, C1
// controls and Unicode bidirectional overrides and isolates become
// `\u{NNNN}`, and bytes that are not valid UTF-8 become `\xNN`.
//
// CSV (RFC 4180, for spreadsheets): a cell that begins with `=`, `+`, `-`,
// `@`, a tab or a carriage return is prefixed with a single quote (OWASP
// CSV injection guidance), so a spreadsheet shows it as text instead of
// evaluating it; a cell holding a comma, quote, CR or LF is quoted, with
// quotes doubled.
//
// Thread contract: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace liandong::node {

// The length of the valid UTF-8 sequence at s[i] (1 for ASCII) with its code
// point in `cp`, or 0 where s[i] begins no valid sequence. i < s.size().
std::size_t utf8_at(std::string_view s, std::size_t i, uint32_t& cp);

// C1 controls, and the format characters that reorder displayed text
// (Trojan Source): LRM, RLM, ALM, embeddings, overrides and isolates.
bool hidden_control(uint32_t cp);

// One value in a line or table cell: every control character escaped,
// newline and tab included.
std::string terminal_field(std::string_view s);

// A whole block of output (the last guard before stdout and stderr): newline,
// CR before a newline (CSV's CRLF) and tab, the layout of the output itself,
// are kept; every other character
// terminal_field would escape becomes U+FFFD (ï¿½), which is valid
// inside the JSON and CSV a command prints as well.
std::string terminal_text(std::string_view s);

// One CSV cell of text from outside, neutralised and quoted as above.
std::string csv_cell(std::string_view s);

// One CSV cell the program computed itself (a count, "12.5%", "-"): quoted
// as above, not neutralised, so a figure stays a figure.
std::string csv_figure(std::string_view s);

}  // namespace liandong::node
