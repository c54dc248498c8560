// The `liandong` commands of the report module (see node/commands.h).
#include "node/commands.h"

namespace liandong::node {

void add_report_commands(CLI::App& /*app*/, CliShared& /*shared*/, CommandSet& /*out*/) {}

}  // namespace liandong::node
