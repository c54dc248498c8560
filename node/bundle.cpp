#include "node/bundle.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "node/audit_log.h"
#include "node/key_directory.h"
#include "node/receipt_keeper.h"
#include "node/refusals.h"
#include "node/store_view.h"
#include "node/sync/batch_plan.h"
#include "node/sync_state.h"
#include "protocol/event_codec.h"
#include "storage/store_blobs.h"

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kDefaultLifeMs = 30ull * 24 * 3600 * 1000;
// Files whose levels a child asks in one bundle.
constexpr std::size_t kMaxAsks = 4096;
constexpr std::string_view kHavePrefix = "mule/have/";
constexpr std::string_view kAskPrefix = "mule/ask/";
constexpr std::string_view kAheadPrefix = "mule/ahead/";

std::string ahead_prefix(std::string_view peer) {
  return std::string(kAheadPrefix) + std::string(peer) + "/";
}

// What a link's session would read of this node: the log, keys, custody.
struct Local {
  explicit Local(const BundleNode& n)
      : node(n),
        audit(n.store, n.id.sign),
        keys(n.store, n.id.sign, n.cfg.code, n.cfg.upstreams.empty(), log, audit),
        view(n.cfg, n.store, keys, children, [this] { return top(); }) {
    for (const auto& c : n.children)
      children.emplace(c.code, c);
    audit.set_ready();
  }
  ~Local() { audit.flush(std::chrono::steady_clock::now(), true); }
  uint64_t top() const {
    auto c = read_custody(node.store);
    return c.ok() ? c->top : 0;
  }
  const BundleNode& node;
  std::map<std::string, config::Child> children;
  LogLimiter log;
  AuditLog audit;
  KeyDirectory keys;
  StoreView view;
};

struct Peer {
  std::string code;
  bool is_parent = false;  // it is one of our upstreams
  std::array<uint8_t, 32> curve{};
  std::optional<PublicKey> sign;
};

std::optional<Peer> find_peer(const BundleNode& n, const std::string& code) {
  Peer p;
  p.code = code;
  auto fill = [&](const std::string& curve_z85, const std::string& sign_hex) {
    auto c = from_z85(curve_z85);
    if (!c || c->size() != 32) return false;
    std::copy(c->begin(), c->end(), p.curve.begin());
    if (auto k = public_key_from_hex(sign_hex)) p.sign = *k;
    return true;
  };
  for (const auto& u : n.cfg.upstreams) {
    if (u.code != code) continue;
    p.is_parent = true;
    if (fill(u.curve_key, u.sign_key)) return p;
  }
  for (const auto& c : n.children) {
    if (c.code != code) continue;
    if (fill(c.curve_key, c.sign_key)) return p;
  }
  return std::nullopt;
}

Status no_peer(const BundleNode& n, const std::string& code) {
  std::string known;
  for (const auto& u : n.cfg.upstreams)
    known += (known.empty() ? "" : "、") + u.code + "（上级）";
  if (n.children.size() <= 8) {
    for (const auto& c : n.children)
      known += (known.empty() ? "" : "、") + c.code;
  } else {
    known += (known.empty() ? "" : "、") + std::to_string(n.children.size()) + " 个下级";
  }
  return Status::invalid(code + " 不是本节点 " + n.cfg.code + " 的上级或已登记的下级" +
                         (known.empty() ? std::string() : "（可选：" + known + "）") +
                         " (not a neighbour of this node)");
}

CustodyMark read_mark(const storage::Store& store, const std::string& key) {
  auto v = store.sync_get(key);
  if (!v.ok() || !*v) return {};
  return decode_custody(**v);
}

std::string encode_ahead(uint64_t to, const Id& last) {
  std::string v;
  put_be64(v, to);
  v += id_key(last);
  return v;
}

// ---- export ----

struct Budget {
  uint64_t max = 0;
  bool fits(const BundleWriter& w, std::size_t more) const { return w.bytes() + more + 64 <= max; }
};

