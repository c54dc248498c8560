// Moved to node/sync/credit_window.h (the sync library).
#pragma once

#include "node/sync/credit_window.h"

namespace liandong::node {
using sync::CreditWindow;
}  // namespace liandong::node
