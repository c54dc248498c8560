// The `liandong` command line: parses arguments and runs one command.
//
// Every command prints one clear line on stderr and exits non-zero on
// failure, and writes nothing to the store when it fails. Exit codes:
// 0 done, 1 refused or failed, 2 bad arguments or bad input.
#pragma once

namespace liandong::node {

int run_cli(int argc, char** argv);

}  // namespace liandong::node
