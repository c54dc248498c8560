// The most a file named on the command line may hold, per kind (see
// config/input_file.h for how it is read, and docs/SECURITY.md, "Bounded
// input"). A file above its limit, or one that is not a regular file, is
// refused with one line before anything is read into memory or sent on.
//
//   config (TOML)                          1 MiB   (config/node_config.cpp)
//   submission (submit --json)              4 MiB  (protocol/submission_json.h)
//   notice (catalog, calendar, roster)   1020 KiB  one event must hold it
//   key file (DATA/keys/*)                  4 KiB
//
// Through a running daemon the CLI reads the file and sends its bytes with
// the command (protocol/control.capnp), at most kMaxForwardedFileBytes
// each; the daemon checks the kind's limit again on the bytes it received.
#pragma once

#include <cstddef>

#include "protocol/event_codec.h"
#include "protocol/submission_json.h"

namespace liandong::node {

constexpr std::size_t kMaxSubmissionFileBytes = kMaxSubmissionJsonBytes;
constexpr std::size_t kMaxNoticeFileBytes = kMaxEventBytes - 4096;
constexpr std::size_t kMaxKeyFileBytes = 4096;
constexpr std::size_t kMaxForwardedFileBytes = kMaxSubmissionJsonBytes;
static_assert(kMaxNoticeFileBytes <= kMaxForwardedFileBytes);

}  // namespace liandong::node
