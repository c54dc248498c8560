// A tree of real `liandong run` daemons on 127.0.0.1 for the sync benchmark,
// and what the benchmark does to it and reads from it.
//
// The Tree lays out one directory per node under a scratch root
// (ROOT/CODE/data is the store and keys, ROOT/CODE/node.toml the generated
// config, ROOT/CODE/node.log the daemon's stdout and stderr), runs `liandong
// init` and `liandong keys show --json` for every node, writes configs (each
// node's parent as its one [[upstream]], its children as [[child]]), starts
// and stops the daemons, and talks to them over their control sockets
// (ZeroMQ REQ, the same messages as the CLI: protocol/control.capnp's
// ControlRequest with the command line without the program name; the reply
// a ControlReply: exit code, stdout, stderr).
//
// Also here: the per-process figures read from /proc (CPU time, peak and
// current RSS, the event-loop thread's scheduler state), the link counters
// of `status --json` (with a small JSON reader), an ArrivalWatch that polls
// a daemon's store from this process, and the workload: 1 KiB applications
// appended to village stores offline or sent as `submit` command lines.
//
// Thread contract: one thread builds the Tree and calls its members; a
// ControlClient is owned by one thread; ArrivalWatch documents its own; the
// free functions are plain (fill_offline runs its own threads, each on its
// own store). The Tree's destructor SIGKILLs the daemons it started and
// that still run (nothing else), waits for them, and leaves the scratch
// root to its owner. Every daemon gets PR_SET_PDEATHSIG, so a benchmark
// killed outright leaves none behind.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "protocol/ids.h"
#include "storage/store.h"
#include "tests/json_reader.h"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace liandong::bench {

// ---- JSON (the CLI's --json output): tests/json_reader.h ----------------------------------

using test::Json;
using test::parse_json;

// ---- processes ----------------------------------------------------------------------------

struct ProcStats {
  bool alive = false;
  double cpu_s = 0;       // utime + stime, all threads
  uint64_t hwm_kib = 0;   // VmHWM: peak resident set
  uint64_t rss_kib = 0;   // VmRSS = RssAnon + RssFile + RssShmem
  uint64_t anon_kib = 0;  // RssAnon: heap, stacks, ZeroMQ buffers
  uint64_t file_kib = 0;  // RssFile: mapped files, mostly the LMDB map's pages
};
ProcStats proc_stats(pid_t pid);
// Open file descriptors of `pid` (entries of /proc/PID/fd); -1 if unreadable.
int open_fds(pid_t pid);

// The main thread of `pid` (its event loop, for a daemon): scheduler state
// now ('R' running or runnable, 'S' sleeping, e.g. in zmq_poll, 'D' waiting
// for the disk, '?' gone) and, from /proc/PID/task/PID/schedstat, the
// seconds it ran and the seconds it waited for a CPU while runnable.
struct ThreadSample {
  char state = '?';
  double run_s = 0, runqueue_s = 0;
};
ThreadSample main_thread(pid_t pid);

// Runs `argv` (argv[0] a path), capturing stdout; stderr goes to `err`
// (may be null). Kills it after `timeout`. Returns the exit code (-1 if it
// did not exit normally or did not finish in time).
int run_capture(const std::vector<std::string>& argv, std::string* out, std::string* err,
                std::chrono::milliseconds timeout);

// ---- the control socket -------------------------------------------------------------------

struct ControlReply {
  int exit_code = 1;
  std::string out, err;
};

class ControlClient {
 public:
  ControlClient(zmq::context_t& ctx, std::string endpoint);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // nullopt when no reply came within `timeout` (the socket is then
  // replaced, as a REQ socket cannot send again before its reply).
  std::optional<ControlReply> call(const std::vector<std::string>& args,
                                   std::chrono::milliseconds timeout);

 private:
  void connect();
  zmq::context_t& ctx_;
  std::string endpoint_;
  std::unique_ptr<zmq::socket_t> sock_;
};

