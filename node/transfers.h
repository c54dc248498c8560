// Attachments moving over the sync links (DESIGN.md §4.6, docs/PROTOCOL.md
// "Attachments"): the receiver of an event that names a file pulls the
// file's chunks, checked against the hashes the signed event carries.
//
// Pulling. The store keeps the files wanted here (storage/store.h:
// recorded with the event that names them, so a restart resumes from the
// chunks held). Each wanted file, oldest first, is asked of the peer it
// most likely sits at: the up session whose code is the longest prefix of
// the file's origin (the child whose subtree made it), else the upstream
// in use. At most kInFlightPerPeer chunks are asked of a peer at once — two,
// so the next chunk waits at the sender while one is on the wire and the
// link never idles for a round trip. A chunk not come within the request
// timeout (the link's peer_timeout, counted from the last chunk that
// peer sent: one queued behind another is not late) is asked again, and a
// sender queues a chunk asked twice once; a peer that lacks a
// chunk (it is pulling the file itself) is asked again after kMissingRetry.
// A chunk that does not hash to what was asked is refused, counted and
// asked again. While the store is full or past its attachment limit,
// nothing is asked (a node short of disk refuses chunks as it refuses
// batches), and the pull resumes when there is room.
//
// Serving. A request is queued for its peer and answered, chunk by chunk,
// only while none of our batches to that peer waits for its ack: event
// batches go first, so a case reaches the county before its photos.
//
// Custody. A node that completes a file tells the peer it pulled it from
// (FilesHeld); every kCustodyEvery a node asks its upstream which of its
// whole files not yet known at the county are held above (FilesQuery), so
// `case show` and the desk can say 本机 / 已达乡镇 / 已达县 per file.
//
// Thread contract: the daemon's loop thread only, as node/links.h.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "node/store_watch.h"
#include "node/sync/abuse.h"
#include "node/sync/clock.h"
#include "node/sync/messages.h"
#include "storage/store.h"

namespace liandong::node {

class Transfers {
 public:
  static constexpr std::size_t kInFlightPerPeer = 2;
  static constexpr std::chrono::seconds kMissingRetry{5};
  static constexpr std::chrono::seconds kCustodyEvery{10};
  static constexpr std::chrono::seconds kFullPause{10};
  // At most this many chunk requests are queued for one peer; more are
  // dropped (the peer asks again after its timeout).
  static constexpr std::size_t kMaxQueuedPerPeer = 64;

  // A session that is up, as the links see it.
  struct Peer {
    std::string code;
    bool parent = false;  // the upstream in use
    bool idle = false;    // no batch of ours waits for its ack
  };
  struct Hooks {
    std::function<std::vector<Peer>()> peers;
    // Sends `m` to the peer; false if it could not be sent now.
    std::function<bool(const std::string& code, const sync::Message& m)> send;
  };
  struct Stats {
    uint64_t chunks_in = 0, chunks_out = 0, bytes_in = 0, bytes_out = 0, refused = 0,
             files_completed = 0;
  };

  Transfers(storage::Store& store, sync::LogLimiter& log, const StoreWatch& watch, Hooks hooks,
            std::chrono::milliseconds request_timeout);

  // An attachment message from peer `code` (whose session is up).
  void on_message(const std::string& code, const sync::Message& m, sync::TimePoint now);
  // Timers: asks, answers, custody.
  void tick(sync::TimePoint now);
  // Events were stored: there may be new files to pull.
  void wants_changed() { wants_stale_ = pull_due_ = true; }
  // A session came up: ask of it at once.
  void peer_up() { pull_due_ = true; }
  const Stats& stats() const { return stats_; }
  // Files wanted here as last read (for status).
  std::size_t wanted() const { return wants_.size(); }

 private:
  struct Asked {
    std::string file, hash;
    sync::TimePoint at;
  };
  void pull(sync::TimePoint now, const std::vector<Peer>& peers);
  void serve(const std::vector<Peer>& peers);
  void ask_custody(sync::TimePoint now, const std::vector<Peer>& peers);
  void on_chunk(const std::string& code, const sync::Chunk& c, sync::TimePoint now);
  bool asked_anywhere(const std::string& hash) const;
  // How many more chunks the attachment limit leaves room for, besides
  // those asked already.
  std::size_t room_for_chunks() const;

  storage::Store& store_;
  sync::LogLimiter& log_;
  const StoreWatch& watch_;
  Hooks hooks_;
  std::chrono::milliseconds request_timeout_;
  std::vector<storage::FileRecord> wants_;
  bool wants_stale_ = true, pull_due_ = true, short_of_room_ = false;
  sync::TimePoint wants_read_{}, pulled_{}, custody_asked_{}, paused_until_{};
  std::map<std::string, std::vector<Asked>> asked_;                                // by peer
  std::map<std::string, sync::TimePoint> retry_after_;                             // by file
  std::map<std::string, std::deque<std::pair<std::string, std::string>>> queued_;  // by peer
  Stats stats_;
};

// The peer a file is asked of: the up session whose code is the longest
// prefix of `origin`, else the upstream in use; nullptr if none is up.
const Transfers::Peer* source_for(const std::string& origin,
                                  const std::vector<Transfers::Peer>& peers);

}  // namespace liandong::node
