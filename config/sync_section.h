// The [sync] table of the config file: bounds of each setting and the
// relations between them (see SyncSettings in node_config.h). Internal to
// config/.
//
// Thread contract: a plain function; call from any thread.
#pragma once

#include <toml++/toml.h>

#include "config/node_config.h"
#include "config/toml_reader.h"

namespace liandong::config {

// Reads [sync] (`table` may be null: all defaults). Problems go to `reader`.
SyncSettings read_sync(Reader& reader, const toml::table* table);

}  // namespace liandong::config
