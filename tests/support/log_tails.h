// For a test file that runs trees of real daemons (tests/net_fixture.h):
// on the first failed assertion of each test case, prints the tail of every
// live node's log to stderr while the tree still exists. Include it in one
// file of the test program, which defines CATCH_CONFIG_EXTERNAL_INTERFACES
// before its first include of Catch2.
//
// Thread contract: Catch2 calls the listener on the test's main thread.
#pragma once

#if !defined(CATCH_CONFIG_EXTERNAL_INTERFACES)
#error \
    "define CATCH_CONFIG_EXTERNAL_INTERFACES before including Catch2 to use tests/support/log_tails.h"
#endif

#include <catch2/catch.hpp>
#include <iostream>

#include "tests/net_fixture.h"

namespace liandong::test {

struct LogTailsOnFailure : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    name_ = info.name;
    dumped_ = false;
  }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.isOk() && !dumped_) {
      dumped_ = true;
      std::cerr << "\n----- a check failed in \"" << name_
                << "\"; tail of every node's log -----\n";
      Net::dump_live_logs(std::cerr, 40);
    }
    return TestEventListenerBase::assertionEnded(stats);
  }
  std::string name_;
  bool dumped_ = false;
};

CATCH_REGISTER_LISTENER(LogTailsOnFailure)

}  // namespace liandong::test
