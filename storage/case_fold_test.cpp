#include <catch2/catch.hpp>

#include "storage/case_fold.h"
