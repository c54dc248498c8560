// The `liandong` command line: parses arguments and runs one command.
//
// Every command prints one clear line on stderr and exits non-zero on
// failure, and writes nothing to the store when it fails. Exit codes:
// 0 done, 1 refused or failed, 2 bad arguments or bad input.
#pragma once

#include <filesystem>

#include <functional>
#include <string>
#include <vector>

#include "node/identity.h"
#include "node/render.h"
#include "storage/store.h"

namespace liandong::node {

int run_cli(int argc, char** argv);

// What a command run inside the daemon (sent over the control socket) uses
// instead of opening the store itself.
struct DaemonContext {
  storage::Store* store = nullptr;
  Identity* identity = nullptr;          // `keys rotate` replaces its signing key
  std::filesystem::path data;            // the daemon's data directory
  std::function<StatusReport()> status;  // the daemon's links and totals
  // `sync now`: redial every upstream at once, send every peer what it lacks.
  std::function<void()> sync_now;
};

// The daemon's context while a command runs inside it, else nullptr.
const DaemonContext* daemon_context();

// Runs one command sent over the control socket (the frames after the
// envelope: node/control_request.h, a command line without the program
// name and the files it names) on the daemon's store, capturing what it
// prints. The command reads its files from the frames only, never from
// the file system. Returns the exit code.
int run_cli_in_daemon(const std::vector<std::string>& frames, DaemonContext& ctx, std::string& out,
                      std::string& err);

}  // namespace liandong::node
