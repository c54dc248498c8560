// QR codes as SVG for the desk's pages: a case number on a receipt, the
// desk's address on a notice, printed or shown on screen and scanned by a
// phone. Drawn inside the binary (libqrencode), so the desk needs no internet.
//
// The SVG is compact: a white background and one <path> holding the dark
// modules, row by row, with a 4-module quiet zone in the viewBox,
// shape-rendering="crispEdges" and no width or height, so CSS sizes it.
// One module is one unit of the viewBox: a symbol of version V has
// 21 + 4 * (V - 1) modules a side and its viewBox is 8 units wider.
//
// No I/O, no clocks.
//
// Thread contract: any thread may call (libqrencode is built with pthread).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "protocol/status.h"

namespace liandong::desk {

// The longest text qr_svg encodes, in bytes: a case number or an address
// fits many times over; a longer text is a mistake, not something to scan.
constexpr std::size_t kMaxQrTextBytes = 200;

// A QR code of `text` (its bytes as they are, 8-bit mode, error correction
// level M, the smallest version that holds it) as an SVG document.
// invalid: `text` is empty or longer than kMaxQrTextBytes.
// internal: libqrencode failed (out of memory).
Result<std::string> qr_svg(std::string_view text);

}  // namespace liandong::desk
