// What every test file gets from the precompiled header of the tests
// (cmake/LiandongTests.cmake): Catch2 and the standard headers most tests
// use. Not included by name; a test still includes what it uses.
#pragma once

// Listener interfaces, for the tests that register a listener (flow_test,
// sync_test); they define it too, identically, before including Catch2.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>
