// Runs a program to completion for tests: argv in, exit code, stdout and
// stderr out, with a deadline after which the child is killed.
//
// Thread contract: plain function; each call owns its child.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace liandong::test {

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal or by the deadline
  std::string out, err;
  bool timed_out = false;
};

ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds deadline = std::chrono::seconds(30),
                          const std::vector<std::string>& extra_env = {});

}  // namespace liandong::test