Status add_chunks_of(const BundleNode& n, BundleWriter& w, const Budget& budget,
                     const storage::FileRecord& f, BundleExportReport& rep) {
  std::vector<std::string> chunks;
  for (const auto& hash : f.chunks) {
    auto bytes = n.store.chunk(hash);
    if (!bytes.ok()) return bytes.status();
    if (!*bytes) return Status::ok();  // not whole after all
    chunks.push_back(std::move(**bytes));
  }
  std::size_t total = 0;
  for (const auto& c : chunks)
    total += c.size() + 200;
  if (!budget.fits(w, total)) {
    rep.complete = false;
    return Status::ok();
  }
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    BundleItem it;
    it.kind = BundleItem::Kind::chunk;
    it.chunk = {f.sha256, f.chunks[i], std::move(chunks[i])};
    if (auto st = w.add(it); !st) return st;
  }
  ++rep.files;
  return Status::ok();
}

Status add_ranges(const Local& l, BundleWriter& w, const Budget& budget, const sync::Route& route,
                  uint64_t from, BundleExportReport& rep,
                  const std::function<void(const std::string&)>& each_event) {
  rep.from_lsn = rep.to_lsn = from;
  const sync::BatchLimits limits{512, 256 * 1024};
  for (int guard = 0; guard < 10'000'000; ++guard) {
    auto plan = sync::plan_batch(l.view, route, rep.to_lsn, limits);
    if (!plan.ok()) return plan.status();
    if (!*plan) return Status::ok();
    sync::PlannedBatch& p = **plan;
    if (!budget.fits(w, p.bytes + 256 * (p.events.size() + 1))) {
      rep.complete = false;
      return Status::ok();
    }
    for (const auto& e : p.events)
      each_event(e);
    BundleItem it;
    it.kind = BundleItem::Kind::range;
    it.range = {p.from, p.to, p.last_id, std::move(p.events)};
    if (auto st = w.add(it); !st) return st;
    rep.to_lsn = p.to;
  }
  return Status::ok();
}

// The first two items of either kind: the keys a handshake with `peer`
// carries, and our cursor of its log (returned).
Result<sync::CursorValue> start_bundle(const Local& l, BundleWriter& w, const std::string& peer,
                                       bool up) {
  BundleItem keys;
  keys.kind = BundleItem::Kind::keys;
  keys.keys = l.view.keys_for(peer, up);
  if (auto st = w.add(keys); !st) return st;
  auto rx = l.view.rx_cursor(peer);
  if (!rx.ok()) return rx.status();
  BundleItem have;
  have.kind = BundleItem::Kind::have;
  have.have = *rx;
  if (auto st = w.add(have); !st) return st;
  return *rx;
}

Result<BundleExportReport> export_up(const BundleNode& n, Local& l, const Peer& p, BundleWriter& w,
                                     const Budget& budget) {
  BundleExportReport rep;
  rep.kind = proto::BundleKind::UP;
  // What the parent holds of our log, as far as we know: its acks over the
  // link and its receipts. Custody stays here until a receipt says so.
  const uint64_t end = l.view.end();
  const uint64_t from = std::min(end, std::max(read_mark(n.store, custody_key(p.code)).acked,
                                               read_mark(n.store, mule_custody_key(p.code)).acked));
  if (auto rx = start_bundle(l, w, p.code, true); !rx.ok()) return rx.status();
  // Files not yet known at the county: the receipt says where they are.
  auto unconfirmed = n.store.unconfirmed(kMaxAsks);
  if (!unconfirmed.ok()) return unconfirmed.status();
  if (!unconfirmed->empty()) {
    BundleItem asks;
    asks.kind = BundleItem::Kind::asks;
    for (const auto& f : *unconfirmed)
      asks.asks.push_back(f.sha256);
    if (auto st = w.add(asks); !st) return st;
  }
  const sync::Route route{n.cfg.code, p.code, true, 0};
  if (auto st = add_ranges(l, w, budget, route, from, rep, [](const std::string&) {}); !st)
    return st;
  // Then the chunks of our subtree's whole files the parent lacks, of
  // events it holds or this bundle carries, oldest first.
  const uint8_t parent_bit = storage::level_bit(p.code);
  for (const auto& f : *unconfirmed) {
    if ((f.levels & parent_bit) != 0 || !f.whole) continue;
    if (!within(f.origin, n.cfg.code)) continue;
    if (f.lsn > rep.to_lsn) continue;
    if (auto st = add_chunks_of(n, w, budget, f, rep); !st) return st;
  }
  return rep;
}

