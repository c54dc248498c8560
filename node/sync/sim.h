// Test support (not part of the library): an in-memory log and store, and
// a simulated network of nodes running real Sessions and UpstreamPolicies
// over a ManualClock and an in-memory transport that can drop, duplicate,
// delay and reorder messages. What each node must end with is the routing
// rule's set (protocol/routing.h); check() says where it does not.
//
// Events here are not signed Cap'n Proto events: a sim event's bytes name
// its id, home and kind ("E|origin|seq|home|b|l|padding"), which the sim
// store reads back when it ingests them. The session never reads event
// bytes; the store does, in the daemon.
//
// Thread contract: single-threaded, like the daemon's loop.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "node/sync/clock.h"
#include "node/sync/session.h"
#include "node/sync/upstreams.h"

namespace liandong::sync::sim {

// A sim event's bytes and back.
std::string event_bytes(const RouteInfo& r, std::size_t pad = 0);
std::optional<RouteInfo> parse_event(std::string_view bytes);

// A log with dedup by event id and rx cursors: what the store keeps.
class MemStore final : public LogView {
 public:
  explicit MemStore(std::string store_id) : store_id_(std::move(store_id)) {}
  const std::string& store_id() const override { return store_id_; }
  uint64_t end() const override { return entries_.size(); }
  Status scan(uint64_t from, std::size_t limit,
              const std::function<bool(const LogEntry&)>& fn) const override;
  Result<std::optional<Id>> id_at(uint64_t lsn) const override;

  // Appends unless the id is held; true when appended.
  bool append(const RouteInfo& r, std::string bytes);
  bool holds(const Id& id) const { return ids_.count(id) > 0; }
  std::map<std::string, CursorValue> rx;
  // Fault injection: every read of the log fails.
  bool fail_reads = false;
  uint64_t max_seq(const std::string& origin) const;
  std::vector<Id> ids_in_log() const;

 private:
  struct Entry {
    RouteInfo route;
    std::string bytes;
  };
  std::string store_id_;
  std::vector<Entry> entries_;
  std::set<Id> ids_;
};

// A NodeView over a MemStore (the top of the tree holds what it holds).
class MemNode : public NodeView {
 public:
  explicit MemNode(std::string code, std::string store_id)
      : code_(std::move(code)), store(std::move(store_id)) {}
  const LogView& log() const override { return store; }
  Result<CursorValue> rx_cursor(const std::string& peer) const override;
  std::vector<KeyEntry> keys_for(const std::string&, bool) const override { return {}; }
  uint64_t next_seq_of(const std::string& code) const override { return store.max_seq(code) + 1; }
  uint64_t top_for_child(const std::string&, uint64_t rx_lsn) const override {
    return is_top ? rx_lsn : 0;
  }
  const std::string& code() const { return code_; }

  // Stores what an Ingest action carries, as the daemon's store does:
  // authority checked per event, dedup by id, the cursor with the batch.
  IngestResult ingest(const Ingest& in);

  std::string code_;
  MemStore store;
  bool is_top = false;
  bool fail_rx_reads = false;  // fault injection: the cursor read fails
};

struct Faults {
  double drop = 0;       // chance a message is lost
  double duplicate = 0;  // chance a message is delivered twice
  std::chrono::milliseconds delay{2};
  std::chrono::milliseconds jitter{0};  // extra random delay: reorders
};

class Network;

// One node of the simulated tree: its store, its sessions and its policy.
class Node : public MemNode {
 public:
  Node(Network& net, std::string code, std::vector<std::string> upstreams,
       std::vector<std::string> children);

  // A new event made here (a case homed at `home`, or a broadcast).
  Id make_event(const std::string& home, bool broadcast = false, bool lineage = false,
                std::size_t pad = 0);

  bool alive = true;
  std::vector<std::string> upstreams, children;
  std::unique_ptr<UpstreamPolicy> policy;
  std::vector<std::unique_ptr<Session>> ups;
  std::vector<uint64_t> up_conn;  // connection id per upstream (0: none)
  std::map<std::string, std::unique_ptr<Session>> kids;
  std::map<std::string, uint64_t> kid_conn;
  uint64_t next_seq = 1;
  uint64_t offences = 0, recovers_sent = 0, downs = 0;

  void reset_sessions();
  void tick();
  void deliver(uint64_t conn, bool from_child, const std::string& bytes);
  void conn_lost(uint64_t conn);
  void pump_all();

 private:
  void run(Session& s, Actions actions, uint64_t conn);
  Session& kid(const std::string& code);
  Now now() const;
  Network& net_;
};

class Network {
 public:
  explicit Network(uint64_t seed, config::SyncSettings settings);

  Node& add(const std::string& code, std::vector<std::string> upstreams,
            std::vector<std::string> children);
  Node& node(const std::string& code) { return *nodes_.at(code); }

  // Runs `ms` of simulated time in steps of `step`.
  void run(std::chrono::milliseconds ms,
           std::chrono::milliseconds step = std::chrono::milliseconds(10));
  // Runs until check() is empty or `limit` passes; returns whether it is.
  bool run_until_converged(std::chrono::milliseconds limit);
  // Every node's differences from the routing rule's set, as lines; empty
  // when every node holds exactly what belongs at it, each once.
  std::vector<std::string> check() const;

  // A node stops (its connections close; its store stays) and comes back.
  void kill(const std::string& code);
  void restart(const std::string& code);
  // A copy of a node's store, and its return in place of the current one
  // (a restore from an old backup).
  MemStore snapshot(const std::string& code) const { return nodes_.at(code)->store; }
  void restore(const std::string& code, const MemStore& copy);

  Faults faults;
  ManualClock clock;
  config::SyncSettings settings;
  std::mt19937_64 rng;
  uint64_t delivered = 0, dropped = 0;

  // Transport, for the nodes.
  uint64_t connect(const std::string& child, const std::string& parent);
  void close(uint64_t conn);
  void send(uint64_t conn, bool from_child, std::string bytes);
  // The child whose key a connection proves ("" when unknown).
  std::string connect_owner(uint64_t conn) const;
  std::vector<RouteInfo> made;  // every event made anywhere

 private:
  struct Conn {
    std::string child, parent;
    bool open = true;
  };
  struct Packet {
    uint64_t conn = 0;
    bool from_child = false;
    std::string bytes;
  };
  std::map<std::string, std::unique_ptr<Node>> nodes_;
  std::map<uint64_t, Conn> conns_;
  std::multimap<std::pair<TimePoint, uint64_t>, Packet> in_flight_;
  uint64_t next_conn_ = 1, next_packet_ = 1;
};

// The default timings of the simulated tree: fast, so that a minute of
// simulated time covers many timeouts.
config::SyncSettings fast_settings();

}  // namespace liandong::sync::sim
