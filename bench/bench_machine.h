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
  std::string disk;         // its block device name, e.g. "vda" (empty if unknown)
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
// by this process, and bytes written to the bench dir's disk by everyone and
// by this process, so a run can say how much other work disturbed it.
struct Activity {
  double machine_busy_s = 0, self_s = 0, wall_s = 0;
  double disk_written_bytes = 0, self_written_bytes = 0;
};
// `disk` is the block device name of the bench dir ("vda"); may be empty.
Activity sample_activity(const std::string& disk);

// "other processes used 2.1 of 140 core-seconds (1 %) and wrote 3 MiB ...:
// quiet" for the time between two samples; `cores` is nproc.
std::string describe_disturbance(const Activity& from, const Activity& to, unsigned cores);

}  // namespace liandong::bench