Result<BundleExportReport> export_down(const BundleNode& n, Local& l, const Peer& p,
                                       BundleWriter& w, const Budget& budget) {
  BundleExportReport rep;
  rep.kind = proto::BundleKind::DOWN;
  // How far we hold the child's log (custody), and the county does.
  auto rx = start_bundle(l, w, p.code, false);
  if (!rx.ok()) return rx.status();
  BundleItem custody;
  custody.kind = BundleItem::Kind::custody;
  custody.custody.top = l.view.top_for_child(p.code, rx->lsn);
  if (auto asked = n.store.sync_get(std::string(kAskPrefix) + p.code); asked.ok() && *asked) {
    const std::string& a = **asked;
    for (std::size_t i = 0; i + 32 <= a.size(); i += 32) {
      auto f = n.store.file(a.substr(i, 32));
      if (f.ok() && *f && (*f)->whole)
        custody.custody.files.emplace_back((*f)->sha256, (*f)->levels);
    }
  }
  if (auto st = w.add(custody); !st) return st;
  // Refusals queued for the child (from above, and of its bundles here).
  auto relays = relays_for(n.store, p.code);
  if (!relays.ok()) return relays.status();
  if (!relays->empty()) {
    BundleItem refusals;
    refusals.kind = BundleItem::Kind::refusals;
    for (const auto& r : *relays)
      refusals.refusals.push_back(sync::Rejected{r.id, r.reason, r.by, r.cause, r.at_ms});
    if (auto st = w.add(refusals); !st) return st;
  }
  // What goes down to the child, from where it holds our log.
  uint64_t from = 0;
  if (auto had = n.store.sync_get(std::string(kHavePrefix) + p.code); had.ok() && *had) {
    auto c = sync::decode_cursor(**had);
    if (c.ok()) {
      auto match = sync::cursor_matches(l.view, *c);
      if (match.ok() && *match) from = c->lsn;
    }
  }
  std::vector<std::string> files;
  const sync::Route route{n.cfg.code, p.code, false, 0};
  auto named = [&](const std::string& sealed) {
    auto ev = EventView::parse(sealed);
    if (!ev.ok()) return;
    for (auto a : attachments_of(ev->event())) {
      auto sha = a.getSha256();
      files.emplace_back(reinterpret_cast<const char*>(sha.begin()), sha.size());
    }
  };
  if (auto st = add_ranges(l, w, budget, route, from, rep, named); !st) return st;
  std::set<std::string> seen;
  for (const auto& sha : files) {
    if (!seen.insert(sha).second) continue;
    auto f = n.store.file(sha);
    if (!f.ok()) return f.status();
    if (!*f || !(*f)->whole) continue;
    if (auto st = add_chunks_of(n, w, budget, **f, rep); !st) return st;
  }
  return rep;
}

// ---- import ----

// Moves our cursor of `peer`'s log over a range stored now, inside the
// transaction that stores it: only where it joins what we hold; a range
// ahead of it is remembered until the gap fills.
struct CursorMerge {
  std::string peer, store_id;
  HeldLog held;
  // rx/<peer> names `store_id`: the ahead entries are of that store.
  bool cursor_names_store = false;

  void apply(uint64_t from, uint64_t to, const Id& last, storage::SyncWriter& w, bool map,
             uint64_t* moved_to) {
    const HeldChange c = hold_range(held, from, to, last);
    for (uint64_t f : c.added) {
      const auto& [t, id] = held.ahead.at(f);
      w.put(ahead_prefix(peer) + be(f), encode_ahead(t, id));
    }
    for (uint64_t f : c.joined)
      w.del(ahead_prefix(peer) + be(f));
    if (c.moved || (!c.added.empty() && !cursor_names_store)) {
      w.put(rx_key(peer), sync::encode_cursor(sync::CursorValue{store_id, held.lsn, held.at}));
      cursor_names_store = true;
      if (map) {
        std::string v;
        put_be64(v, held.lsn);
        w.put(map_key(peer, w.last_lsn()), v);
      }
      *moved_to = held.lsn;
    }
  }
  static std::string be(uint64_t v) {
    std::string s;
    put_be64(s, v);
    return s;
  }
};

