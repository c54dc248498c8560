#include <catch2/catch.hpp>

#include "storage/store.h"
