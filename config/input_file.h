// Reading a file a person names (a config, a submission's JSON, a catalog,
// calendar or roster to publish, a key file): only a regular file, and only
// up to a size fixed per kind of file, so that /dev/zero, a FIFO, a
// directory, a terminal or a huge file gets a clear error at once instead
// of filling memory or blocking the process.
//
// The file is opened without blocking (O_NONBLOCK: opening a FIFO does not
// wait for a writer) and checked on the open descriptor (fstat: S_ISREG and
// st_size), so a file swapped between check and read is still caught; it is
// then read up to the limit plus one byte, so one that grows meanwhile is
// refused too. A symbolic link is followed, and its target judged.
//
// Used by config/ and, through node/input_files.h, by every command.
// Thread contract: pure function of the file system; any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace liandong::config {

struct InputFile {
  bool ok = false;
  std::string bytes;  // the whole file, when ok
  // When not ok: what is wrong, in English, without the file's name
  // ("is a directory, not a regular file", "is larger than 1048576 bytes").
  std::string error;
};

InputFile read_input_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace liandong::config
