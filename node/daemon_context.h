// What a command run inside the daemon (sent over the control socket,
// protocol/control.capnp) uses instead of opening the store itself, and the
// handler the daemon runs such a command with. The daemon does not know the
// CLI: main's wiring (node/cli.cpp) hands it the handler, so neither
// includes the other.
//
// Thread contract: the daemon's loop thread builds a DaemonContext per
// command and calls the handler on that thread.
#pragma once

#include <filesystem>
#include <functional>

#include "config/node_config.h"
#include "node/identity.h"
#include "node/render.h"
#include "protocol/control_codec.h"
#include "storage/store.h"

namespace liandong::node {

class Enrollment;

struct DaemonContext {
  storage::Store* store = nullptr;
  Identity* identity = nullptr;          // `keys rotate` replaces its signing key
  std::filesystem::path data;            // the daemon's data directory
  std::function<StatusReport()> status;  // the daemon's links and totals
  // `sync now`: redial every upstream at once, send every peer what it lacks.
  std::function<void()> sync_now;
  const config::NodeConfig* cfg = nullptr;  // the running config
  Enrollment* enroll = nullptr;             // `enroll create|remove|list`
};

// Runs one checked request (decoded with its limits) on the daemon's store
// and returns what it printed and its exit code. Never throws.
using ControlHandler = std::function<ControlReply(const ControlRequest&, DaemonContext&)>;

}  // namespace liandong::node
