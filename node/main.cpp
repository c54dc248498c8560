// liandong: one program for every level of the county / township / village
// service network. All the work is in node/cli.cpp and below.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

#include "node/cli.h"

namespace {

// The store is mapped: a data.mdb cut short while a process runs turns the
// next read past its end into SIGBUS. One clear line instead of a bare
// crash (opening a store refuses a short file before mapping it).
void on_sigbus(int) {
  static const char kLine[] =
      "错误：存储文件损坏或被截短 (SIGBUS: the store file is shorter than its "
      "pages): run `liandong store check --deep`\n";
  (void)!::write(STDERR_FILENO, kLine, sizeof kLine - 1);
  ::_exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  struct sigaction sa {};
  sa.sa_handler = on_sigbus;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, nullptr);
  try {
    return liandong::node::run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "错误：%s\n", e.what());
    return 1;
  }
}
