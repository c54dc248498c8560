// The control socket's messages (protocol/control.capnp) as plain values:
// one encoder and one checking decoder for each direction, used by the CLI
// (node/control.h call_daemon) and the daemon alike.
//
// Thread contract: pure functions.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/status.h"

namespace liandong {

// The whole request or reply, as the daemon's socket accepts it
// (ZMQ_MAXMSGSIZE).
constexpr std::size_t kMaxControlMessageBytes = std::size_t{16} << 20;
constexpr std::size_t kMaxControlArgs = 512;
constexpr std::size_t kMaxControlFiles = 16;

struct ControlRequest {
  std::vector<std::string> args;             // without the program name
  std::map<std::string, std::string> files;  // name as given -> bytes
};

struct ControlReply {
  int exit_code = 1;
  std::string out, err;
};

std::string encode_control_request(const ControlRequest& r);
// invalid: not a ControlRequest, larger than kMaxControlMessageBytes, more
// than kMaxControlArgs arguments or kMaxControlFiles files, an argument
// holding a NUL byte, a file larger than `max_file_bytes`, a file name
// empty or given twice.
Result<ControlRequest> decode_control_request(std::string_view bytes, std::size_t max_file_bytes);

std::string encode_control_reply(const ControlReply& r);
// invalid: not a ControlReply, or larger than kMaxControlMessageBytes.
Result<ControlReply> decode_control_reply(std::string_view bytes);

}  // namespace liandong
