// A tree of real `liandong run` processes for integration tests.
//
// `Net` lays out one directory per node under a temporary root
// (ROOT/CODE/data is the store and keys, ROOT/CODE/node.toml the generated
// config, ROOT/CODE/node.log the daemon's stdout and stderr across restarts),
// inits every store, reads every node's public keys and writes configs that
// name upstreams in preference order, the children that list the node as an
// upstream, loopback listen ports chosen below the kernel's ephemeral range,
// and fast [sync] timings. Daemons are children of the test: `start`, `stop`
// (SIGTERM, then wait), `kill9`, `restart`; the destructor SIGKILLs the pids it
// started and nothing else. Each daemon is spawned with PR_SET_PDEATHSIG so a
// test killed by ctest's timeout leaves no daemon behind.
//
// `check_converged` is the invariant checker of DESIGN.md section 8: it reads
// every store (`store events --json`, `case list --json`) and compares each
// node's events with what the routing rule says it must hold.
//
// Thread contract: one thread (the test's main thread) builds the Net and
// calls every non-const member and `check_converged`. The const members
// (`cli`, `events`, `cases`, `status`, paths, keys) only read the layout and
// may be called from other threads meanwhile (scenario d submits from a
// second thread while the main thread restarts daemons).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/json_reader.h"
#include "tests/run_process.h"
#include "tests/support/temp_dir.h"

namespace liandong::test {

// ---- the tree ----------------------------------------------------------------------------

// One node: its division code and the codes of its upstreams in order of
// preference (empty for the top). Children are derived: every node that lists
// this one as an upstream.
struct NodeSpec {
  std::string code;
  std::vector<std::string> upstreams;
};

struct SyncTimings {
  int heartbeat_ms = 100;
  int peer_timeout_ms = 600;
  int ack_timeout_ms = 1000;
  int redial_min_ms = 50;
  int redial_max_ms = 500;
};

struct NodeKeys {
  std::string sign_key;   // 64 hex
  std::string curve_key;  // 40 Z85
  std::string store_id;
};

// One row of `store events --json`.
struct EventRow {
  std::string id, case_id, kind, origin, home;
  bool broadcast = false;
  std::uint64_t lsn = 0;
  // Re-issued by a later event of its case (the fold skips it); and the
  // code of a node that refused it, as this node knows ("" if none).
  bool superseded = false;
  std::string refused_by;
};

// One row of `case list --json`.
struct CaseRow {
  std::string case_id, status, home;
  bool conflict = false;
  std::uint64_t event_count = 0;
};

struct LinkRow {
  std::string peer, direction, state;  // direction "up" or "down"; state "up", "connecting", "down"
  bool active = false;                 // the upstream currently used
};

struct StatusRow {
  bool running = false;
  std::vector<LinkRow> links;
  std::uint64_t events = 0, cases = 0, last_lsn = 0;
};

// The outcome of one convergence check: ok, or a readable diff.
struct Convergence {
  bool ok = false;
  std::string report;      // empty when ok
  std::size_t events = 0;  // size of the union of all nodes' events
};

class Net {
 public:
  // Inits every node and writes every config. Throws std::runtime_error with
  // the CLI's stderr if a store cannot be made or a config does not check.
  explicit Net(std::vector<NodeSpec> nodes, SyncTimings timings = {});
  // SIGKILLs and reaps every daemon this Net started that still runs. With
  // LIANDONG_SYNCTEST_KEEP set in the environment the root is moved to
  // /tmp/liandong-synctest-kept.* for inspection instead of being removed.
  ~Net();
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  const std::vector<std::string>& codes() const { return order_; }
  const std::filesystem::path& root() const { return tmp_.path(); }
  std::filesystem::path node_dir(const std::string& code) const;
  std::filesystem::path data_dir(const std::string& code) const;
  std::filesystem::path config_path(const std::string& code) const;
  std::filesystem::path log_path(const std::string& code) const;
  const NodeKeys& keys(const std::string& code) const;
  // "tcp://127.0.0.1:PORT" for nodes with children, "" otherwise.
  std::string listen_endpoint(const std::string& code) const;

