#include "node/sync/sim.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

#include "protocol/routing.h"

namespace liandong::sync::sim {

using std::chrono::milliseconds;

std::string event_bytes(const RouteInfo& r, std::size_t pad) {
  std::string out = "E|" + r.id.origin + "|" + std::to_string(r.id.seq) + "|" + r.home + "|" +
                    (r.broadcast ? "1" : "0") + "|" + (r.lineage ? "1" : "0") + "|";
  out.append(pad, '.');
  return out;
}

std::optional<RouteInfo> parse_event(std::string_view bytes) {
  std::vector<std::string> f;
  std::string cur;
  for (char c : bytes) {
    if (c == '|') {
      f.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (f.size() != 6 || f[0] != "E") return std::nullopt;
  RouteInfo r;
  r.id.origin = f[1];
  r.id.seq = std::stoull(f[2]);
  r.home = f[3];
  r.broadcast = f[4] == "1";
  r.lineage = f[5] == "1";
  return r;
}

Status MemStore::scan(uint64_t from, std::size_t limit,
                      const std::function<bool(const LogEntry&)>& fn) const {
  if (fail_reads) return Status::internal("injected read error");
  for (uint64_t lsn = from + 1; lsn <= entries_.size() && limit > 0; ++lsn, --limit) {
    const Entry& e = entries_[lsn - 1];
    if (!fn(LogEntry{lsn, &e.route, e.bytes})) break;
  }
  return Status::ok();
}

Result<std::optional<Id>> MemStore::id_at(uint64_t lsn) const {
  if (fail_reads) return Status::internal("injected read error");
  if (lsn == 0 || lsn > entries_.size()) return std::optional<Id>{};
  return std::optional<Id>(entries_[lsn - 1].route.id);
}

bool MemStore::append(const RouteInfo& r, std::string bytes) {
  if (!ids_.insert(r.id).second) return false;
  entries_.push_back(Entry{r, std::move(bytes)});
  return true;
}

uint64_t MemStore::max_seq(const std::string& origin) const {
  uint64_t m = 0;
  for (const auto& id : ids_)
    if (id.origin == origin) m = std::max(m, id.seq);
  return m;
}

std::vector<Id> MemStore::ids_in_log() const {
  std::vector<Id> out;
  for (const auto& e : entries_)
    out.push_back(e.route.id);
  return out;
}

Result<CursorValue> MemNode::rx_cursor(const std::string& peer) const {
  if (fail_rx_reads) return Status::internal("injected cursor read error");
  auto it = store.rx.find(peer);
  return it == store.rx.end() ? CursorValue{} : it->second;
}

IngestResult MemNode::ingest(const Ingest& in) {
  IngestResult r;
  r.events = in.events.size();
  for (const auto& bytes : in.events) {
    auto ev = parse_event(bytes);
    if (!ev) {
      r.rejected.push_back(Rejected{{}, "unreadable", code_, proto::RefusalCause::INVALID, 0});
      continue;
    }
    if (auto s = authorize(in.authority, ev->id, ev->home, ev->broadcast, ev->lineage); !s) {
      r.rejected.push_back(Rejected{ev->id, s.message(), code_, proto::RefusalCause::AUTHORITY, 0});
      continue;
    }
    if (store.append(*ev, bytes)) ++r.stored;
  }
  store.rx[in.authority.peer] = in.next;
  return r;
}

// ---------------------------------------------------------------------------

Node::Node(Network& net, std::string code, std::vector<std::string> ups_codes,
           std::vector<std::string> kids_codes)
    : MemNode(code, "store-" + code),
      upstreams(std::move(ups_codes)),
      children(std::move(kids_codes)),
      net_(net) {
  is_top = upstreams.empty();
  reset_sessions();
}

Now Node::now() const {
  return Now{net_.clock.now(), net_.clock.wall_ms()};
}

void Node::reset_sessions() {
  UpstreamPolicy::Settings ps{net_.settings.redial_min, net_.settings.redial_max,
                              net_.settings.peer_timeout};
  policy = std::make_unique<UpstreamPolicy>(upstreams.size(), ps, std::mt19937_64(net_.rng()));
  ups.clear();
  up_conn.assign(upstreams.size(), 0);
  for (const auto& u : upstreams)
    ups.push_back(std::make_unique<Session>(
        SessionSettings{code(), u, true, !upstreams.empty(), net_.settings}, *this));
  kids.clear();
  kid_conn.clear();
}

Id Node::make_event(const std::string& home, bool broadcast, bool lineage, std::size_t pad) {
  next_seq = std::max(next_seq, store.max_seq(code()) + 1);
  RouteInfo r;
  r.id = Id{code(), next_seq++};
  r.home = broadcast ? code() : home;
  r.broadcast = broadcast;
  r.lineage = lineage;
  store.append(r, event_bytes(r, pad));
  net_.made.push_back(r);
  return r.id;
}

Session& Node::kid(const std::string& c) {
  auto& s = kids[c];
  if (!s)
    s = std::make_unique<Session>(
        SessionSettings{code(), c, false, !upstreams.empty(), net_.settings}, *this);
  return *s;
}

void Node::pump_all() {
  for (std::size_t i = 0; i < ups.size(); ++i)
    run(*ups[i], ups[i]->pump(now()), up_conn[i]);
  for (auto& [c, s] : kids)
    run(*s, s->pump(now()), kid_conn[c]);
}

void Node::run(Session& s, Actions actions, uint64_t conn) {
  const bool up_side = s.settings().peer_is_parent;
  std::size_t index = 0;
  for (; up_side && index < upstreams.size(); ++index)
    if (ups[index].get() == &s) break;
  bool pump = false;
  for (auto& a : actions) {
    if (auto* send = std::get_if<Send>(&a)) {
      net_.send(conn, up_side, encode_message(send->message));
    } else if (auto* in = std::get_if<Ingest>(&a)) {
      const IngestResult r = ingest(*in);
      if (r.stored > 0) pump = true;
      run(s, s.on_ingested(r, now()), conn);
    } else if (std::holds_alternative<Up>(a)) {
      if (!up_side) continue;
      if (auto left = policy->welcomed(index, now().mono)) {
        ups[*left]->set_streaming(false);
        net_.send(up_conn[*left], true, encode_message(Bye{}));
        net_.close(up_conn[*left]);
        up_conn[*left] = 0;
        run(*ups[*left], ups[*left]->link_down(now(), "left for a preferred upstream"), 0);
      }
      for (std::size_t i = 0; i < ups.size(); ++i)
        ups[i]->set_streaming(policy->active() == i);
      pump = true;
    } else if (auto* down = std::get_if<Down>(&a)) {
      ++downs;
      if (!up_side) continue;
      net_.close(up_conn[index]);
      up_conn[index] = 0;
      policy->failed(index, now().mono, down->refused);
      s.set_streaming(false);
    } else if (std::holds_alternative<Offence>(a)) {
      ++offences;
    } else if (auto* seq = std::get_if<ReserveSeq>(&a)) {
      next_seq = std::max(next_seq, seq->next);
    } else if (std::holds_alternative<SendRelays>(a)) {
      s.relays_sent(false, now());
    } else if (auto* l = std::get_if<Log>(&a)) {
      spdlog::debug("[{}] {}", code(), l->text);
      if (std::string_view(l->kind) == "cursor does not match") ++recovers_sent;
    }
  }
  if (pump) pump_all();
}

void Node::deliver(uint64_t conn, bool from_child, const std::string& bytes) {
  if (!alive) return;
  auto m = decode_message(bytes, net_.settings.max_message_bytes + 4096);
  if (!m.ok()) {
    ++offences;
    return;
  }
  if (from_child) {
    // The connection's child code is what its key proves.
    std::string child;
    for (const auto& c : children)
      if (net_.connect_owner(conn) == c) child = c;
    if (child.empty()) return;
    if (const auto* h = std::get_if<Hello>(&*m)) {
      kid_conn[child] = conn;
      Session& s = kid(child);
      s.count_received(bytes.size());
      run(s, s.on_hello(*h, now()), conn);
      return;
    }
    auto it = kids.find(child);
    if (it == kids.end() || kid_conn[child] != conn) return;  // out of session
    it->second->count_received(bytes.size());
    run(*it->second, it->second->on_message(*m, now()), conn);
    return;
  }
  for (std::size_t i = 0; i < ups.size(); ++i) {
    if (up_conn[i] != conn) continue;
    ups[i]->count_received(bytes.size());
    run(*ups[i], ups[i]->on_message(*m, now()), conn);
    return;
  }
}

void Node::conn_lost(uint64_t conn) {
  if (!alive) return;
  for (std::size_t i = 0; i < ups.size(); ++i) {
    if (up_conn[i] != conn) continue;
    up_conn[i] = 0;
    run(*ups[i], ups[i]->link_down(now(), "connection lost"), 0);
    ups[i]->set_streaming(false);
    policy->failed(i, now().mono, false);
  }
}

void Node::tick() {
  if (!alive) return;
  const Now t = now();
  for (std::size_t i = 0; i < ups.size(); ++i)
    run(*ups[i], ups[i]->tick(t), up_conn[i]);
  for (auto& [c, s] : kids)
    run(*s, s->tick(t), kid_conn[c]);
  for (std::size_t i : policy->timed_out(t.mono)) {
    net_.close(up_conn[i]);
    up_conn[i] = 0;
    run(*ups[i], ups[i]->link_down(t, "did not answer"), 0);
    policy->failed(i, t.mono, false);
  }
  if (auto i = policy->due(t.mono)) {
    up_conn[*i] = net_.connect(code(), upstreams[*i]);
    policy->dialing(*i, t.mono);
    run(*ups[*i], ups[*i]->dial(t), up_conn[*i]);
  }
}

// ---------------------------------------------------------------------------

Network::Network(uint64_t seed, config::SyncSettings s) : settings(s), rng(seed) {}

Node& Network::add(const std::string& code, std::vector<std::string> upstreams,
                   std::vector<std::string> children) {
  auto n = std::make_unique<Node>(*this, code, std::move(upstreams), std::move(children));
  Node& ref = *n;
  nodes_[code] = std::move(n);
  return ref;
}

uint64_t Network::connect(const std::string& child, const std::string& parent) {
  const uint64_t id = next_conn_++;
  auto it = nodes_.find(parent);
  conns_[id] = Conn{child, parent, it != nodes_.end() && it->second->alive};
  return id;
}

std::string Network::connect_owner(uint64_t conn) const {
  auto it = conns_.find(conn);
  return it == conns_.end() ? std::string() : it->second.child;
}

void Network::close(uint64_t conn) {
  auto it = conns_.find(conn);
  if (it != conns_.end()) it->second.open = false;
}

void Network::send(uint64_t conn, bool from_child, std::string bytes) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second.open) return;
  std::uniform_real_distribution<double> p(0, 1);
  if (p(rng) < faults.drop) {
    ++dropped;
    return;
  }
  const int copies = p(rng) < faults.duplicate ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    milliseconds delay = faults.delay;
    if (faults.jitter.count() > 0)
      delay += milliseconds(std::uniform_int_distribution<int64_t>(0, faults.jitter.count())(rng));
    in_flight_.emplace(std::make_pair(clock.now() + delay, next_packet_++),
                       Packet{conn, from_child, bytes});
  }
}