Result<CursorMerge> load_merge(const storage::Store& store, const std::string& peer,
                               const std::string& peer_store, std::vector<std::string>* stale) {
  CursorMerge m;
  m.peer = peer;
  m.store_id = peer_store;
  sync::CursorValue cur;
  auto v = store.sync_get(rx_key(peer));
  if (!v.ok()) return v.status();
  if (*v) {
    auto c = sync::decode_cursor(**v);
    if (c.ok()) cur = *c;
  }
  auto rows = store.sync_scan(ahead_prefix(peer));
  if (!rows.ok()) return rows.status();
  // Another store of the peer (replaced or restored elsewhere): what we
  // hold of the old one says nothing of the new one's positions.
  // Ahead entries are of the store the cursor names (it is written with
  // the first of them); any other store's are dropped.
  if (cur.store_id != peer_store) {
    for (const auto& [k, val] : *rows)
      stale->push_back(k);
    if (cur.lsn > 0) return m;  // positions of another store of the peer
  }
  m.cursor_names_store = cur.store_id == peer_store;
  m.held.lsn = cur.lsn;
  m.held.at = cur.at;
  const std::size_t prefix = ahead_prefix(peer).size();
  for (const auto& [k, val] : *rows) {
    if (!m.cursor_names_store) break;
    if (k.size() != prefix + 8 || val.size() < 8) continue;
    const uint64_t from = get_be64(std::string_view(k).substr(prefix));
    m.held.ahead[from] = {get_be64(val), id_from_key(std::string_view(val).substr(8))};
  }
  return m;
}

}  // namespace

std::string mule_custody_key(std::string_view parent) {
  return "mule/" + std::string(parent);
}

Result<BundleExportReport> export_bundle(const BundleNode& n, const BundleExport& what) {
  auto peer = find_peer(n, what.for_code);
  if (!peer) return no_peer(n, what.for_code);
  Local l(n);
  BundleHeader h;
  h.kind = peer->is_parent ? proto::BundleKind::UP : proto::BundleKind::DOWN;
  h.from = n.cfg.code;
  h.to = peer->code;
  h.from_store = n.store.store_id();
  h.created_ms = n.now_ms;
  h.expires_ms = what.expires_ms != 0 ? what.expires_ms : n.now_ms + kDefaultLifeMs;
  auto w = BundleWriter::create(what.to, h, n.id.sign, peer->curve);
  if (!w.ok()) return w.status();
  const Budget budget{what.max_bytes};
  auto rep =
      peer->is_parent ? export_up(n, l, *peer, **w, budget) : export_down(n, l, *peer, **w, budget);
  if (!rep.ok()) return rep.status();
  if (auto st = (*w)->finish(); !st) return st;
  rep->counts = (*w)->counts();
  rep->bytes = (*w)->bytes();
  return rep;
}

