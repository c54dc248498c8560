// The `liandong` command line: parses arguments and runs one command.
//
// Every command prints one clear line on stderr and exits non-zero on
// failure, and writes nothing to the store when it fails. Exit codes:
// 0 done, 1 refused or failed, 2 bad arguments or bad input.
#pragma once

#include "node/daemon_context.h"

namespace liandong::node {

int run_cli(int argc, char** argv);

// The daemon's context while a command runs inside it, else nullptr.
const DaemonContext* daemon_context();

// Runs one command sent over the control socket (a command line without
// the program name and the files it names: protocol/control.capnp) on the
// daemon's store, capturing what it prints. The command reads its files
// from the request only, never from the file system. The daemon's
// ControlHandler (node/daemon_context.h).
ControlReply run_cli_in_daemon(const ControlRequest& request, DaemonContext& ctx);

}  // namespace liandong::node
