#include "bench/bench_util.h"

#include <signal.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <system_error>

namespace liandong::bench {

namespace {

volatile sig_atomic_t g_interrupted = 0;

void on_signal(int) {
  g_interrupted = 1;
}

double cpu_of(int who) {
  struct rusage ru {};
  ::getrusage(who, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

}  // namespace

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string grouped(double v) {
  const std::string digits = std::to_string(static_cast<long long>(std::llround(v)));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && digits[i - 1] != '-' && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string mib(uint64_t kib) {
  return fmt("%.1f MiB", kib / 1024.0);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double self_cpu_s() {
  return cpu_of(RUSAGE_SELF);
}

double children_cpu_s() {
  return cpu_of(RUSAGE_CHILDREN);
}

void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() {
  return g_interrupted != 0;
}

void check_interrupted() {
  if (g_interrupted) throw std::runtime_error("interrupted");
}

std::filesystem::path default_liandong(const char* argv0) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) self = std::filesystem::absolute(argv0);
  return self.parent_path().parent_path() / "node" / "liandong";
}

}  // namespace liandong::bench
