// liandong: one program for every level of the county / township / village
// service network. All the work is in node/cli.cpp and below.
#include <cstdio>
#include <exception>

#include "node/cli.h"

int main(int argc, char** argv) {
  try {
    return liandong::node::run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "liandong: error: %s\n", e.what());
    return 1;
  }
}
