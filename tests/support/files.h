// Files for tests: the source tree's example documents and the test data
// under tests/data/ (catalogs, calendars, rosters a test publishes), and
// whole-file reads and writes. For tests only.
//
// Thread contract: plain functions; call from any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace liandong::test {

// SOURCE_ROOT/REL: source_path("config/catalog-example.toml").
std::filesystem::path source_path(std::string_view rel);

// SOURCE_ROOT/tests/data/NAME.
std::filesystem::path test_data_path(std::string_view name);

// The bytes of tests/data/NAME; throws std::runtime_error if it cannot be read.
std::string test_data(std::string_view name);

// The bytes of `path`; "" if it cannot be read.
std::string read_text(const std::filesystem::path& path);

// Replaces `path` with `text`; throws std::runtime_error if it cannot be written.
void write_text(const std::filesystem::path& path, std::string_view text);

// Replaces every occurrence of `from` in the file at `path` with `to`;
// returns how many there were (the file is rewritten only when there were
// some). Throws std::runtime_error if it cannot be written.
std::size_t replace_in_file(const std::filesystem::path& path, std::string_view from,
                            std::string_view to);

}  // namespace liandong::test
