#include "node/transfers.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>

#include "storage/store_blobs.h"

namespace liandong::node {

namespace {

// The wanted files are read again at least this often (a pull elsewhere,
// by the CLI, may have completed one).
constexpr std::chrono::seconds kWantsEvery{5};
// The pull runs at least this often even when nothing happened.
constexpr std::chrono::seconds kPullEvery{1};
constexpr std::size_t kWantsRead = 256;

std::string short_hex(std::string_view sha) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < std::min<std::size_t>(sha.size(), 6); ++i) {
    out.push_back(kHex[static_cast<unsigned char>(sha[i]) >> 4]);
    out.push_back(kHex[static_cast<unsigned char>(sha[i]) & 15]);
  }
  return out;
}

}  // namespace

const Transfers::Peer* source_for(const std::string& origin,
                                  const std::vector<Transfers::Peer>& peers) {
  const Transfers::Peer* best = nullptr;
  for (const auto& p : peers)
    if (origin.starts_with(p.code) && (best == nullptr || p.code.size() > best->code.size()))
      best = &p;
  if (best != nullptr) return best;
  for (const auto& p : peers)
    if (p.parent) return &p;
  return nullptr;
}

Transfers::Transfers(storage::Store& store, sync::LogLimiter& log, const StoreWatch& watch,
                     Hooks hooks, std::chrono::milliseconds request_timeout)
    : store_(store),
      log_(log),
      watch_(watch),
      hooks_(std::move(hooks)),
      request_timeout_(request_timeout) {}

std::size_t Transfers::room_for_chunks() const {
  auto room = store_.blob_room();
  if (!room.ok()) return 0;
  if (!*room) return SIZE_MAX;
  std::size_t in_flight = 0;
  for (const auto& [code, list] : asked_)
    in_flight += list.size();
  const std::size_t fit = static_cast<std::size_t>(**room / kChunkBytes);
  return fit > in_flight ? fit - in_flight : 0;
}

bool Transfers::asked_anywhere(const std::string& hash) const {
  for (const auto& [code, list] : asked_)
    for (const auto& a : list)
      if (a.hash == hash) return true;
  return false;
}