Result<BundleImportReport> import_bundle(const BundleNode& n, const fs::path& file) {
  // The sender's key: one the key directory holds as active (a rotated
  // key), else the config's, the enrolled child's or the first one held —
  // never one the directory says is retired or revoked (a stolen laptop's).
  const storage::KeyRing ring = n.store.keyring();
  std::optional<storage::KeyState> judged;
  auto key_ok = [&](const std::string& from, const PublicKey& key) {
    auto peer = find_peer(n, from);
    if (!peer) return false;
    if (const storage::KeyRecord* r = ring.find(from, key)) {
      judged = r->state;
      return r->state == storage::KeyState::active;
    }
    if (peer->sign && *peer->sign == key) return true;
    auto held = n.store.key(from);
    return held.ok() && *held && **held == key;
  };
  auto open = [&]() -> Result<std::unique_ptr<BundleReader>> {
    auto in = std::make_unique<std::ifstream>(file, std::ios::binary);
    if (!*in) return Status::invalid("无法打开 " + file.string());
    auto r = BundleReader::open(std::move(in), n.cfg.code, n.id.curve, n.now_ms, key_ok);
    if (!r.ok() && judged && *judged != storage::KeyState::active)
      return Status::invalid(std::string("数据包的签名密钥已") +
                             (*judged == storage::KeyState::revoked ? "吊销" : "停用") +
                             "（如设备被盗），不予导入 (signing key " +
                             storage::key_state_name(*judged) + ")");
    return r;
  };
  // First the whole file: nothing is stored unless every record is sound.
  BundleImportReport rep;
  {
    auto r = open();
    if (!r.ok()) return r.status();
    rep.header = (*r)->header();
    if (!find_peer(n, rep.header.from)) return no_peer(n, rep.header.from);
    for (int guard = 0;; ++guard) {
      auto item = (*r)->next();
      if (!item.ok()) return item.status();
      if (!*item) break;
      const bool up = rep.header.kind == proto::BundleKind::UP;
      const auto k = (*item)->kind;
      if ((up && k == BundleItem::Kind::custody) || (up && k == BundleItem::Kind::refusals) ||
          (!up && k == BundleItem::Kind::asks))
        return Status::invalid("数据包内容与方向不符 (item not allowed in this bundle kind)");
    }
  }
  const Peer peer = *find_peer(n, rep.header.from);
  const bool up = rep.header.kind == proto::BundleKind::UP;
  if (up == peer.is_parent)
    return Status::invalid("数据包方向不对：" + rep.header.from +
                           (peer.is_parent ? " 是本节点的上级" : " 是本节点的下级") +
                           " (bundle kind does not match the sender)");
  Local l(n);
  std::vector<std::string> stale;
  auto merge = load_merge(n.store, peer.code, rep.header.from_store, &stale);
  if (!merge.ok()) return merge.status();
  if (!stale.empty())
    if (auto st = n.store.sync_erase(stale); !st) return st;
  rep.cursor_before = rep.cursor_after = merge->held.lsn;
  ReceiptKeeper receipts(n.store, n.id.sign, n.cfg.code);
  const bool custody_map = !peer.is_parent && !n.cfg.upstreams.empty();
  const sync::Authority authority{n.cfg.code, peer.code, peer.is_parent, false};
  const uint8_t sender_bits = storage::level_bit(peer.code);
  std::vector<sync::Rejected> rejected;
  CustodyMark mark = read_mark(n.store, mule_custody_key(peer.code));
  const CustodyMark mark_before = mark;

  auto r = open();
  if (!r.ok()) return r.status();
  for (;;) {
    auto item = (*r)->next();
    if (!item.ok()) return item.status();  // the file changed since the check
    if (!*item) break;
    BundleItem& it = **item;
    switch (it.kind) {
      case BundleItem::Kind::keys:
        l.keys.accept(peer.code, peer.is_parent, it.keys);
        break;
      case BundleItem::Kind::have:
        if (peer.is_parent) {
          // How far the parent holds our log: custody, if it names ours.
          auto match = sync::cursor_matches(l.view, it.have);
          if (match.ok() && *match && it.have.store_id == n.store.store_id())
            mark.acked = std::max(mark.acked, it.have.lsn);
        } else {
          const std::string key = std::string(kHavePrefix) + peer.code;
          auto old = n.store.sync_get(key);
          sync::CursorValue was;
          if (old.ok() && *old)
            if (auto c = sync::decode_cursor(**old); c.ok()) was = *c;
          if (was.store_id != it.have.store_id || it.have.lsn > was.lsn)
            if (auto st = n.store.sync_put(key, sync::encode_cursor(it.have)); !st) return st;
        }
        break;
      case BundleItem::Kind::asks: {
        std::string all;
        for (const auto& a : it.asks)
          all += a;
        if (auto st = n.store.sync_put(std::string(kAskPrefix) + peer.code, all); !st) return st;
        break;
      }
      case BundleItem::Kind::custody: {
        mark.top = std::max(mark.top, std::min(it.custody.top, mark.acked));
        if (auto st = n.store.add_file_levels(it.custody.files); !st) return st;
        break;
      }
      case BundleItem::Kind::refusals: {
        std::vector<Refusal> got;
        for (const auto& x : it.refusals)
          got.push_back(Refusal{x.id, x.by, x.cause, x.reason, x.at_ms});
        std::vector<std::string> kids;
        for (const auto& c : n.children)
          kids.push_back(c.code);
        if (auto st = keep_refusals(n.store, got, peer.code, kids); !st) return st;
        rep.refusals += got.size();
        break;
      }
      case BundleItem::Kind::range: {
        const auto& g = it.range;
        const std::vector<OwedReceipt> owed = receipts.owed(g.events);
        storage::IngestOptions opts;
        opts.authorize = [&](const EventView& ev) {
          const auto& e = ev.event();
          return sync::authorize(authority, ev.id(),
                                 std::string_view(e.getHome().begin(), e.getHome().size()),
                                 is_broadcast(ev.kind()), is_lineage(ev.kind()));
        };
        uint64_t moved = 0;
        CursorMerge& m = *merge;
        opts.also = [&](storage::SyncWriter& w) {
          m.apply(g.from, g.to, g.last_id, w, custody_map, &moved);
          for (const auto& o : owed)
            w.put(receipt_key(o.handed), format_id(o.case_id));
        };
        const CursorMerge saved = m;
        auto results = n.store.ingest(g.events, opts);
        if (!results.ok()) {
          m = saved;
          return results.status();
        }
        for (std::size_t i = 0; i < results->size(); ++i) {
          const auto& x = (*results)[i];
          ++rep.events;
          if (x.outcome == storage::Outcome::stored) ++rep.stored;
          if (x.outcome == storage::Outcome::duplicate) ++rep.duplicates;
          if (x.outcome == storage::Outcome::rejected ||
              x.outcome == storage::Outcome::quarantined) {
            ++rep.rejected;
            auto info = sync::route_info(g.events[i]);
            if (!info.ok()) continue;
            const bool held = x.outcome == storage::Outcome::quarantined;
            const std::string reason =
                held ? "quarantined: " + x.status.message() : x.status.message();
            spdlog::warn("bundle from {}: event {} refused: {}", peer.code, format_id(info->id),
                         x.status.message());
            rejected.push_back(sync::Rejected{info->id, reason, n.cfg.code,
                                              refusal_cause(reason, held), n.now_ms});
          }
        }
        receipts.record(owed, *results);
        if (moved != 0) rep.cursor_after = moved;
        break;
      }
      case BundleItem::Kind::chunk: {
        ++rep.chunks;
        auto f = n.store.file(it.chunk.file);
        if (!f.ok()) return f.status();
        if (!*f || (*f)->whole) break;  // not wanted here, or held already
        auto done = n.store.put_chunk(it.chunk.file, it.chunk.hash, it.chunk.data, sender_bits);
        if (!done.ok()) {
          if (done.status().code() == Code::no_space) return done.status();
          spdlog::warn("bundle from {}: chunk refused: {}", peer.code, done.status().message());
          break;
        }
        ++rep.chunks_stored;
        if (*done) ++rep.files_completed;
        break;
      }
      case BundleItem::Kind::end:
        break;
    }
  }
  // Refused events of a child's bundle go back with the receipt (and the
  // next link session), as relayed refusals do.
  for (const auto& x : rejected) {
    Refusal rf{x.id, x.by, x.cause, x.reason, x.at_ms};
    if (auto st = n.store.sync_put(relay_prefix(peer.code) + id_key(x.id), encode_refusal(rf)); !st)
      return st;
  }
  if (peer.is_parent && (mark.acked != mark_before.acked || mark.top != mark_before.top)) {
    if (auto st = n.store.sync_put(mule_custody_key(peer.code), encode_custody(mark)); !st)
      return st;
  }
  rep.custody_acked = mark.acked;
  rep.custody_top = mark.top;
  return rep;
}

}  // namespace liandong::node
