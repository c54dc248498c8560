// Moved to node/sync/abuse.h (the sync library).
#pragma once

#include "node/sync/abuse.h"

namespace liandong::node {
using sync::AbuseLedger;
using sync::claimed_code;
using sync::LogLimiter;
using sync::make_routing_id;
using sync::printable;
}  // namespace liandong::node
