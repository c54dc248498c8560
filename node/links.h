// The node's sync links: one Session (node/sync/session.h) per child and
// per upstream, the upstream policy, and the carrying out of what the
// sessions ask — messages through the ZeroMQ transport, batches into the
// store (authority, signatures, receipts, custody map, in one transaction),
// keys, refusals relayed down, custody marks kept. Abuse is charged here to
// the code a connection's key proves.
//
// Each message is decoded once (node/sync/messages.h) and handed to its
// session with the time; the session's actions are carried out in order.
//
// Thread contract: the daemon's loop thread only; it owns every socket
// and is the store's single writer.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/node_config.h"
#include "node/audit_log.h"
#include "node/key_directory.h"
#include "node/receipt_keeper.h"
#include "node/render.h"
#include "node/store_view.h"
#include "node/store_watch.h"
#include "node/sync/abuse.h"
#include "node/sync/clock.h"
#include "node/sync/custody.h"
#include "node/sync/session.h"
#include "node/sync/upstreams.h"
#include "node/transfers.h"
#include "node/zmq_transport.h"
#include "protocol/verify_pool.h"
#include "storage/store.h"

namespace liandong::node {

class Links {
 public:
  struct Deps {
    const config::NodeConfig& cfg;
    storage::Store& store;
    ZmqTransport& transport;
    AuditLog& audit;
    LogLimiter& log;
    KeyDirectory& keys;
    ReceiptKeeper& receipts;
    StoreWatch& store_watch;
    VerifyPool& verify;
    const sync::Clock& clock;
  };
  explicit Links(Deps deps);

  // A message from a child's connection: `user` is the code its key proves.
  void on_child_message(const std::string& routing_id, const std::string& user,
                        const std::string& bytes);
  // A message from upstream `i`.
  void on_upstream_message(std::size_t i, const std::string& bytes);
  // Timers: sessions, link events, dials, custody marks, local writes.
  void tick();
  // The log grew (a local write): every peer is sent what it lacks.
  void pump_all();
  // The network came back (`force`: a person asked, refused links too):
  // every upstream that is down, or waiting for its TCP connection, is
  // dialled at once.
  void redial_now(bool force);
  // The children admitted now (the config's and the enrolled ones,
  // node/enroll.h). A child no longer among them is sent Bye and its
  // session ends; every other link is left as it is.
  void set_admitted(const std::vector<config::Child>& children);
  // The config's [sync] timings changed (a reload): every session and the
  // upstream policy take them.
  void retune();
  // The config's [[upstream]] list changed (a reload): Bye to the
  // upstreams, then the upstream side starts again from the config.
  // Children's links are not touched.
  [[nodiscard]] Status reset_upstreams();
  // Clean stop: Bye to every peer, custody marks written.
  void stop();
  // One line per link for `liandong status`.
  std::vector<LinkReport> reports();
  uint64_t log_end() const { return view_.end(); }
  const Transfers& transfers() const { return transfers_; }

 private:
  struct Target {
    bool up = false;
    std::size_t index = 0;   // upstream
    std::string routing_id;  // child
  };
  struct Child {
    std::unique_ptr<sync::Session> session;
    std::string routing_id;
  };
  sync::Now now() const;
  void carry_out(sync::Session& s, sync::Actions actions, const Target& to);
  sync::IngestResult ingest(sync::Session& s, const sync::Ingest& in);
  void refuse(const std::string& rid, proto::RefusalReason reason, const std::string& text);
  void out_of_session(const std::string& rid, const std::string& user);
  bool abused(const std::string& code, const std::string& what);
  bool banned(const std::string& code) const;
  sync::Session& child(const std::string& code);
  void upstream_lost(std::size_t i, const std::string& why, bool refused);
  void tick_upstreams();
  void keep_refusals_from(const std::string& code, const std::vector<sync::Rejected>& list);
  void send_relays(const std::string& code);
  void forget_future_marks();
  void make_upstream_sessions();
  void note_parent_clock(const std::string& code, uint64_t parent_wall_ms);
  void note_refused_event(const std::string& code, const Id& id, const std::string& reason);
  uint64_t our_top() const;
  void persist_custody(bool force);
  std::vector<Transfers::Peer> transfer_peers() const;
  bool send_to(const std::string& code, const sync::Message& m);

  const config::NodeConfig& cfg_;
  storage::Store& store_;
  ZmqTransport& transport_;
  AuditLog& audit_;
  LogLimiter& log_;
  KeyDirectory& keys_;
  ReceiptKeeper& receipts_;
  StoreWatch& store_watch_;
  VerifyPool& verify_;
  const sync::Clock& clock_;
  std::map<std::string, config::Child> admitted_;
  StoreView view_;
  sync::UpstreamPolicy policy_;
  std::vector<std::unique_ptr<sync::Session>> ups_;
  std::map<std::string, Child> children_;
  sync::AbuseLedger abuse_;                                 // by authenticated code
  std::map<std::string, sync::TimePoint> told_no_session_;  // by authenticated code
  sync::TimePoint last_lsn_check_{}, custody_refreshed_{};
  sync::CustodyMarks custody_;
  bool custody_refresh_due_ = false;
  Transfers transfers_;
};

}  // namespace liandong::node
