// The frames of one command sent over the control socket (node/control.h):
// the command line's arguments, then the files it names, read by the CLI.
//
//   arg 1 | arg 2 | ... | arg n                      (no file)
//   arg 1 | ... | arg n | "\0files" | name | bytes | name | bytes ...
//
// "\0files" cannot be an argument (a command-line argument holds no NUL
// byte), so the split is unambiguous. Each file travels under the name the
// command line gives it; a command run in the daemon reads the file from
// these bytes (node/input_files.h) and never opens the path itself, so a
// FIFO or /dev/zero named on the command line cannot stall the daemon's
// event loop, and the daemon never reads a file the caller could not.
//
// Thread contract: pure functions.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "protocol/status.h"

namespace liandong::node {

struct ControlRequest {
  std::vector<std::string> args;
  std::map<std::string, std::string> files;  // name as given -> bytes
};

// The frames of `r`, in order.
std::vector<std::string> encode_control_request(const ControlRequest& r);

// Splits frames as received. Invalid when the file section is malformed
// (a name without bytes, a name twice) or a file exceeds `max_file_bytes`.
Result<ControlRequest> decode_control_request(const std::vector<std::string>& frames,
                                              std::size_t max_file_bytes);

}  // namespace liandong::node
