#include "config/input_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>

#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using liandong::config::read_input_file;
using liandong::test::TempDir;

namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("input file: a regular file within its limit is read whole", "[config]") {
  TempDir dir;
  write(dir.path() / "a.json", "{\"x\":1}");
  auto f = read_input_file(dir.path() / "a.json", 7);
  REQUIRE(f.ok);
  CHECK(f.bytes == "{\"x\":1}");
  auto empty = dir.path() / "empty";
  write(empty, "");
  CHECK(read_input_file(empty, 10).ok);
}

TEST_CASE("input file: devices, FIFOs, directories and oversized files are refused at once",
          "[config]") {
  TempDir dir;
  const auto started = std::chrono::steady_clock::now();
  SECTION("/dev/zero") {
    auto f = read_input_file("/dev/zero", 1 << 20);
    CHECK_FALSE(f.ok);
    CHECK_THAT(f.error, Contains("character device"));
  }
  SECTION("a symbolic link to /dev/zero") {
    std::filesystem::create_symlink("/dev/zero", dir.path() / "zero.json");
    auto f = read_input_file(dir.path() / "zero.json", 1 << 20);
    CHECK_FALSE(f.ok);
    CHECK_THAT(f.error, Contains("character device"));
  }
  SECTION("a FIFO with no writer does not block") {
    const auto fifo = dir.path() / "pipe.json";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto f = read_input_file(fifo, 1 << 20);
    CHECK_FALSE(f.ok);
    CHECK_THAT(f.error, Contains("FIFO"));
  }
  SECTION("a directory") {
    auto f = read_input_file(dir.path(), 1 << 20);
    CHECK_FALSE(f.ok);
    CHECK_THAT(f.error, Contains("directory"));
  }
  SECTION("one byte over the limit") {
    write(dir.path() / "big", std::string(1001, 'x'));
    auto f = read_input_file(dir.path() / "big", 1000);
    CHECK_FALSE(f.ok);
    CHECK_THAT(f.error, Contains("larger than 1000 bytes"));
    CHECK(read_input_file(dir.path() / "big", 1001).ok);
  }
  SECTION("missing") {
    auto f = read_input_file(dir.path() / "nope", 10);
    CHECK_FALSE(f.ok);
    CHECK_THAT(f.error, Contains("No such file"));
  }
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}
