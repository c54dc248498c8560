// Every command of `liandong`, declared once: its name path, whether it
// writes the store, and where it runs. The CLI asks this table whether to
// send a command to a daemon running on the same data directory; the
// daemon asks it whether to take a command from its control socket.
//
// Thread contract: pure functions over a constant table.
#pragma once

#include <string_view>
#include <vector>

namespace liandong::node {

enum class Route {
  // Runs in the CLI's own process only; the daemon refuses it (init, run,
  // config check).
  local,
  // Sent to the daemon when one runs on the data directory, so its single
  // writer takes it and sends it on at once (every write; status, which
  // only the daemon knows in full). Without a daemon the CLI runs it itself.
  daemon,
  // A read: the CLI runs it itself; the daemon also takes it.
  read,
};

struct CommandInfo {
  std::string_view path;  // "case list"; "act" covers every action
  bool writes;            // writes the store (or the node's keys)
  Route route;
};

const std::vector<CommandInfo>& command_table();

// The entry for `path` ("case list", "act accept"): the longest entry that
// is `path` or a leading part of it, word by word; nullptr for none.
const CommandInfo* find_command(std::string_view path);

// Whether the CLI sends `path` to a running daemon, and whether the daemon
// takes it from its control socket. Unknown commands: neither.
bool sent_to_daemon(std::string_view path);
bool daemon_takes(std::string_view path);

}  // namespace liandong::node
