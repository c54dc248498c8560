#include "node/links.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "node/refusals.h"
#include "node/status_report.h"
#include "node/sync_state.h"
#include "protocol/event_codec.h"
#include "protocol/hlc.h"

namespace liandong::node {

namespace {

// A quarantined event is refused too, as seen from its origin: the reason
// in the Ack starts with this.
constexpr std::string_view kQuarantinedPrefix = "quarantined: ";

const char* state_name(sync::Session::State s) {
  switch (s) {
    case sync::Session::State::connecting:
      return "connecting";
    case sync::Session::State::up:
      return "up";
    case sync::Session::State::down:
      break;
  }
  return "down";
}

std::map<std::string, config::Child> admitted(const config::NodeConfig& cfg) {
  std::map<std::string, config::Child> out;
  for (const auto& c : cfg.children)
    out[c.code] = c;
  return out;
}

sync::UpstreamPolicy::Settings policy_settings(const config::SyncSettings& s) {
  return {s.redial_min, s.redial_max, s.peer_timeout};
}

}  // namespace

Links::Links(Deps d)
    : cfg_(d.cfg),
      store_(d.store),
      transport_(d.transport),
      audit_(d.audit),
      log_(d.log),
      keys_(d.keys),
      receipts_(d.receipts),
      store_watch_(d.store_watch),
      verify_(d.verify),
      clock_(d.clock),
      admitted_(admitted(d.cfg)),
      view_(d.cfg, d.store, d.keys, admitted_, [this] { return our_top(); }),
      policy_(d.cfg.upstreams.size(), policy_settings(d.cfg.sync),
              std::mt19937_64(std::random_device{}())),
      custody_(d.cfg.upstreams.size()),
      transfers_(d.store, d.log, d.store_watch,
                 Transfers::Hooks{[this] { return transfer_peers(); },
                                  [this](const std::string& code, const sync::Message& m) {
                                    return send_to(code, m);
                                  }},
                 std::chrono::duration_cast<std::chrono::milliseconds>(d.cfg.sync.peer_timeout)) {
  make_upstream_sessions();
}

void Links::make_upstream_sessions() {
  for (const auto& u : cfg_.upstreams) {
    auto s = std::make_unique<sync::Session>(
        sync::SessionSettings{cfg_.code, u.code, true, true, cfg_.sync}, view_);
    // Custody marks read back at start-up: `liandong case show` goes on
    // showing them before the first ack.
    auto mark = store_.sync_get(custody_key(u.code));
    if (mark.ok() && *mark) {
      const auto m = decode_custody(**mark);
      s->restore_custody(m.acked, m.top);
      custody_.restore(ups_.size(), sync::Mark{m.acked, m.top});
    }
    ups_.push_back(std::move(s));
  }
}

sync::Now Links::now() const {
  return sync::Now{clock_.now(), clock_.wall_ms()};
}

sync::Session& Links::child(const std::string& code) {
  Child& c = children_[code];
  if (!c.session)
    c.session = std::make_unique<sync::Session>(
        sync::SessionSettings{cfg_.code, code, false, !cfg_.upstreams.empty(), cfg_.sync}, view_);
  return *c.session;
}

// ---------------------------------------------------------------------------
// Receiving

void Links::on_child_message(const std::string& rid, const std::string& user,
                             const std::string& bytes) {
  // Who sent this is what its key proves (the code the ZAP handler bound to
  // it), nothing else. Every check below that fails charges that code.
  if (user.empty()) {
    // No handler admitted this connection's key: there is nobody to
    // charge, and nothing it sends is read.
    log_.warn("message without an admitted key",
              "dropped a message from a connection no key was admitted for (routing id '{}')",
              sync::printable(rid));
    return;
  }
  if (banned(user)) return;
  const std::string claimed = sync::claimed_code(rid);
  if (claimed != user) {
    // A sibling posing as a village, or a child whose key the config
    // binds to another code: dropped before anything of the code it
    // claims is touched; charged to the key's own code.
    refuse(rid, proto::RefusalReason::CODE_MISMATCH,
           "this link's key belongs to " + user + ", not to " + sync::printable(claimed));
    abused(user, "claimed to be " + sync::printable(claimed));
    return;
  }
  auto m = sync::decode_message(bytes, cfg_.sync.max_message_bytes + 4096);
  if (!m.ok()) {
    log_.warn("malformed message from a child", "malformed message from child {}: {}", user,
              m.status().message());
    refuse(rid, proto::RefusalReason::MALFORMED, m.status().message());
    abused(user, m.status().message());
    return;
  }
  if (const auto* h = std::get_if<sync::Hello>(&*m)) {
    if (h->code != user) {
      refuse(rid, proto::RefusalReason::CODE_MISMATCH,
             "this link's key belongs to " + user + ", not to " + sync::printable(h->code));
      abused(user, "said Hello as " + sync::printable(h->code));
      return;
    }
    if (admitted_.find(user) == admitted_.end()) {
      refuse(rid, proto::RefusalReason::OUTSIDE_JURISDICTION,
             "code " + user + " is not a child this node admits");
      return;
    }
    sync::Session& s = child(user);
    s.count_received(bytes.size());
    carry_out(s, s.on_hello(*h, now()), Target{false, 0, rid});
    return;
  }
  auto it = children_.find(user);
  if (it == children_.end() || it->second.session->state() != sync::Session::State::up ||
      it->second.routing_id != rid) {
    if (!std::holds_alternative<sync::Bye>(*m)) out_of_session(rid, user);
    return;
  }
  sync::Session& s = *it->second.session;
  s.count_received(bytes.size());
  if (sync::is_transfer(*m)) {
    s.heard(now());
    transfers_.on_message(user, *m, clock_.now());
    return;
  }
  carry_out(s, s.on_message(*m, now()), Target{false, 0, rid});
}

void Links::out_of_session(const std::string& rid, const std::string& user) {
  const auto t = clock_.now();
  auto [it, first] = told_no_session_.try_emplace(user, t);
  if (!first && t - it->second < std::chrono::milliseconds(1000)) return;
  it->second = t;
  refuse(rid, proto::RefusalReason::MALFORMED, "no session: send Hello first");
  abused(user, "messages outside a session");
}

void Links::refuse(const std::string& rid, proto::RefusalReason reason, const std::string& text) {
  // Logged and audited by the claimed code: a fresh nonce each dial would
  // otherwise make each refusal of one child a record of its own.
  const std::string who = sync::claimed_code(sync::printable(rid));
  log_.warn("refused", "refused {}: {}", who, text);
  audit_.note(audit_note(proto::AuditWhat::CONNECTION_REFUSED, who, who, "refused message", text));
  (void)transport_.send_child(rid, sync::encode_message(sync::Refused{reason, text}));
}

void Links::on_upstream_message(std::size_t i, const std::string& bytes) {
  const std::string& code = cfg_.upstreams[i].code;
  auto m = sync::decode_message(bytes, cfg_.sync.max_message_bytes + 4096);
  if (!m.ok()) {
    log_.warn("malformed message from upstream", "malformed message from upstream {}: {}", code,
              m.status().message());
    abused(code, m.status().message());
    return;
  }
  sync::Session& s = *ups_[i];
  s.count_received(bytes.size());
  if (sync::is_transfer(*m)) {
    if (s.state() != sync::Session::State::up) return;
    s.heard(now());
    transfers_.on_message(code, *m, clock_.now());
    return;
  }
  carry_out(s, s.on_message(*m, now()), Target{true, i, {}});
}

std::vector<Transfers::Peer> Links::transfer_peers() const {
  std::vector<Transfers::Peer> out;
  for (std::size_t i = 0; i < ups_.size(); ++i)
    if (ups_[i]->state() == sync::Session::State::up)
      out.push_back({ups_[i]->peer(), ups_[i]->streaming(), ups_[i]->batches_idle()});
  for (const auto& [code, c] : children_)
    if (c.session->state() == sync::Session::State::up)
      out.push_back({code, false, c.session->batches_idle()});
  return out;
}

bool Links::send_to(const std::string& code, const sync::Message& m) {
  const std::string bytes = sync::encode_message(m);
  for (std::size_t i = 0; i < ups_.size(); ++i) {
    if (ups_[i]->peer() != code || ups_[i]->state() != sync::Session::State::up) continue;
    if (transport_.send_up(i, bytes) != ZmqTransport::SendResult::sent) return false;
    ups_[i]->count_sent(bytes.size());
    return true;
  }
  auto it = children_.find(code);
  if (it == children_.end() || it->second.session->state() != sync::Session::State::up)
    return false;
  if (transport_.send_child(it->second.routing_id, bytes) != ZmqTransport::SendResult::sent)
    return false;
  it->second.session->count_sent(bytes.size());
  return true;
}

// ---------------------------------------------------------------------------
// Carrying out a session's actions

void Links::carry_out(sync::Session& s, sync::Actions actions, const Target& to) {
  const std::string& code = s.peer();
  bool pump = false, sends_blocked = false;
  for (auto& action : actions) {
    if (auto* send = std::get_if<sync::Send>(&action)) {
      if (sends_blocked) {
        s.send_failed(send->message);
        continue;
      }
      if (const auto* r = std::get_if<sync::Refused>(&send->message); r && !to.up) {
        // Audited by the claimed code: a fresh nonce each dial would
        // otherwise make each refusal of one child a record of its own.
        const std::string who = sync::claimed_code(sync::printable(to.routing_id));
        audit_.note(
            audit_note(proto::AuditWhat::CONNECTION_REFUSED, who, who, "refused message", r->text));
      }
      const std::string bytes = sync::encode_message(send->message);
      const auto r =
          to.up ? transport_.send_up(to.index, bytes) : transport_.send_child(to.routing_id, bytes);
      if (r == ZmqTransport::SendResult::sent) {
        s.count_sent(bytes.size());
        continue;
      }
      // What follows would reach the peer out of order: it waits too.
      sends_blocked = true;
      s.send_failed(send->message);
      if (r == ZmqTransport::SendResult::gone && !to.up)
        carry_out(s, s.link_down(now(), "unreachable"), to);
    } else if (auto* in = std::get_if<sync::Ingest>(&action)) {
      const sync::IngestResult r = ingest(s, *in);
      if (r.stored > 0) {
        pump = true;
        transfers_.wants_changed();
      }
      carry_out(s, s.on_ingested(r, now()), to);
    } else if (std::holds_alternative<sync::Up>(action)) {
      transfers_.peer_up();
      if (!to.up) {
        children_[code].routing_id = to.routing_id;
        if (cfg_.upstreams.empty()) {
          audit_.set_ready();  // the top hears of its numbers from children
          keys_.publish_directory();
        }
        continue;
      }
      audit_.set_ready();  // our own numbers are known safe now
      if (auto left = policy_.welcomed(to.index, clock_.now())) {
        spdlog::info("back on preferred upstream {}; leaving {}", code, cfg_.upstreams[*left].code);
        (void)transport_.send_up(*left, sync::encode_message(sync::Bye{}));
        transport_.close_up(*left);
        carry_out(*ups_[*left], ups_[*left]->link_down(now(), "left for a preferred upstream"),
                  Target{true, *left, {}});
      }
      for (std::size_t i = 0; i < ups_.size(); ++i)
        ups_[i]->set_streaming(policy_.active() == i);
      pump = true;
    } else if (auto* down = std::get_if<sync::Down>(&action)) {
      if (to.up) upstream_lost(to.index, down->why, down->refused);
    } else if (auto* off = std::get_if<sync::Offence>(&action)) {
      if (abused(code, off->what)) return;
    } else if (auto* keys = std::get_if<sync::AcceptKeys>(&action)) {
      keys_.accept(code, to.up, keys->keys);
    } else if (auto* seq = std::get_if<sync::ReserveSeq>(&action)) {
      if (auto st = store_.reserve_seq(seq->next); !st)
        spdlog::error("cannot reserve sequence numbers: {}", st.message());
    } else if (auto* pc = std::get_if<sync::ParentClock>(&action)) {
      note_parent_clock(code, pc->wall_ms);
    } else if (std::holds_alternative<sync::ForgetFutureMarks>(action)) {
      forget_future_marks();
    } else if (auto* keep = std::get_if<sync::KeepRefusals>(&action)) {
      keep_refusals_from(code, keep->list);
    } else if (auto* taken = std::get_if<sync::ForgetRelays>(&action)) {
      if (auto st = forget_relays(store_, code, taken->ids); !st)
        spdlog::error("cannot forget the refusals {} took: {}", code, st.message());
    } else if (std::holds_alternative<sync::SendRelays>(action)) {
      send_relays(code);
    } else if (auto* moved = std::get_if<sync::CustodyMoved>(&action)) {
      // Children hear of a moved top mark at most a few times a second.
      if (to.up && custody_.update(to.index, sync::Mark{moved->acked, moved->top}))
        custody_refresh_due_ = true;
    } else if (auto* line = std::get_if<sync::Log>(&action)) {
      log_.log(line->level, line->kind, "{}", line->text);
    }
  }
  if (pump) pump_all();
}

sync::IngestResult Links::ingest(sync::Session& s, const sync::Ingest& in) {
  sync::IngestResult out;
  const std::string& code = s.peer();
  const auto t = clock_.now();
  if (store_.full_since_ms() != 0 && !store_watch_.retry_now(t)) {
    out.status = Status::no_space("the store is full");
    return out;
  }
  // Receipts this batch may owe (storage/receipts.h): marked pending in the
  // batch's own transaction, so a crash before they are made loses none.
  const std::vector<OwedReceipt> owed = receipts_.owed(in.events);
  storage::IngestOptions opts;
  if (in.events.size() >= 16) opts.pool = &verify_;
  opts.authorize = [&](const EventView& ev) {
    const auto& e = ev.event();
    return sync::authorize(in.authority, ev.id(),
                           std::string_view(e.getHome().begin(), e.getHome().size()),
                           is_broadcast(ev.kind()), is_lineage(ev.kind()));
  };
  opts.also = [&](storage::SyncWriter& w) {
    w.put(rx_key(code), sync::encode_cursor(in.next));
    if (in.custody_map) {
      std::string v;
      put_be64(v, in.to);
      w.put(map_key(code, w.last_lsn()), v);
    }
    for (const auto& o : owed)
      w.put(receipt_key(o.handed), format_id(o.case_id));
  };
  auto results = store_.ingest(in.events, opts);
  if (!results.ok()) {
    // Nothing stored, nothing acked: the sender resends after ack_timeout.
    if (results.status().code() == Code::no_space) {
      store_watch_.note(results.status(), "batches from peers", t);
    } else {
      spdlog::error("cannot store batch from {}: {}", code, results.status().message());
    }
    out.status = results.status();
    return out;
  }
  store_watch_.note(Status::ok(), "batches from peers", t);
  const uint64_t wall = clock_.wall_ms();
  auto refused = [&](const Id& id, const std::string& reason, bool held) {
    out.rejected.push_back(
        sync::Rejected{id, reason, cfg_.code, refusal_cause(reason, held), wall});
  };
  for (std::size_t i = 0; i < results->size(); ++i) {
    const auto& r = (*results)[i];
    if (r.outcome == storage::Outcome::stored) {
      ++out.stored;
      keys_.publish_rotation(in.events[i]);
    }
    if (r.outcome == storage::Outcome::quarantined) {
      // Held here for review; the sender need not send it again.
      auto info = sync::route_info(in.events[i]);
      const std::string shown = info.ok() ? format_id(info->id) : "?";
      log_.warn("quarantined event", "quarantined event {} from {}: {}", shown, code,
                r.status.message());
      audit_.note(audit_note(proto::AuditWhat::EVENT_QUARANTINED, code, code, shown,
                             r.status.message(), r.status.message()));
      // Not stored here either: the origin must not see it as delivered.
      if (info.ok()) refused(info->id, std::string(kQuarantinedPrefix) + r.status.message(), true);
    }
    if (r.outcome == storage::Outcome::rejected) {
      auto info = sync::route_info(in.events[i]);
      const Id id = info.ok() ? info->id : Id{};
      log_.warn("rejected event", "rejected event {} from {}: {}",
                id.origin.empty() ? "?" : format_id(id), code, r.status.message());
      refused(id, r.status.message(), false);
      note_refused_event(code, id, r.status.message());
    }
  }
  receipts_.record(owed, *results);
  out.events = in.events.size();
  log_.debug("batch received", "batch ({}, {}] from {}: {} events, {} new", in.from, in.to, code,
             in.events.size(), out.stored);
  return out;
}

void Links::note_refused_event(const std::string& code, const Id& id, const std::string& reason) {
  const std::string shown = id.origin.empty() ? std::string("?") : format_id(id);
  // Repeats are grouped by the reason without the event's own id.
  std::string group = reason;
  if (!id.origin.empty()) {
    for (auto at = group.find(shown); at != std::string::npos; at = group.find(shown))
      group.replace(at, shown.size(), "*");
  }
  audit_.note(audit_note(proto::AuditWhat::EVENT_REFUSED, code, code, shown, reason, group));
}

// ---------------------------------------------------------------------------
// Refusals as custody (node/refusals.h)

void Links::keep_refusals_from(const std::string& code, const std::vector<sync::Rejected>& list) {
  std::vector<Refusal> got;
  for (const auto& r : list) {
    if (r.id.origin.empty()) continue;
    spdlog::error("{} refused {} event {}: {}", code, r.id.origin == cfg_.code ? "our" : "the",
                  format_id(r.id), r.reason);
    got.push_back(Refusal{r.id, r.by, r.cause, r.reason, r.at_ms});
  }
  std::vector<std::string> children;
  for (const auto& [c, child] : admitted_)
    children.push_back(c);
  if (auto s = keep_refusals(store_, got, code, children); !s) {
    spdlog::error("cannot keep the refusals from {}: {}", code, s.message());
    return;
  }
  for (auto& [c, child] : children_) {
    if (child.session->state() != sync::Session::State::up) continue;
    for (const auto& x : got) {
      if (x.id.origin != cfg_.code && within(x.id.origin, c)) {
        send_relays(c);
        break;
      }
    }
  }
}

void Links::send_relays(const std::string& code) {
  auto it = children_.find(code);
  if (it == children_.end()) return;
  sync::Session& s = *it->second.session;
  auto pending = relays_for(store_, code);
  if (!pending.ok() || pending->empty()) {
    s.relays_sent(false, now());
    return;
  }
  sync::Refusals msg;
  for (std::size_t i = 0; i < pending->size() && i < 1024; ++i) {
    const Refusal& r = (*pending)[i];
    msg.list.push_back(sync::Rejected{r.id, r.reason, r.by, r.cause, r.at_ms});
  }
  const std::string bytes = sync::encode_message(msg);
  if (transport_.send_child(it->second.routing_id, bytes) == ZmqTransport::SendResult::sent) {
    s.count_sent(bytes.size());
    s.relays_sent(true, now());
  }
}

// ---------------------------------------------------------------------------
// Custody and clocks

// Custody map entries past our log's end name a timeline this store no
// longer has (it was restored from an old copy): they must not vouch for
// anything now.
void Links::forget_future_marks() {
  auto entries = store_.sync_scan("map/");
  if (!entries.ok()) return;
  std::vector<std::string> stale;
  for (const auto& [key, value] : *entries) {
    if (key.size() >= 8 && get_be64(std::string_view(key).substr(key.size() - 8)) > view_.end())
      stale.push_back(key);
  }
  if (stale.empty()) return;
  if (auto s = store_.sync_erase(stale); !s) {
    spdlog::error("cannot drop stale custody marks: {}", s.message());
  } else {
    spdlog::info("dropped {} custody marks of a timeline this store no longer has", stale.size());
  }
}

void Links::note_parent_clock(const std::string& code, uint64_t parent_wall_ms) {
  ParentClock c{parent_wall_ms, boot_clock_ms(), boot_id(), code};
  if (auto s = store_.note_parent_clock(c); !s)
    spdlog::error("cannot keep the parent's clock: {}", s.message());
  const int64_t skew =
      static_cast<int64_t>(clock_.wall_ms()) - static_cast<int64_t>(parent_wall_ms);
  if (auto m = clock_fault_message(skew, code); !m.empty())
    spdlog::error("{}: no new events are made here until the clock is set right", m);
}

uint64_t Links::our_top() const {
  return custody_.our_top();
}

void Links::persist_custody(bool force) {
  const auto t = clock_.now();
  auto marks = custody_.due(t, force);
  if (!marks) return;
  for (std::size_t i = 0; i < marks->size(); ++i) {
    const sync::Mark& m = (*marks)[i];
    if (m.acked == 0 && m.top == 0) continue;
    const std::string key = custody_key(cfg_.upstreams[i].code);
    const std::string v = encode_custody(CustodyMark{m.acked, m.top});
    auto old = store_.sync_get(key);
    if (old.ok() && *old && **old == v) continue;
    if (auto st = store_.sync_put(key, v); !st) {
      if (st.code() == Code::no_space) {
        store_watch_.note(st, "custody marks", t);
        return;  // stays due: written once there is room
      }
      spdlog::error("cannot record custody marks: {}", st.message());
    }
  }
  custody_.written(t);
}

// ---------------------------------------------------------------------------
// Abuse

bool Links::abused(const std::string& code, const std::string& what) {
  const auto t = clock_.now();
  if (!abuse_.charge(code, t)) return false;
  const auto& l = abuse_.limits();
  spdlog::error(
      "dropping the link with {}: {} malformed or unauthorised messages within {} s (last: {}); "
      "ignoring it for {} s",
      code, l.limit, l.window.count() / 1000, sync::printable(what), l.ban.count() / 1000);
  if (auto it = children_.find(code); it != children_.end()) {
    carry_out(*it->second.session,
              it->second.session->link_down(now(),
                                            "dropped for repeated malformed or "
                                            "unauthorised messages"),
              Target{false, 0, it->second.routing_id});
    return true;
  }
  for (std::size_t i = 0; i < ups_.size(); ++i) {
    if (cfg_.upstreams[i].code != code) continue;
    carry_out(*ups_[i], ups_[i]->link_down(now(), "dropped for repeated malformed messages"),
              Target{true, i, {}});
    transport_.close_up(i);
    ups_[i]->set_streaming(false);
    policy_.hold(i, t + l.ban);
  }
  return true;
}

bool Links::banned(const std::string& code) const {
  return abuse_.banned(code, clock_.now());
}

// ---------------------------------------------------------------------------
// Time

void Links::upstream_lost(std::size_t i, const std::string& why, bool refused) {
  const bool was_up = policy_.state(i) == sync::UpstreamPolicy::State::up;
  transport_.close_up(i);
  ups_[i]->set_streaming(false);
  policy_.failed(i, clock_.now(), refused);
  spdlog::debug("upstream {}: {}", cfg_.upstreams[i].code, why);
  if (was_up) {
    custody_.touch();
    persist_custody(true);
  }
}

void Links::pump_all() {
  view_.refresh();
  last_lsn_check_ = clock_.now();
  for (std::size_t i = 0; i < ups_.size(); ++i)
    carry_out(*ups_[i], ups_[i]->pump(now()), Target{true, i, {}});
  for (auto& [code, c] : children_)
    carry_out(*c.session, c.session->pump(now()), Target{false, 0, c.routing_id});
}

void Links::tick() {
  const sync::Now t = now();
  // Local writes by another process (the CLI without the daemon's help).
  if (t.mono - last_lsn_check_ >= std::chrono::milliseconds(20)) {
    last_lsn_check_ = t.mono;
    if (view_.refresh()) pump_all();
  }
  for (std::size_t i = 0; i < ups_.size(); ++i)
    carry_out(*ups_[i], ups_[i]->tick(t), Target{true, i, {}});
  for (auto& [code, c] : children_)
    carry_out(*c.session, c.session->tick(t), Target{false, 0, c.routing_id});
  tick_upstreams();
  transfers_.tick(t.mono);
  if (custody_refresh_due_ && t.mono - custody_refreshed_ >= std::chrono::milliseconds(250)) {
    custody_refresh_due_ = false;
    custody_refreshed_ = t.mono;
    for (auto& [code, c] : children_)
      carry_out(*c.session, c.session->refresh_custody(t), Target{false, 0, c.routing_id});
  }
  persist_custody(false);
}

void Links::tick_upstreams() {
  const sync::Now t = now();
  for (std::size_t i = 0; i < ups_.size(); ++i) {
    if (!transport_.dialed(i)) continue;
    const auto ev = transport_.link_events(i);
    const auto& up = cfg_.upstreams[i];
    bool lost = ev.lost;
    if (!ev.handshake_failure.empty()) {
      // Once per streak of failures: a misconfigured link must be visible
      // without flooding the log at every redial.
      if (policy_.failures(i) == 0 || policy_.failures(i) % 20 == 0)
        spdlog::warn("upstream {} at {}: {}", up.code, up.endpoint, ev.handshake_failure);
      lost = true;
    }
    if (!lost) continue;
    const auto state = ups_[i]->state();
    if (state == sync::Session::State::connecting && transport_.tcp_connected(i) &&
        (policy_.failures(i) == 0 || policy_.failures(i) % 20 == 0))
      // TCP came up and the encrypted handshake did not: a key problem.
      spdlog::warn(
          "upstream {} at {} dropped the connection during the handshake: check that its "
          "curve_key in our config is the parent's key, and that the parent lists this node's key "
          "among its children",
          up.code, up.endpoint);
    carry_out(*ups_[i], ups_[i]->link_down(t, "connection lost"), Target{true, i, {}});
    // Keys: redialing changes nothing until a config does.
    upstream_lost(i, "connection lost", ev.key_problem);
  }
  for (std::size_t i : policy_.timed_out(t.mono)) {
    spdlog::info("upstream {} did not answer", cfg_.upstreams[i].code);
    carry_out(*ups_[i], ups_[i]->link_down(t, "did not answer"), Target{true, i, {}});
    upstream_lost(i, "did not answer", false);
  }
  auto i = policy_.due(t.mono);
  if (!i || banned(cfg_.upstreams[*i].code)) return;
  if (auto s = transport_.dial(*i); !s) {
    spdlog::error("cannot dial upstream {}: {}", cfg_.upstreams[*i].code, s.message());
    policy_.failed(*i, t.mono, false);
    return;
  }
  policy_.dialing(*i, t.mono);
  carry_out(*ups_[*i], ups_[*i]->dial(t), Target{true, *i, {}});
}

void Links::redial_now(bool force) {
  const auto t = clock_.now();
  for (std::size_t i = 0; i < ups_.size(); ++i) {
    if (banned(cfg_.upstreams[i].code)) continue;
    if (policy_.refused(i) && !force) continue;
    if (ups_[i]->state() == sync::Session::State::connecting && !transport_.tcp_connected(i)) {
      // Its SYN may have gone into the dead link: a fresh dial beats the
      // kernel's retransmission.
      carry_out(*ups_[i], ups_[i]->link_down(now(), "redialing"), Target{true, i, {}});
      upstream_lost(i, "redialing", false);
    }
  }
  policy_.due_now(t, force);
  tick_upstreams();
}

void Links::set_admitted(const std::vector<config::Child>& children) {
  std::map<std::string, config::Child> next;
  for (const auto& c : children)
    next[c.code] = c;
  const std::string bye = sync::encode_message(sync::Bye{});
  for (auto it = children_.begin(); it != children_.end();) {
    if (next.count(it->first) != 0) {
      ++it;
      continue;
    }
    if (it->second.session && it->second.session->state() == sync::Session::State::up)
      (void)transport_.send_child(it->second.routing_id, bye);
    spdlog::info("child {} is no longer admitted: its link is closed", it->first);
    it = children_.erase(it);
  }
  bool added = false;
  for (const auto& [code, c] : next) {
    if (admitted_.count(code) != 0) continue;
    spdlog::info("child {} admitted", code);
    added = true;
  }
  admitted_ = std::move(next);
  // Our parent learns our children's signing keys from our handshake
  // (KeyDirectory::codes_for): a new child's is vouched for by shaking
  // hands again on the upstream in use. Children's links are not touched.
  const auto active = policy_.active();
  if (!added || !active || ups_[*active]->state() != sync::Session::State::up) return;
  const std::size_t i = *active;
  spdlog::info("upstream {}: shaking hands again to vouch for the new child's key",
               cfg_.upstreams[i].code);
  (void)transport_.send_up(i, sync::encode_message(sync::Bye{}));
  carry_out(*ups_[i], ups_[i]->link_down(now(), "new child keys"), Target{true, i, {}});
  upstream_lost(i, "new child keys", false);
  policy_.due_now(clock_.now(), false);
}

void Links::retune() {
  for (auto& s : ups_)
    s->retune(cfg_.sync);
  for (auto& [code, c] : children_)
    if (c.session) c.session->retune(cfg_.sync);
  policy_.retune(policy_settings(cfg_.sync));
}

Status Links::reset_upstreams() {
  const std::string bye = sync::encode_message(sync::Bye{});
  for (std::size_t i = 0; i < ups_.size(); ++i) {
    if (ups_[i]->state() == sync::Session::State::up) (void)transport_.send_up(i, bye);
    transport_.close_up(i);
  }
  custody_.touch();
  persist_custody(true);
  if (auto s = transport_.reset_ups(); !s) return s;
  ups_.clear();
  policy_ = sync::UpstreamPolicy(cfg_.upstreams.size(), policy_settings(cfg_.sync),
                                 std::mt19937_64(std::random_device{}()));
  custody_ = sync::CustodyMarks(cfg_.upstreams.size());
  make_upstream_sessions();
  return Status::ok();
}

void Links::stop() {
  const std::string bye = sync::encode_message(sync::Bye{});
  for (auto& [code, c] : children_)
    if (c.session->state() == sync::Session::State::up)
      (void)transport_.send_child(c.routing_id, bye);
  for (std::size_t i = 0; i < ups_.size(); ++i) {
    if (ups_[i]->state() == sync::Session::State::up) (void)transport_.send_up(i, bye);
    transport_.close_up(i);
  }
  custody_.touch();
  persist_custody(true);
}

std::vector<LinkReport> Links::reports() {
  const uint64_t now_ms = clock_.wall_ms();
  std::vector<LinkReport> out;
  auto add = [&](const sync::Session& s, bool up_link, bool active, const sync::CursorValue& rx) {
    const auto& st = s.stats();
    LinkReport l;
    l.peer = s.peer();
    l.up_link = up_link;
    l.state = state_name(s.state());
    l.active = active;
    l.since_ms = s.since_wall_ms();
    l.for_ms = l.since_ms == 0 ? 0 : now_ms - std::min(now_ms, l.since_ms);
    l.rtt_ms = st.rtt_ms;
    l.bytes_sent = st.bytes_sent;
    l.bytes_received = st.bytes_received;
    l.batches_sent = st.batches_sent;
    l.batches_received = st.batches_received;
    l.events_received = st.events_received;
    l.events_rejected = st.events_rejected;
    l.events_sent = st.events_sent;
    l.events_quarantined = st.events_quarantined;
    l.last_heard_ms = s.last_heard_wall_ms();
    l.acked_lsn = s.credit().acked();
    l.sent_lsn = s.credit().sent();
    l.held_lsn = rx.lsn;
    l.top_lsn = s.top();
    // A fallback upstream not in use owes us nothing: what it would carry
    // goes through the one in use.
    if (!up_link || active) {
      const auto n =
          count_unacked(store_, s.credit().acked(), view_.end(), now_ms,
                        [&](uint64_t lsn, const sync::RouteInfo& r) { return s.routes(lsn, r); });
      l.unacked_events = n.events;
      l.oldest_unacked_age_ms = n.oldest_age_ms;
    }
    out.push_back(std::move(l));
  };
  for (std::size_t i = 0; i < ups_.size(); ++i)
    add(*ups_[i], true, policy_.active() == i, ups_[i]->rx());
  for (const auto& [code, c] : admitted_) {
    sync::Session& s = child(code);
    if (s.state() == sync::Session::State::up) {
      add(s, false, true, s.rx());
    } else {
      auto rx = view_.rx_cursor(code);
      add(s, false, false, rx.ok() ? *rx : s.rx());
    }
  }
  return out;
}

}  // namespace liandong::node