void Transfers::tick(sync::TimePoint now) {
  const std::vector<Peer> peers = hooks_.peers();
  // A peer gone: what was asked of it is asked again elsewhere or later;
  // what it asked of us is forgotten (it asks again).
  for (auto it = asked_.begin(); it != asked_.end();) {
    const bool up =
        std::any_of(peers.begin(), peers.end(), [&](const Peer& p) { return p.code == it->first; });
    if (!up) {
      pull_due_ = pull_due_ || !it->second.empty();
      it = asked_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = queued_.begin(); it != queued_.end();) {
    const bool up =
        std::any_of(peers.begin(), peers.end(), [&](const Peer& p) { return p.code == it->first; });
    it = up ? std::next(it) : queued_.erase(it);
  }
  // Asks that timed out are asked again.
  for (auto& [code, list] : asked_) {
    const auto before = list.size();
    std::erase_if(list, [&](const Asked& a) { return now - a.at >= request_timeout_; });
    if (list.size() != before) {
      log_.info("chunk timeout", "{} chunk(s) asked of {} did not come: asking again",
                before - list.size(), code);
      pull_due_ = true;
    }
  }
  if (pull_due_ || now - pulled_ >= kPullEvery) pull(now, peers);
  serve(peers);
  if (now - custody_asked_ >= kCustodyEvery) ask_custody(now, peers);
}

void Transfers::pull(sync::TimePoint now, const std::vector<Peer>& peers) {
  pulled_ = now;
  pull_due_ = false;
  if (peers.empty() || watch_.full() || now < paused_until_) return;
  if (wants_stale_ || now - wants_read_ >= kWantsEvery) {
    auto w = store_.wanted(kWantsRead);
    if (!w.ok()) {
      log_.error("wanted files unreadable", "cannot read the wanted attachments: {}",
                 w.status().message());
      return;
    }
    wants_ = std::move(w).value();
    wants_stale_ = false;
    wants_read_ = now;
  }
  for (const auto& f : wants_) {
    auto retry = retry_after_.find(f.sha256);
    if (retry != retry_after_.end()) {
      if (now < retry->second) continue;
      retry_after_.erase(retry);
    }
    const Peer* from = source_for(f.origin, peers);
    if (from == nullptr) continue;
    auto& list = asked_[from->code];
    if (list.size() >= kInFlightPerPeer) continue;
    const std::size_t room = room_for_chunks();
    if (room == 0) {
      if (!short_of_room_)
        log_.warn("attachment store full",
                  "the attachment store's limit is reached: no chunk is asked until there is room");
      short_of_room_ = true;
      return;
    }
    short_of_room_ = false;
    auto missing = store_.missing_chunks(f, kInFlightPerPeer + list.size() + 4);
    if (!missing.ok()) {
      log_.error("chunks unreadable", "cannot read the chunks held: {}",
                 missing.status().message());
      return;
    }
    sync::ChunkRequest req;
    req.file = f.sha256;
    for (const auto& c : *missing) {
      if (list.size() + req.chunks.size() >= kInFlightPerPeer || req.chunks.size() >= room) break;
      if (!asked_anywhere(c)) req.chunks.push_back(c);
    }
    if (req.chunks.empty()) continue;
    if (!hooks_.send(from->code, req)) continue;
    for (const auto& c : req.chunks)
      list.push_back(Asked{f.sha256, c, now});
  }
}

void Transfers::serve(const std::vector<Peer>& peers) {
  for (auto& entry : queued_) {
    const std::string& code = entry.first;
    auto& queue = entry.second;
    auto p =
        std::find_if(peers.begin(), peers.end(), [&](const Peer& x) { return x.code == code; });
    if (p == peers.end() || !p->idle) continue;  // batches first
    while (!queue.empty()) {
      const auto [file, hash] = queue.front();
      sync::Chunk c;
      c.file = file;
      c.hash = hash;
      auto bytes = store_.chunk(hash);
      if (!bytes.ok()) {
        log_.error("chunk unreadable", "cannot read a chunk for {}: {}", code,
                   bytes.status().message());
        return;
      }
      if (*bytes) {
        c.data = std::move(**bytes);
      } else {
        c.missing = true;
      }
      const std::size_t n = c.data.size();
      if (!hooks_.send(code, c)) break;  // the pipe is full: later
      queue.pop_front();
      if (n > 0) {
        ++stats_.chunks_out;
        stats_.bytes_out += n;
      }
    }
  }
}

void Transfers::ask_custody(sync::TimePoint now, const std::vector<Peer>& peers) {
  custody_asked_ = now;
  auto parent = std::find_if(peers.begin(), peers.end(), [](const Peer& p) { return p.parent; });
  if (parent == peers.end()) return;
  auto files = store_.unconfirmed(sync::kMaxFilesPerQuery);
  if (!files.ok() || files->empty()) return;
  sync::FilesQuery q;
  for (const auto& f : *files)
    q.files.push_back(f.sha256);
  (void)hooks_.send(parent->code, q);
}

void Transfers::on_message(const std::string& code, const sync::Message& m, sync::TimePoint now) {
  if (const auto* req = std::get_if<sync::ChunkRequest>(&m)) {
    auto& queue = queued_[code];
    for (const auto& c : req->chunks) {
      // Asked again after a timeout while the first is still queued here:
      // sent once.
      if (std::find(queue.begin(), queue.end(), std::pair(req->file, c)) != queue.end()) continue;
      if (queue.size() >= kMaxQueuedPerPeer) {
        log_.warn("chunk requests dropped", "{} asked for more chunks than are queued for a peer",
                  code);
        break;
      }
      queue.emplace_back(req->file, c);
    }
    std::vector<Peer> peers = hooks_.peers();
    serve(peers);
  } else if (const auto* c = std::get_if<sync::Chunk>(&m)) {
    on_chunk(code, *c, now);
  } else if (const auto* q = std::get_if<sync::FilesQuery>(&m)) {
    sync::FilesHeld held;
    for (const auto& sha : q->files) {
      auto f = store_.file(sha);
      if (f.ok() && *f && (*f)->whole) held.files.emplace_back(sha, (*f)->levels);
    }
    (void)hooks_.send(code, held);
  } else if (const auto* h = std::get_if<sync::FilesHeld>(&m)) {
    if (auto s = store_.add_file_levels(h->files); !s)
      log_.error("custody unwritable", "cannot record where files are held: {}", s.message());
  }
}

void Transfers::on_chunk(const std::string& code, const sync::Chunk& c, sync::TimePoint now) {
  auto& list = asked_[code];
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const Asked& a) { return a.file == c.file && a.hash == c.hash; });
  if (it == list.end()) {
    log_.debug("chunk not asked", "a chunk {} did not ask for came from {}: dropped",
               short_hex(c.hash), code);
    return;
  }
  list.erase(it);
  // The peer is sending: what is still asked of it waits behind this
  // chunk on the link, so its time runs from now (a slow link is not a
  // lost chunk).
  for (auto& a : list)
    a.at = now;
  pull_due_ = true;
  if (c.missing) {
    retry_after_[c.file] = now + kMissingRetry;
    return;
  }
  // The origin made the file: it holds all of it.
  auto rec = store_.file(c.file);
  uint8_t from_levels = 0;
  if (rec.ok() && *rec && (*rec)->origin == code) from_levels = storage::level_bit(code);
  auto r = store_.put_chunk(c.file, c.hash, c.data, from_levels);
  if (!r.ok()) {
    if (r.status().code() == Code::no_space) {
      paused_until_ = now + kFullPause;
      log_.error("attachment store full", "chunk from {} refused, pulling paused: {}", code,
                 r.status().message());
    } else if (r.status().code() == Code::invalid) {
      ++stats_.refused;
      log_.warn("chunk refused", "chunk {} of file {} from {} refused ({}): asked again",
                short_hex(c.hash), short_hex(c.file), code, r.status().message());
    } else {
      paused_until_ = now + std::chrono::seconds(1);
      log_.error("chunk unwritable", "cannot store a chunk from {}: {}", code,
                 r.status().message());
    }
    return;
  }
  ++stats_.chunks_in;
  stats_.bytes_in += c.data.size();
  if (!*r) return;
  ++stats_.files_completed;
  wants_stale_ = true;
  auto done = store_.file(c.file);
  if (done.ok() && *done) {
    spdlog::info("attachment {} ({} bytes) held whole, the last chunk from {}", short_hex(c.file),
                 (*done)->size, code);
    sync::FilesHeld held;
    held.files.emplace_back(c.file, (*done)->levels);
    (void)hooks_.send(code, held);
  }
}

}  // namespace liandong::node
