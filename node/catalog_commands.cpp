// The `liandong` commands of the catalog module (see node/commands.h).
#include "node/commands.h"

namespace liandong::node {

void add_catalog_commands(CLI::App& /*app*/, CliShared& /*shared*/, CommandSet& /*out*/) {}

}  // namespace liandong::node
