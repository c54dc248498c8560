// The application layer (node/app/): typed operations — submit, act,
// publish, show, list, report, status — that hold the business rules every
// entry point shares. The CLI (node/cli.cpp), the control socket (a CLI
// command run inside the daemon) and the desk call them; they parse and
// render, nothing more.
//
// An operation takes a Context and a typed request and returns a value or
// an AppError (node/app/result.h). It never prints and never exits, reads
// no file (a request carries the bytes) and takes "now" from the context.
//
// Thread contract: an operation runs on a thread that may write `store`
// (the daemon's loop, or the CLI's only thread without a daemon).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "config/node_config.h"
#include "protocol/crypto.h"
#include "protocol/hlc.h"
#include "storage/store.h"

namespace liandong::app {

struct Context {
  storage::Store& store;
  const SigningKey& signer;  // the node's signing key: signs what it writes
  // The wall clock, in ms since the epoch (tests drive it).
  std::function<uint64_t()> now = wall_clock_ms;
  // What attached files may be and how photos are reduced
  // (node/app/attachments.h): the node config's [attachments].
  config::AttachmentSettings attachments{};

  const std::string& node_code() const { return store.code(); }
};

}  // namespace liandong::app
