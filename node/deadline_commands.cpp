// The `liandong` commands of the deadline module (see node/commands.h).
#include "node/commands.h"

namespace liandong::node {

void add_deadline_commands(CLI::App& /*app*/, CliShared& /*shared*/, CommandSet& /*out*/) {}

}  // namespace liandong::node
