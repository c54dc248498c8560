// Checking a store that may be damaged, without crashing on it.
//
// LMDB maps data.mdb and trusts what it reads: a file cut short makes any
// read past its end a SIGBUS, and flipped bytes in a page can send LMDB
// into a wild read (SIGSEGV) or a failed assertion (abort). So:
//   - every open first reads the two meta pages with pread and refuses a
//     file shorter than the last page the newest meta names
//     (check_store_file), before anything is mapped;
//   - `store check` walks the store in a forked child process
//     (run_isolated): a signal or an assertion there ends the child, and
//     the parent reports it as a finding instead of dying with it.
//   - `store check --deep` also checks every stored event's signature
//     (verify_log): bytes changed inside a signed event are found even when
//     every index agrees with them.
//
// Thread contract: plain functions. run_isolated forks: call it only from
// a single-threaded process (the CLI), never inside the daemon.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::storage {

// corruption when data.mdb in `dir` is shorter than its newest meta page
// says, or its meta pages are unreadable or disagree; ok for a store that is
// absent, or empty when `allow_empty` (a create reuses what a create cut
// short left); not_found for an empty one otherwise (no store was made).
Status check_store_file(const std::filesystem::path& dir, bool allow_empty);

// What run_isolated saw: the lines the work emitted, and how it ended.
struct IsolatedRun {
  std::vector<std::string> lines;
  bool finished = false;  // the work returned (exit status 0)
  std::string ended;      // otherwise: how the child ended ("signal SIGBUS", ...)
};

// Runs `work` in a forked child. Each line it passes to `emit` (and each
// line the child writes to stderr, e.g. an LMDB assertion) reaches the
// parent at once, so what was found before a crash is kept. The child is
// killed after `timeout_ms`.
IsolatedRun run_isolated(
    const std::function<void(const std::function<void(std::string_view)>&)>& work, int timeout_ms);

// An event of the log whose signature does not check.
struct BadEvent {
  uint64_t lsn = 0;
  std::string id;      // origin-seq, or "" when the entry does not parse
  std::string origin;  // "" when the entry does not parse
  std::string problem;
};

struct LogVerdict {
  uint64_t events = 0;
  std::vector<BadEvent> bad;
  std::string digest;  // hex BLAKE2b of every (LSN, sealed bytes), in log order
};

// Checks the signature of every event in the log against the key
// directory held here (the signer the envelope names must be a key of the
// origin held here). `on_bad` is called as each bad event is found.
Result<LogVerdict> verify_log(const Store& store,
                              const std::function<void(const BadEvent&)>& on_bad);

}  // namespace liandong::storage