// ---- link counters (from `status --json`) ---------------------------------------------------

struct LinkCounters {
  uint64_t bytes_sent = 0, bytes_received = 0, batches_sent = 0, batches_received = 0;
};
// (node, peer) -> that node's counters of its link to that peer.
using LinkSnapshot = std::map<std::pair<std::string, std::string>, LinkCounters>;
// What `node`'s counters of its link to `peer` grew by from `before` to `after`.
LinkCounters link_delta(const LinkSnapshot& before, const LinkSnapshot& after,
                        const std::string& node, const std::string& peer);
// Bytes sent over every link by every node from `before` to `after`.
uint64_t bytes_sent_total(const LinkSnapshot& before, const LinkSnapshot& after);

// ---- arrivals at a store --------------------------------------------------------------------

// Polls a store (another process's, opened here and only read) every ~1 ms from
// its own thread for the ids handed to add(), and records when each first
// appears. Thread contract: add/arrival/pending from one other thread.
class ArrivalWatch {
 public:
  explicit ArrivalWatch(storage::Store& store);
  ~ArrivalWatch();  // stops and joins the polling thread
  ArrivalWatch(const ArrivalWatch&) = delete;
  ArrivalWatch& operator=(const ArrivalWatch&) = delete;

  void add(const Id& id);
  // When the i-th added id was first seen, if it was.
  std::optional<std::chrono::steady_clock::time_point> arrival(std::size_t i);
  std::size_t pending();  // added, not seen yet

 private:
  void loop();
  storage::Store& store_;
  std::mutex mu_;
  std::vector<Id> ids_;
  std::vector<std::optional<std::chrono::steady_clock::time_point>> arrived_;
  std::size_t found_ = 0, first_open_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// ---- the tree -----------------------------------------------------------------------------

struct NodeKeys {
  std::string code, sign_key, curve_key, store_id;
};

struct TreeNode {
  std::string code, parent;  // parent empty for the top
  std::filesystem::path dir, data, config, log;
  int port = 0;  // listen port (nodes with children), 0 until started
  NodeKeys keys;
  pid_t pid = -1;  // running daemon, or -1
  std::unique_ptr<ControlClient> control;
};

class Tree {
 public:
  // `nodes`: (code, parent code) pairs, parents listed before their
  // children. `sync_toml`: the body of each config's [sync] table (may be
  // empty: defaults). `log_level`: the daemons' level.
  Tree(std::filesystem::path liandong, std::filesystem::path root,
       std::vector<std::pair<std::string, std::string>> nodes, std::string sync_toml,
       std::string log_level);
  ~Tree();
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  // `liandong init` and `liandong keys show --json` for every node, on
  // `threads` threads.
  void init_all(unsigned threads = 1);

  // When on (before the first start), each node whose parent has a parent
  // lists that grandparent as its second [[upstream]] (a village dials the
  // county when its township is down, as config/examples/village.toml
  // does), and each node admits its grandchildren as [[child]] too.
  void set_fallback_to_grandparent(bool on) { fallback_ = on; }

  // Writes the node's config (a parent must be running: its port is known),
  // starts the daemon and waits (up to 15 s) until its control socket
  // answers `keys show` (which reads nothing from the store; a `status`
  // would scan the log for unacknowledged events and page the store in). A
  // listening node whose port was taken meanwhile is retried on another
  // port. Throws on failure.
  void start(const std::string& code);
  // Starts several nodes that do not listen (villages) at once: spawns
  // each, then waits for each as start() does. Throws on failure.
  void start_many(const std::vector<std::string>& codes);
  // SIGTERM, then waits up to 15 s; returns the exit code (-1: killed).
  int stop(const std::string& code);
  // Stops every running daemon, children first; returns false if one did
  // not exit with 0.
  bool stop_all();
  // SIGTERM to every node of `codes` that runs, at once, then waits for
  // each (up to 15 s); returns the codes that did not exit with 0.
  std::vector<std::string> stop_many(const std::vector<std::string>& codes);

