#include "storage/store_check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "protocol/ids.h"

namespace liandong::storage {

namespace fs = std::filesystem;

namespace {

// The LMDB 0.9 meta page (64-bit): page header (16 bytes), then MDB_meta:
// magic, version, address, mapsize, two MDB_db (the first's md_pad is the
// page size), last page number, txnid.
constexpr std::size_t kMetaMagicAt = 16, kMetaVersionAt = 20, kMetaPageSizeAt = 40,
                      kMetaLastPageAt = 136, kMetaTxnAt = 144, kMetaBytes = 152;
constexpr uint32_t kMdbMagic = 0xBEEFC0DE;
constexpr uint32_t kMdbDataVersion = 1;
static_assert(sizeof(std::size_t) == 8, "the meta page layout read here is LMDB's 64-bit one");

template <typename T>
T load(const std::array<unsigned char, kMetaBytes>& page, std::size_t at) {
  T v;
  std::memcpy(&v, page.data() + at, sizeof v);
  return v;
}

struct Meta {
  bool valid = false;
  uint64_t last_page = 0, txn = 0;
};

Meta read_meta(int fd, off_t at, uint32_t* page_size) {
  std::array<unsigned char, kMetaBytes> page{};
  Meta m;
  if (::pread(fd, page.data(), page.size(), at) != static_cast<ssize_t>(page.size())) return m;
  if (load<uint32_t>(page, kMetaMagicAt) != kMdbMagic ||
      load<uint32_t>(page, kMetaVersionAt) != kMdbDataVersion)
    return m;
  if (page_size != nullptr) *page_size = load<uint32_t>(page, kMetaPageSizeAt);
  m.last_page = load<uint64_t>(page, kMetaLastPageAt);
  m.txn = load<uint64_t>(page, kMetaTxnAt);
  m.valid = true;
  return m;
}

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

Status check_store_file(const fs::path& dir, bool allow_empty) {
  const fs::path path = dir / "data.mdb";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::ok();  // absent: open_env says so
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  uint32_t page_size = 0;
  Meta m0, m1;
  if (stat_ok && st.st_size > 0) {
    m0 = read_meta(fd, 0, &page_size);
    const bool size_ok =
        page_size >= 512 && page_size <= 65536 && (page_size & (page_size - 1)) == 0;
    if (m0.valid && size_ok) m1 = read_meta(fd, page_size, nullptr);
    if (!size_ok) m0.valid = false;
  }
  ::close(fd);
  if (!stat_ok) return Status::internal("cannot stat " + path.string());
  if (st.st_size == 0) {
    if (allow_empty) return Status::ok();
    // A create killed before its first commit: no store was made, exactly
    // as when the file holds no metadata yet (Store::open).
    return Status::not_found("no store in " + dir.string() + " (" + path.string() +
                             " is empty: an earlier init was interrupted: run `liandong init` "
                             "again with --force)");
  }
  const std::string damaged = "存储文件损坏 (store file damaged): " + path.string() + ": ";
  const std::string what_now =
      "; run `liandong store check --deep` and restore the store from a backup or from the "
      "neighbours";
  if (!m0.valid || !m1.valid)
    return Status::corruption(damaged + "its meta pages are unreadable" + what_now);
  // LMDB writes the meta page of transaction N to page N % 2: once
  // anything was committed, the two hold consecutive transaction numbers,
  // each on its own parity. A flipped number breaks that (and would have
  // LMDB silently open an older version of the store).
  const bool fresh = m0.txn == 0 && m1.txn == 0;
  if (!fresh && (m0.txn % 2 != 0 || m1.txn % 2 != 1 ||
                 (m0.txn > m1.txn ? m0.txn - m1.txn : m1.txn - m0.txn) != 1))
    return Status::corruption(damaged + "its two meta pages name transactions " +
                              std::to_string(m0.txn) + " and " + std::to_string(m1.txn) +
                              ", not two consecutive ones" + what_now);
  const Meta& m = m1.txn > m0.txn ? m1 : m0;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (m.last_page >= (uint64_t{1} << 40) || (m.last_page + 1) * page_size > size)
    return Status::corruption(
        damaged + "the file holds " + std::to_string(size) + " bytes, its last page ends at byte " +
        std::to_string((m.last_page + 1) * page_size) + " (the file was cut short)" + what_now);
  return Status::ok();
}

IsolatedRun run_isolated(
    const std::function<void(const std::function<void(std::string_view)>&)>& work, int timeout_ms) {
  IsolatedRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    run.ended = std::string("cannot make a pipe: ") + std::strerror(errno);
    return run;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    run.ended = std::string("cannot fork: ") + std::strerror(errno);
    return run;
  }
  if (pid == 0) {
    // The child: a crash here is the parent's finding, not a core dump.
    struct rlimit no_core {};
    ::setrlimit(RLIMIT_CORE, &no_core);
    for (int sig : {SIGBUS, SIGSEGV, SIGABRT, SIGFPE, SIGILL})
      ::signal(sig, SIG_DFL);
    ::close(fds[0]);
    ::dup2(fds[1], STDERR_FILENO);  // LMDB's assertion message comes as a line
    const int out = fds[1];
    int rc = 0;
    try {
      work([out](std::string_view line) {
        std::string l(line);
        for (char& c : l) {
          if (c == '\n') c = ' ';
        }
        l.push_back('\n');
        write_all(out, l);
      });
    } catch (const std::exception& e) {
      write_all(out, std::string("错误：") + e.what() + "\n");
      rc = 4;
    }
    ::_exit(rc);
  }
  ::close(fds[1]);
  std::string buf;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd p {
      fds[0], POLLIN, 0
    };
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char chunk[4096];
    const ssize_t got = ::read(fds[0], chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the child closed its end: it ended
    buf.append(chunk, static_cast<std::size_t>(got));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  for (std::size_t at = 0; at < buf.size();) {
    const std::size_t nl = buf.find('\n', at);
    const std::size_t end = nl == std::string::npos ? buf.size() : nl;
    if (end > at) run.lines.push_back(buf.substr(at, end - at));
    at = end + 1;
  }
  if (timed_out) {
    run.ended = "timeout after " + std::to_string(timeout_ms / 1000) + " s";
  } else if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    run.ended =
        std::string("signal SIG") + (abbrev != nullptr ? abbrev : std::to_string(sig).c_str());
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    run.finished = true;
  } else {
    run.ended = "exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return run;
}

Result<LogVerdict> verify_log(const Store& store,
                              const std::function<void(const BadEvent&)>& on_bad) {
  crypto_ready();
  LogVerdict verdict;
  crypto_generichash_state hash;
  crypto_generichash_init(&hash, nullptr, 0, 32);
  const KeyRing ring = store.keyring();
  Status failure;  // a store failure while looking up a key
  auto s = store.scan_log(0, ~std::size_t{0}, [&](uint64_t lsn, std::string_view bytes) {
    ++verdict.events;
    std::string head;
    put_be64(head, lsn);
    put_be64(head, bytes.size());
    crypto_generichash_update(&hash, reinterpret_cast<const unsigned char*>(head.data()),
                              head.size());
    crypto_generichash_update(&hash, reinterpret_cast<const unsigned char*>(bytes.data()),
                              bytes.size());
    BadEvent bad;
    bad.lsn = lsn;
    auto view = EventView::parse(bytes);
    if (!view.ok()) {
      bad.problem = "unreadable: " + view.status().message();
    } else {
      bad.id = format_id(view->id());
      bad.origin = view->id().origin;
      const auto held = store.key(bad.origin);
      if (!held.ok()) {
        failure = held.status();
        return false;
      }
      const std::optional<PublicKey> first = *held;
      const auto named = named_signer(*view);
      const auto key = named ? named : first;
      if (!key) {
        bad.problem = "no key of " + bad.origin + " is held here";
      } else if (named && named != first && ring.find(bad.origin, *named) == nullptr) {
        bad.problem = "signed with a key " + bad.origin + " does not hold";
      } else if (auto ok = check_signature(*view, *key); !ok) {
        bad.problem = "signature does not check: " + ok.message();
      }
    }
    if (!bad.problem.empty()) {
      if (on_bad) on_bad(bad);
      verdict.bad.push_back(std::move(bad));
    }
    return true;
  });
  if (!s) return s;
  if (!failure) return failure;
  std::array<unsigned char, 32> out{};
  crypto_generichash_final(&hash, out.data(), out.size());
  verdict.digest = to_hex(out);
  return verdict;
}

}  // namespace liandong::storage
