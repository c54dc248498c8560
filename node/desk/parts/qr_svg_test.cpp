#include "node/desk/parts/qr_svg.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using liandong::Code;
using liandong::desk::kMaxQrTextBytes;
using liandong::desk::qr_svg;

namespace {

// The SVG read back: the side of its viewBox and the dark cells of its one
// path, with the quiet zone.
struct Drawing {
  int side = 0;
  std::vector<std::vector<bool>> dark;  // [y][x]
  bool ok = false;
};

bool read_int(std::string_view& s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc()) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return true;
}

bool eat(std::string_view& s, std::string_view word) {
  if (!s.starts_with(word)) return false;
  s.remove_prefix(word.size());
  return true;
}

std::string_view between(std::string_view s, std::string_view open, std::string_view close) {
  const auto a = s.find(open);
  if (a == std::string_view::npos) return {};
  const auto b = s.find(close, a + open.size());
  if (b == std::string_view::npos) return {};
  return s.substr(a + open.size(), b - a - open.size());
}

Drawing read_svg(std::string_view svg) {
  Drawing d;
  std::string_view box = between(svg, "viewBox=\"", "\"");
  int w = 0;
  if (!eat(box, "0 0 ") || !read_int(box, d.side) || !eat(box, " ") || !read_int(box, w) ||
      w != d.side || !box.empty() || d.side <= 0) {
    return d;
  }
  d.dark.assign(static_cast<std::size_t>(d.side), std::vector<bool>(d.side, false));
  std::string_view path = between(svg, " d=\"", "\"");
  while (!path.empty()) {
    int x = 0, y = 0, n = 0, back = 0;
    if (!eat(path, "M") || !read_int(path, x) || !eat(path, " ") || !read_int(path, y) ||
        !eat(path, "h") || !read_int(path, n) || !eat(path, "v1h-") || !read_int(path, back) ||
        !eat(path, "z") || n != back || n <= 0 || x < 0 || y < 0 || y >= d.side || x + n > d.side) {
      return d;
    }
    for (int i = 0; i < n; ++i)
      d.dark[y][x + i] = true;
  }
  d.ok = true;
  return d;
}

// Modules a side of the smallest QR version holding `bytes` bytes in 8-bit
// mode at level M (ISO/IEC 18004 table 7: 14, 26, 42, 62, 84, 106, 122, 152,
// 180, 213 bytes for versions 1 to 10).
int expected_modules(std::size_t bytes) {
  const std::size_t capacity[] = {14, 26, 42, 62, 84, 106, 122, 152, 180, 213};
  for (int v = 1; v <= 10; ++v) {
    if (bytes <= capacity[v - 1]) return 21 + 4 * (v - 1);
  }
  return -1;
}

// The 7x7 finder pattern (dark ring, light ring, dark 3x3) with its light
// separator, at module (mx, my) of the symbol.
bool finder_at(const Drawing& d, int mx, int my) {
  for (int y = -1; y <= 7; ++y) {
    for (int x = -1; x <= 7; ++x) {
      const int ring = std::max(std::abs(x - 3), std::abs(y - 3));
      const bool want = ring != 2 && ring <= 3;
      const int px = 4 + mx + x, py = 4 + my + y;
      if (px < 4 || py < 4 || px >= d.side - 4 || py >= d.side - 4) continue;
      if (d.dark[py][px] != want) return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("qr svg: the SVG is one path in a viewBox sized by CSS", "[desk]") {
  auto svg = qr_svg("360723101007-000042");
  REQUIRE(svg.ok());
  const std::string& s = *svg;
  CHECK(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" "));
  CHECK(s.ends_with("</svg>"));
  const std::string_view open_tag = std::string_view(s).substr(0, s.find('>'));
  CHECK(open_tag.find("shape-rendering=\"crispEdges\"") != std::string_view::npos);
  CHECK(open_tag.find(" width=") == std::string_view::npos);
  CHECK(open_tag.find(" height=") == std::string_view::npos);
  CHECK(s.find("<path") == s.rfind("<path"));
  CHECK(s.find("<script") == std::string::npos);
  CHECK(s.size() < 4000);
}

TEST_CASE("qr svg: the same text gives the same SVG, another text another", "[desk]") {
  auto a = qr_svg("360723101007-000042");
  auto b = qr_svg("360723101007-000042");
  auto c = qr_svg("360723101007-000043");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(*a == *b);
  CHECK(*a != *c);
}

TEST_CASE("qr svg: the symbol has its version's size, finders and timing, in a quiet zone",
          "[desk]") {
  const std::string case_number = "360723101007-000042";
  for (const std::string& text :
       {std::string("A"), std::string(14, '7'), std::string(15, '7'), case_number,
        std::string("https://192.168.1.10:8701/cases/") + case_number, std::string(26, 'x'),
        std::string(27, 'x'), std::string("\0\x01\xff", 3),
        std::string("申请人 王小红 低保申请 360723101007-000042"),
        std::string(kMaxQrTextBytes, 'z')}) {
    CAPTURE(text, text.size());
    auto svg = qr_svg(text);
    REQUIRE(svg.ok());
    const Drawing d = read_svg(*svg);
    REQUIRE(d.ok);
    const int modules = expected_modules(text.size());
    REQUIRE(d.side == modules + 8);
    for (int i = 0; i < d.side; ++i) {
      for (int q = 0; q < 4; ++q) {
        CHECK_FALSE(d.dark[q][i]);
        CHECK_FALSE(d.dark[d.side - 1 - q][i]);
        CHECK_FALSE(d.dark[i][q]);
        CHECK_FALSE(d.dark[i][d.side - 1 - q]);
      }
    }
    CHECK(finder_at(d, 0, 0));
    CHECK(finder_at(d, modules - 7, 0));
    CHECK(finder_at(d, 0, modules - 7));
    CHECK_FALSE(finder_at(d, modules - 7, modules - 7));
    for (int i = 8; i < modules - 8; ++i) {
      CHECK(d.dark[4 + 6][4 + i] == (i % 2 == 0));  // row 6
      CHECK(d.dark[4 + i][4 + 6] == (i % 2 == 0));  // column 6
    }
    CHECK(d.dark[4 + modules - 8][4 + 8]);  // the dark module
  }
}

TEST_CASE("qr svg: empty or too long text is refused", "[desk]") {
  auto empty = qr_svg("");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == Code::invalid);
  CHECK(empty.status().message() == "二维码内容为空");

  auto longer = qr_svg(std::string(kMaxQrTextBytes + 1, 'a'));
  REQUIRE_FALSE(longer.ok());
  CHECK(longer.status().code() == Code::invalid);
  CHECK(longer.status().message() == "二维码内容过长: 201 字节 (最多 200)");

  CHECK(qr_svg(std::string(kMaxQrTextBytes, 'a')).ok());
}
