// The commands behind the CLI, one function each, shared by cli.cpp.
//
// Thread contract: called once per process from main's thread.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/identity.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::node {

// Carried out a command failed: printed as "liandong: error: <message>".
// `refused`: the input was well formed but the node will not take the
// action (the workflow does not allow it here and now): exit code 1.
struct CommandError {
  Status status;
  bool refused = false;
};

int exit_code(const Status& s);

// Options every action shares.
struct ActorOptions {
  std::string name;
  std::string role;  // agent, clerk, reviewer, officer, director (or Chinese)
  std::string staff_id;
  std::string on_behalf_of;  // AB角: the primary (A) this backup acts for
};

struct Opened {
  std::unique_ptr<storage::Store> owned;  // empty inside the daemon (its store)
  storage::Store* store = nullptr;
  Identity identity;
};
// Opens the store and keys in `data`, or throws CommandError. Inside the
// daemon (a command from the control socket) it hands out the daemon's.
Opened open_node(const std::filesystem::path& data);

// Fills the actor of an event from the options (default role from level).
void fill_actor(proto::Actor::Builder b, const ActorOptions& a, const std::string& node_code);

}  // namespace liandong::node
