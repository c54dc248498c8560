// Facts about the machine a benchmark ran on, and a scratch directory for
// its stores, so that every printed figure says where it came from.
#pragma once

#include <filesystem>
#include <string>

namespace liandong::bench {

// A fresh directory under `parent`, removed with its contents at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::filesystem::path& parent);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Machine {
  std::string date;         // UTC, ISO 8601
  unsigned cores = 0;       // online CPUs (nproc)
  std::string cpu;          // model name from /proc/cpuinfo
  std::string kernel;       // uname -r
  std::string storage;      // filesystem, device and mount point of the bench dir
  double fdatasync_us = 0;  // median latency of a 4 KiB write + fdatasync there
  std::string load_before;
  std::string libraries;  // libsodium, LMDB, compiler versions

  // Several "name: value" lines.
  std::string text() const;
};

// Describes this machine; `dir` is where the benchmark's stores live.
Machine describe_machine(const std::filesystem::path& dir);

// "0.12 0.30 0.25" from /proc/loadavg (1, 5 and 15 minutes).
std::string load_average();

// CPU time used on the whole machine (from /proc/stat, steal included) and
// by this process, so a run can say how much other work disturbed it.
struct CpuSample {
  double machine_busy_s = 0;
  double self_s = 0;
  double wall_s = 0;
};
CpuSample sample_cpu();

// "other processes used 2.1 of 140 core-seconds (1 %): quiet" for the time
// between two samples; `cores` is nproc.
std::string describe_disturbance(const CpuSample& from, const CpuSample& to, unsigned cores);

}  // namespace liandong::bench
