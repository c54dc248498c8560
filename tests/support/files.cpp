#include "tests/support/files.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace liandong::test {

std::filesystem::path source_path(std::string_view rel) {
  return std::filesystem::path(LIANDONG_SOURCE_DIR) / rel;
}

std::filesystem::path test_data_path(std::string_view name) {
  return source_path("tests/data") / name;
}

std::string test_data(std::string_view name) {
  const std::filesystem::path path = test_data_path(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read test data " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::size_t replace_in_file(const std::filesystem::path& path, std::string_view from,
                            std::string_view to) {
  std::string text = read_text(path);
  std::size_t at = 0, n = 0;
  while (!from.empty() && (at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
    ++n;
  }
  if (n > 0) write_text(path, text);
  return n;
}

}  // namespace liandong::test