  // A control call to a running node; throws if it fails or no answer came
  // within `timeout`.
  ControlReply control(const std::string& code, const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  // `status --json` of a running node.
  Json status(const std::string& code,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  // Whether `observer` sees its link to `peer` up (from its status).
  bool link_up(const std::string& observer, const std::string& peer);
  // Waits until each child's link is up as its parent sees it (a child's
  // own `status` would page its store in); throws after `limit`.
  void wait_links_up(const std::vector<std::string>& children, std::chrono::milliseconds limit);
  // Every running node's link counters.
  LinkSnapshot link_counters();

  TreeNode& node(const std::string& code);
  const std::vector<std::unique_ptr<TreeNode>>& nodes() const { return nodes_; }
  // Figures of the node's running daemon (all zero if none runs).
  ProcStats stats(const std::string& code);

 private:
  std::vector<const TreeNode*> children_of(const std::string& code) const;
  std::vector<const TreeNode*> admitted_by(const std::string& code) const;
  void init_one(TreeNode& n);
  void write_config(TreeNode& n);
  bool spawn_and_wait(TreeNode& n, std::string& why);
  void spawn(TreeNode& n);
  bool wait_ready(TreeNode& n, std::string& why);
  int wait_exit(TreeNode& n, std::chrono::milliseconds timeout);

  std::filesystem::path liandong_, root_;
  std::string sync_toml_, log_level_;
  bool fallback_ = false;
  std::unique_ptr<zmq::context_t> ctx_;
  std::vector<std::unique_ptr<TreeNode>> nodes_;
};

// ---- the workload ---------------------------------------------------------------------------

// One application for 农村宅基地建房 with the content bench_corpus gives its
// events (an applicant with a Chinese name, an 18-digit ID number, form
// fields, a material list: about 1 KiB sealed); `i` picks the applicant.
struct Application {
  std::string name, id_number, phone, address, group;
};
Application application(std::size_t i);

// Fills an event's actor and `submitted` body; Store::append_local sets the
// id, case, home and hlc.
void fill_submitted(proto::Event::Builder ev, const Application& a, const std::string& origin);

// The same application as a `liandong submit` command line (without the
// program name, with --json-out) for node `n`.
std::vector<std::string> submit_args(const TreeNode& n, const Application& a);

// Opens a node's store in this process; its daemon may be running (LMDB
// takes readers from other processes). Throws if it cannot.
std::unique_ptr<storage::Store> open_store(const TreeNode& n);
// Cases held (the workload makes each application its own case, so this
// counts applications; not the key directory broadcasts or audit records
// the daemons make themselves); throws on a store error.
uint64_t cases_in(const storage::Store& s);

// ---- the routing rule's sets ----------------------------------------------------------------

// What the routing rule (protocol/routing.h) needs to know of one event.
struct RoutedEvent {
  std::string origin, home;
  bool broadcast = false, lineage = false;
};
// Every event the store holds but its audit records (each node writes its
// own), by id; throws on a store error or an event that does not parse.
std::map<Id, RoutedEvent> routed_events(const storage::Store& s);
// `held`: each node's routed_events. The expected set of a node is every
// event any node holds (the events actually made: applications, the
// county's key directory broadcasts, key rotations) that belongs_at names
// for it. Returns an empty string if every node holds exactly its set,
// else what is missing and extra, per node (counts and a few ids).
std::string routing_mismatch(const std::map<std::string, std::map<Id, RoutedEvent>>& held);

// Appends `count` applications to the store of each node in `codes` (their
// daemons not running: work done offline), 1,000 per transaction, on
// `threads` threads; stops early when `stop` returns true. Returns the
// seconds taken; throws on a store error.
double fill_offline(Tree& tree, const std::vector<std::string>& codes, std::size_t count,
                    unsigned threads, const std::function<bool()>& stop);

}  // namespace liandong::bench
