#include "config/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace liandong::config {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

InputFile failed(std::string why) {
  InputFile f;
  f.error = std::move(why);
  return f;
}

std::string not_regular(mode_t mode) {
  return std::string("is ") + kind_of(mode) + ", not a regular file";
}

std::string too_large(std::size_t max_bytes) {
  return "is larger than " + std::to_string(max_bytes) + " bytes, the most this file may hold";
}

}  // namespace

InputFile read_input_file(const std::filesystem::path& path, std::size_t max_bytes) {
  // A first look by name, so a device is not even opened (opening some has
  // effects); the check that counts is the one on the descriptor below.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return failed(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return failed(not_regular(st.st_mode));
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return failed(std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, &st) != 0) return failed(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return failed(not_regular(st.st_mode));
  if (st.st_size < 0 || static_cast<unsigned long long>(st.st_size) > max_bytes)
    return failed(too_large(max_bytes));
  InputFile f;
  f.bytes.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t got = 0;
  for (;;) {
    if (got == f.bytes.size()) {
      if (got > max_bytes) return failed(too_large(max_bytes));
      f.bytes.resize(std::min(max_bytes + 1, got * 2 + 4096));
    }
    const ssize_t n = ::read(fd, f.bytes.data() + got, f.bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed(std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) return failed(too_large(max_bytes));
  f.bytes.resize(got);
  f.ok = true;
  return f;
}

}  // namespace liandong::config
