#include "node/command_table.h"

namespace liandong::node {

const std::vector<CommandInfo>& command_table() {
  static const std::vector<CommandInfo> table = {
      {"init", true, Route::local},
      {"run", true, Route::local},
      {"config check", false, Route::local},
      {"status", false, Route::daemon},
      {"submit", true, Route::daemon},
      {"act", true, Route::daemon},
      {"case list", false, Route::read},
      {"case show", false, Route::read},
      {"case trace", false, Route::read},
      {"case reissue", true, Route::daemon},
      // `submit` and `act` with --attach run in the CLI's own process
      // (CliShared::run_here): the files may be larger than the control
      // socket carries; the daemon sees the new events within 20 ms.
      {"attachment list", false, Route::read},
      {"attachment get", false, Route::read},
      {"store check", false, Route::read},
      {"store events", false, Route::read},
      {"publish calendar", true, Route::daemon},
      {"publish catalog", true, Route::daemon},
      {"catalog publish", true, Route::daemon},
      {"catalog list", false, Route::read},
      {"catalog show", false, Route::read},
      {"calendar publish", true, Route::daemon},
      {"calendar show", false, Route::read},
      {"deadline show", false, Route::read},
      {"report", false, Route::read},
      // Long-running, with its own PostgreSQL connection: never in the daemon.
      {"export postgres", false, Route::local},
      {"audit", false, Route::read},
      {"keys show", false, Route::read},
      {"keys trust", true, Route::daemon},
      {"keys rotate", true, Route::daemon},
      {"keys revoke", true, Route::daemon},
      {"keys publish", true, Route::daemon},
      {"keys list", false, Route::read},
      {"quarantine", false, Route::read},
      {"roster publish", true, Route::daemon},
      {"roster show", false, Route::read},
      {"publish divisions", true, Route::daemon},
      {"divisions show", false, Route::read},
      // Inside the daemon it redials at once; without one it starts the
      // links itself (node/sync_commands.cpp).
      {"sync now", false, Route::read},
      // The CLI reads and checks the ledger itself and hands the daemon
      // its rows, batch by batch, as `import-rows` (node/import_commands.cpp).
      {"import", true, Route::local},
      {"import-rows", true, Route::read},
      // The desk's people file is locked while changed, so a running daemon
      // need not be asked; `desk info` reads what the daemon wrote.
      {"desk invite", false, Route::local},
      {"desk info", false, Route::local},
      {"desk cert", false, Route::local},
      // Codes and children change only in the daemon: it serves the joins.
      {"enroll create", true, Route::daemon},
      {"enroll remove", true, Route::daemon},
      {"enroll list", false, Route::read},
      {"join", true, Route::local},
      // In the CLI's own process: a backup reads the store beside a running
      // daemon (LMDB allows it); a restore refuses while one runs.
      {"backup", false, Route::local},
      {"restore", true, Route::local},
      // In the CLI's own process, as `submit --attach`: a bundle may be
      // larger than the control socket carries, and the file is the
      // caller's to read (the daemon's unit cannot see a USB stick).
      {"bundle export", false, Route::local},
      {"bundle import", true, Route::local},
      {"bundle show", false, Route::local},
  };
  return table;
}

const CommandInfo* find_command(std::string_view path) {
  for (;;) {
    for (const auto& c : command_table()) {
      if (c.path == path) return &c;
    }
    const auto space = path.rfind(' ');
    if (space == std::string_view::npos) return nullptr;
    path = path.substr(0, space);
  }
}

bool sent_to_daemon(std::string_view path) {
  const CommandInfo* c = find_command(path);
  return c != nullptr && c->route == Route::daemon;
}

bool daemon_takes(std::string_view path) {
  const CommandInfo* c = find_command(path);
  return c != nullptr && c->route != Route::local;
}

}  // namespace liandong::node