  // Starts the daemon and waits (bounded) until `status` reports it running.
  // Throws, with the log tail, if it exits or never becomes ready.
  void start(const std::string& code);
  void start_all();  // in the order the nodes were given
  // SIGTERM and wait up to 15 s. Returns the exit code (0 is a clean stop),
  // -1 if it died by a signal, -2 if it had to be SIGKILLed after the wait,
  // -3 if it was not running.
  int stop(const std::string& code);
  void kill9(const std::string& code);
  int restart(const std::string& code);  // stop, then start; returns stop's code
  bool running(const std::string& code);
  // Extra NAME=VALUE environment for the node's daemon from its next start
  // (e.g. LIANDONG_TEST_CLOCK_OFFSET_MS for a clock fault); {} clears it.
  void set_env(const std::string& code, std::vector<std::string> env) {
    node(code).env = std::move(env);
  }
  // TOML appended to the node's config (e.g. a [desk] table); takes
  // effect when the configs are written again (write_configs).
  void set_extra_config(const std::string& code, std::string text) {
    node(code).extra_config = std::move(text);
  }
  // Nodes whose daemon exited without being told to, with how it ended.
  std::vector<std::string> unexpected_exits();

  // Replaces the node's store with a fresh one (`init --force`, with
  // `--keep-keys` when keep_keys: the node keeps its key pairs, so its peers'
  // configs stay valid). Without keep_keys the node gets new keys and every
  // config is rewritten (restart the peers yourself). The daemon must be
  // stopped.
  void reinit(const std::string& code, bool keep_keys);
  // Rewrites every node's config.
  void write_configs();
  // Re-reads the key files of `code` (after `keys rotate --link`, say) and
  // rewrites every node's config; restart the nodes yourself.
  void refresh_keys(const std::string& code);

  // Runs `liandong ARGS... --data DATA(code)` (the --data goes last, so it
  // lands on the innermost subcommand).
  ProcessResult cli(const std::string& code, std::vector<std::string> args,
                    std::chrono::milliseconds deadline = std::chrono::seconds(30)) const;
  // Runs `liandong ARGS...` with nothing added.
  ProcessResult cli_raw(std::vector<std::string> args,
                        std::chrono::milliseconds deadline = std::chrono::seconds(30)) const;

  // Parsed views of the store; throw std::runtime_error if the CLI fails.
  std::vector<EventRow> events(const std::string& code) const;
  std::vector<CaseRow> cases(const std::string& code) const;
  StatusRow status(const std::string& code) const;
  // State of the link from `code` to `peer` per `status`, with "+active" when
  // it is the upstream in use: "up+active", "up", "connecting", ...; "" if
  // not listed.
  std::string link_state(const std::string& code, const std::string& peer) const;

  // The last `lines` lines of each node's log, headed by the node's code.
  std::string log_tails(std::size_t lines = 30) const;
  // Writes log_tails() of every Net alive in this process to `out` (used by
  // the test's failure listener).
  static void dump_live_logs(std::ostream& out, std::size_t lines = 30);

 private:
  struct Node {
    NodeSpec spec;
    std::vector<std::string> children;
    int port = 0;
    NodeKeys keys;
    pid_t pid = 0;                 // 0: not running (as far as we know)
    std::vector<std::string> env;  // extra environment of its daemon
    std::string extra_config;      // appended to its config
    std::string exit_note;         // how it ended, when it ended on its own
  };
  Node& node(const std::string& code);
  const Node& node(const std::string& code) const;
  void init_store(const std::string& code);
  void read_keys(const std::string& code);
  void write_config(const std::string& code);
  void append_log_marker(const std::string& code, const std::string& text) const;
  bool reap(Node& n, int* exit_code);  // true if it has exited

  TempDir tmp_;
  SyncTimings timings_;
  std::vector<std::string> order_;
  std::map<std::string, Node> nodes_;
};

// The China date (UTC+8) `days` after now, "YYYY-MM-DD".
std::string china_date_in(int days);

// Waits until `pred` holds: calls it, then at most every `interval`, until
// `timeout`. Returns whether it held. The number of calls is bounded too.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

// The invariant check: reads every node's store and checks that each node
// holds exactly the events (of the union over all nodes) that belongs_at names
// for it, each once (ids and LSNs distinct and dense), that an id means the
// same event everywhere, that every node lists each case it holds events of
// exactly once, and that all nodes holding a case report the same status,
// conflict flag and event count. Daemons that died unexpectedly are reported.
// An event some node refused (as any holder of it records) is not expected
// at that node nor above it; superseded events count in no case's events.
Convergence check_converged(Net& net);

// wait_until(check_converged(net).ok, timeout); returns the check that held,
// or the last one made (its report is the diff to print on failure).
Convergence wait_converged(Net& net, std::chrono::milliseconds timeout);

}  // namespace liandong::test
