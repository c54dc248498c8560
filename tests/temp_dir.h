// Moved to tests/support/temp_dir.h; kept for the files that still include it here.
#pragma once

#include "tests/support/temp_dir.h"  // IWYU pragma: export
