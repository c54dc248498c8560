// Moved to node/sync/redial.h (the sync library).
#pragma once

#include "node/sync/redial.h"

namespace liandong::node {
using sync::kConnectTimeout;
using sync::kLinkRedialCap;
using sync::redial_delay;
}  // namespace liandong::node