void Network::run(milliseconds ms, milliseconds step) {
  for (milliseconds t{0}; t < ms; t += step) {
    clock.advance(step);
    while (!in_flight_.empty() && in_flight_.begin()->first.first <= clock.now()) {
      Packet pk = std::move(in_flight_.begin()->second);
      in_flight_.erase(in_flight_.begin());
      const Conn& c = conns_.at(pk.conn);
      if (!c.open) continue;
      ++delivered;
      nodes_.at(pk.from_child ? c.parent : c.child)->deliver(pk.conn, pk.from_child, pk.bytes);
    }
    for (auto& [code, n] : nodes_)
      n->tick();
  }
}

bool Network::run_until_converged(milliseconds limit) {
  for (milliseconds t{0}; t < limit; t += milliseconds(500)) {
    run(milliseconds(500));
    if (check().empty()) return true;
  }
  return check().empty();
}

std::vector<std::string> Network::check() const {
  std::vector<std::string> out;
  for (const auto& [code, n] : nodes_) {
    std::set<Id> want;
    for (const auto& r : made)
      if (belongs_at(code, RouteKey{r.id.origin, r.home, r.broadcast, r.lineage}))
        want.insert(r.id);
    const auto log = n->store.ids_in_log();
    const std::set<Id> have(log.begin(), log.end());
    if (have.size() != log.size())
      out.push_back(code + ": " + std::to_string(log.size() - have.size()) + " duplicates");
    std::size_t missing = 0, extra = 0;
    for (const auto& id : want)
      if (!have.count(id)) ++missing;
    for (const auto& id : have)
      if (!want.count(id)) ++extra;
    if (missing > 0) out.push_back(code + ": " + std::to_string(missing) + " missing");
    if (extra > 0) out.push_back(code + ": " + std::to_string(extra) + " not routed here");
  }
  return out;
}

void Network::kill(const std::string& code) {
  Node& n = *nodes_.at(code);
  n.alive = false;
  for (auto& [id, c] : conns_) {
    if (!c.open || (c.child != code && c.parent != code)) continue;
    c.open = false;
    // The other end's transport sees the connection close.
    if (c.parent == code) nodes_.at(c.child)->conn_lost(id);
  }
  n.reset_sessions();
}

void Network::restart(const std::string& code) {
  Node& n = *nodes_.at(code);
  n.reset_sessions();
  n.alive = true;
}

void Network::restore(const std::string& code, const MemStore& copy) {
  kill(code);
  nodes_.at(code)->store = copy;
  restart(code);
}

config::SyncSettings fast_settings() {
  config::SyncSettings s;
  s.batch_max_events = 16;
  s.batch_max_bytes = 4096;
  s.window_bytes = 16 * 1024;
  s.heartbeat = milliseconds(200);
  s.peer_timeout = milliseconds(1000);
  s.ack_timeout = milliseconds(500);
  s.redial_min = milliseconds(50);
  s.redial_max = milliseconds(2000);
  return s;
}

}  // namespace liandong::sync::sim
