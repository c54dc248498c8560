#include "bench/bench_machine.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace liandong::bench {

namespace {

std::string first_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("model name")) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

// The mount holding `dir`: the longest mount point that contains it.
std::string storage_of(const std::filesystem::path& dir, std::string* disk) {
  std::error_code ec;
  const std::string path = std::filesystem::canonical(dir, ec).string();
  std::ifstream in("/proc/self/mounts");
  std::string best_dev, best_mount, best_type;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string dev, mount, type;
    fields >> dev >> mount >> type;
    const bool contains = mount == "/" || path == mount || path.starts_with(mount + "/");
    if (contains && mount.size() >= best_mount.size()) {
      best_dev = dev;
      best_mount = mount;
      best_type = type;
    }
  }
  std::string out = best_type + " on " + best_dev + " (mounted at " + best_mount + ")";
  // Whether the block device claims to be a spinning disk.
  const auto name = std::filesystem::path(best_dev).filename().string();
  if (best_dev.starts_with("/dev/")) *disk = name;
  const std::string rot = first_line("/sys/block/" + name + "/queue/rotational");
  if (!rot.empty()) out += rot == "0" ? ", non-rotational" : ", rotational";
  return out;
}

double fdatasync_latency_us(const std::filesystem::path& dir) {
  TempDir tmp(dir);
  const auto file = tmp.path() / "probe";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0600);
  if (fd < 0) return 0;
  std::vector<char> page(4096, 'x');
  std::vector<double> us;
  for (int i = 0; i < 100; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (::pwrite(fd, page.data(), page.size(), 4096 * (i % 16)) < 0 || ::fdatasync(fd) != 0) break;
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  ::close(fd);
  if (us.empty()) return 0;
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

// "LMDB 0.9.24" without the release date.
std::string lmdb_version() {
  const std::string v = mdb_version(nullptr, nullptr, nullptr);
  return v.substr(0, v.find(':'));
}

}  // namespace

TempDir::TempDir(const std::filesystem::path& parent) {
  std::string tmpl = (parent / "liandong-bench.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("cannot make a directory under " + parent.string());
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string load_average() {
  std::istringstream in(first_line("/proc/loadavg"));
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

Activity sample_activity(const std::string& disk) {
  Activity a;
  std::istringstream stat(first_line("/proc/stat"));
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  a.machine_busy_s = (user + nice + system + irq + softirq + steal) / tick;
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  a.self_s = secs(ru.ru_utime) + secs(ru.ru_stime);
  a.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (!disk.empty()) {
    std::ifstream stats("/proc/diskstats");
    for (std::string line; std::getline(stats, line);) {
      std::istringstream f(line);
      std::string major, minor, name;
      double v[7] = {};
      f >> major >> minor >> name;
      for (double& x : v)
        f >> x;
      if (name == disk) a.disk_written_bytes = v[6] * 512;  // sectors written
    }
  }
  std::ifstream io("/proc/self/io");
  for (std::string line; std::getline(io, line);) {
    if (line.starts_with("write_bytes:")) a.self_written_bytes = std::stod(line.substr(12));
  }
  return a;
}

std::string describe_disturbance(const Activity& from, const Activity& to, unsigned cores) {
  const double others_cpu =
      std::max(0.0, (to.machine_busy_s - from.machine_busy_s) - (to.self_s - from.self_s));
  const double capacity = (to.wall_s - from.wall_s) * cores;
  const double share = capacity > 0 ? 100.0 * others_cpu / capacity : 0;
  const double mib = 1 << 20;
  const double self_mib = (to.self_written_bytes - from.self_written_bytes) / mib;
  const double others_mib =
      std::max(0.0, (to.disk_written_bytes - from.disk_written_bytes) / mib - self_mib);
  // Quiet: others took under 5 % of the CPU and wrote under a tenth of what this run did.
  const bool quiet = share < 5 && others_mib < 0.1 * self_mib + 1;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "other processes used %.1f of %.0f core-seconds (%.0f %%) and wrote %.0f MiB "
                "to the disk (this run: %.0f MiB): %s",
                others_cpu, capacity, share, others_mib, self_mib,
                quiet ? "quiet" : "NOT quiet, figures may be low");
  return buf;
}

Machine describe_machine(const std::filesystem::path& dir) {
  Machine m;
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  m.date = date;
  m.cores = static_cast<unsigned>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  m.cpu = cpu_model();
  struct utsname u;
  if (::uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
  m.storage = storage_of(dir, &m.disk);
  m.load_before = load_average();
  m.fdatasync_us = fdatasync_latency_us(dir);
  m.libraries = std::string("libsodium ") + sodium_version_string() + ", " + lmdb_version() +
                ", g++ " + __VERSION__;
  return m;
}

std::string Machine::text() const {
  std::ostringstream out;
  out << "nproc:         " << cores << "\n"
      << "cpu:           " << cpu << "\n"
      << "kernel:        " << kernel << "\n"
      << "bench dir:     " << storage << "\n"
      << "fdatasync:     " << static_cast<long>(fdatasync_us + 0.5)
      << " us median (4 KiB write + fdatasync, bench dir)\n"
      << "libraries:     " << libraries << "\n"
      << "load before:   " << load_before << " (1, 5, 15 min)\n";
  return out.str();
}

}  // namespace liandong::bench
