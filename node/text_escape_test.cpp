#include "node/text_escape.h"

#include <catch2/catch.hpp>

#include "node/render.h"

using namespace liandong::node;

TEST_CASE("text escape: ANSI escapes and control characters are shown, not obeyed", "[node]") {
  // A name that would clear the screen and paint a fake line in red.
  const std::string hostile = "张三\x1b[2J\x1b[31m已办结\r\b\x07\x7f";
  const std::string shown = terminal_field(hostile);
  CHECK(shown == "张三\\x1B[2J\\x1B[31m已办结\\x0D\\x08\\x07\\x7F");
  CHECK(shown.find('\x1b') == std::string::npos);
  // A newline inside a field would forge a row of a table.
  CHECK(terminal_field("甲\n360723101007-000099") == "甲\\x0A360723101007-000099");
  CHECK(terminal_field("a\tb") == "a\\x09b");
}

TEST_CASE("text escape: CJK and other scripts stay intact", "[node]") {
  CHECK(terminal_field("农村宅基地建房 李四 Ülkü 𠀋") == "农村宅基地建房 李四 Ülkü 𠀋");
  CHECK(terminal_text("第一行\n\t第二行\n") == "第一行\n\t第二行\n");
  CHECK(terminal_text("a,b\r\nc,d\r\n") == "a,b\r\nc,d\r\n");
  CHECK(terminal_text("a\rb") ==
        "a\xef\xbf\xbd"
        "b");
}

TEST_CASE("text escape: C1 controls, bidi overrides and broken UTF-8 are escaped", "[node]") {
  CHECK(terminal_field("\xc2\x9b"
                       "31m") == "\\u{009B}31m");  // C1 CSI
  CHECK(terminal_field("abc\xe2\x80\xae"
                       "fed") == "abc\\u{202E}fed");  // RIGHT-TO-LEFT OVERRIDE
  CHECK(terminal_field("\xff\xfe") == "\\xFF\\xFE");
  CHECK(terminal_field("\xe4\xb8") == "\\xE4\\xB8");           // cut short
  CHECK(terminal_field("\xc0\xaf") == "\\xC0\\xAF");           // overlong '/'
  CHECK(terminal_field("\xed\xa0\x80") == "\\xED\\xA0\\x80");  // surrogate
}

TEST_CASE("text escape: whole output replaces what it cannot show, keeping JSON valid", "[node]") {
  const std::string out = terminal_text("{\"name\":\"a\x1b[31m\xe2\x80\xae\xff\"}\n");
  CHECK(out == "{\"name\":\"a\xef\xbf\xbd[31m\xef\xbf\xbd\xef\xbf\xbd\"}\n");
}

TEST_CASE("text escape: table padding escapes its cells first", "[node]") {
  const std::string cell = pad("王\x1b[8m", 10);
  CHECK(cell.rfind("王\\x1B[8m", 0) == 0);
  CHECK(cell.find('\x1b') == std::string::npos);
}

TEST_CASE("csv: formula cells are neutralised, cells with separators quoted", "[node]") {
  CHECK(csv_cell("=cmd|' /C calc'!A1") == "'=cmd|' /C calc'!A1");
  CHECK(csv_cell("=cmd|calc!A1") == "'=cmd|calc!A1");
  CHECK(csv_cell("+1") == "'+1");
  CHECK(csv_cell("-2+3") == "'-2+3");
  CHECK(csv_cell("@SUM(A1)") == "'@SUM(A1)");
  CHECK(csv_cell("\t=1") == "'\t=1");
  CHECK(csv_cell("\r=1") == "\"'\r=1\"");
  CHECK(csv_cell("=1,2") == "\"'=1,2\"");
  CHECK(csv_cell("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_cell("LY-001") == "LY-001");
  CHECK(csv_cell("上饶县林业局") == "上饶县林业局");
  CHECK(csv_cell("") == "");
  // A figure the program computed stays a figure.
  CHECK(csv_figure("-") == "-");
  CHECK(csv_figure("12.5%") == "12.5%");
}
