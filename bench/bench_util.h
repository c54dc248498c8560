// Small helpers the benchmarks share: number formatting for their tables,
// timing, the process's CPU time, Ctrl-C handling, and where the daemon
// binary is.
//
// Thread contract: plain functions; the interrupt flag is set from a signal
// handler and read from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace liandong::bench {

// printf-style formatting of one number: fmt("%.1f s", 2.25) is "2.2 s".
std::string fmt(const char* format, double v);
// 1234567.4 -> "1,234,567".
std::string grouped(double v);
// "12.3 MiB" for a size in KiB.
std::string mib(uint64_t kib);

double seconds_since(std::chrono::steady_clock::time_point t0);
// User + system CPU seconds of this process (all threads), and of its
// children that have been waited for.
double self_cpu_s();
double children_cpu_s();

// SIGINT and SIGTERM set a flag instead of killing the benchmark, so that
// its loops (which call check_interrupted) stop the daemons it started and
// remove its scratch directory.
void catch_interrupts();
bool interrupted();
// Throws std::runtime_error("interrupted") once the flag is set.
void check_interrupted();

// The liandong binary of the build this benchmark belongs to
// (BUILD/node/liandong beside BUILD/bench/<benchmark>).
std::filesystem::path default_liandong(const char* argv0);

}  // namespace liandong::bench
