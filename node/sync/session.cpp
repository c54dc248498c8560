#include "node/sync/session.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

#include "node/sync/abuse.h"
#include "protocol/event_codec.h"
#include "protocol/hlc.h"

namespace liandong::sync {

namespace {

// What a batch costs on the wire besides its events (the credit window
// counts bytes in flight; the exact framing does not matter to it).
constexpr std::size_t kBatchOverhead = 128;
// A pump sends at most this many batches per input.
constexpr int kMaxBatchesPerPump = 64;

bool fatal_refusal(proto::RefusalReason r) {
  return r != proto::RefusalReason::MALFORMED && r != proto::RefusalReason::SHUTTING_DOWN;
}

}  // namespace

Session::Session(SessionSettings settings, const NodeView& node)
    : settings_(std::move(settings)), node_(node) {
  // A child's session streams whenever it is up; an upstream only while
  // it is the one in use.
  streaming_ = !settings_.peer_is_parent;
}

bool Session::streaming() const {
  return state_ == State::up && streaming_;
}

void Session::restore_custody(uint64_t acked, uint64_t top) {
  credit_.set_acked(acked);
  top_ = top;
}

void Session::log(Actions& out, spdlog::level::level_enum level, const char* kind,
                  std::string text) const {
  out.push_back(Log{level, kind, std::move(text)});
}

void Session::send(Message m, Now now, Actions& out) {
  last_sent_ = now.mono;
  out.push_back(Send{std::move(m)});
}

Hello Session::make_hello(Now now) const {
  Hello h;
  h.code = settings_.self;
  h.store_id = node_.log().store_id();
  h.capabilities = {"zstd"};
  h.keys = node_.keys_for(settings_.peer, true);
  h.your_next_seq = node_.next_seq_of(settings_.peer);
  h.wall_ms = now.wall_ms;
  return h;
}

Actions Session::dial(Now now) {
  Actions out;
  // A redial does not make the link any less down: the time it has been
  // out of contact runs on from when it was last up (or first dialed).
  const uint64_t out_since =
      state_ != State::up && since_wall_ms_ != 0 ? since_wall_ms_ : now.wall_ms;
  go_down(now);
  since_wall_ms_ = out_since;
  auto rx = node_.rx_cursor(settings_.peer);
  if (!rx.ok()) {
    log(out, spdlog::level::err, "cursor unreadable",
        fmt::format("cannot read our cursor of {}'s log: {}", settings_.peer,
                    rx.status().message()));
    out.push_back(Down{"our store could not be read", false});
    return out;
  }
  state_ = State::connecting;
  since_ = last_heard_ = now.mono;
  Hello h = make_hello(now);
  h.have = *rx;
  hello_pending_ = false;
  send(std::move(h), now, out);
  return out;
}

void Session::go_down(Now now) {
  if (state_ == State::up) since_wall_ms_ = now.wall_ms;
  state_ = State::down;
  since_ = now.mono;
  credit_.drop_in_flight();
  ingesting_.reset();
  hello_pending_ = false;
}

Actions Session::link_down(Now now, const std::string& why) {
  Actions out;
  if (state_ == State::down) return out;
  if (state_ == State::up)
    log(out, spdlog::level::info, "peer down",
        fmt::format("{} {} is down: {}", settings_.peer_is_parent ? "upstream" : "child",
                    settings_.peer, why));
  go_down(now);
  return out;
}

void Session::send_failed(const Message& m) {
  if (std::holds_alternative<Hello>(m) && state_ == State::connecting) hello_pending_ = true;
  if (const auto* b = std::get_if<Batch>(&m)) credit_.unsend(b->from_lsn);
}

void Session::relays_sent(bool pending, Now now) {
  relays_pending_ = pending;
  relays_at_ = now.mono;
}

Actions Session::on_hello(const Hello& h, Now now) {
  Actions out;
  // Everything is checked before anything changes: a Hello that cannot be
  // accepted leaves no half-built session behind.
  auto refuse = [&](proto::RefusalReason reason, std::string text) {
    log(out, spdlog::level::warn, "refused", fmt::format("refused {}: {}", settings_.peer, text));
    send(Refused{reason, std::move(text)}, now, out);
  };
  if (h.version != kProtocolVersion) {
    refuse(proto::RefusalReason::VERSION, "protocol version " + std::to_string(h.version) +
                                              " is not " + std::to_string(kProtocolVersion));
    return out;
  }
  if (h.code != settings_.peer) {
    refuse(proto::RefusalReason::CODE_MISMATCH,
           "this link belongs to " + settings_.peer + ", not to " + printable(h.code));
    return out;
  }
  auto rx = node_.rx_cursor(settings_.peer);
  auto match = rx.ok() ? cursor_matches(node_.log(), h.have) : Result<bool>(rx.status());
  if (!match.ok()) {
    // Our store failed us: the child tries again after a short backoff.
    log(out, spdlog::level::err, "store read failed",
        fmt::format("cannot check {}'s handshake against our store: {}", settings_.peer,
                    match.status().message()));
    go_down(now);
    send(Refused{proto::RefusalReason::SHUTTING_DOWN, "the parent cannot read its store"}, now,
         out);
    return out;
  }
  const bool was_up = state_ == State::up;
  go_down(now);
  handshake_done(h, *rx, *match, now, out);
  Welcome w;
  w.code = settings_.self;
  w.store_id = node_.log().store_id();
  w.have = rx_;
  w.capabilities = {"zstd"};
  w.keys = node_.keys_for(settings_.peer, false);
  w.your_next_seq = node_.next_seq_of(settings_.peer);
  w.wall_ms = now.wall_ms;
  send(std::move(w), now, out);
  log(out, spdlog::level::info, "child connected",
      fmt::format("child {} {} (it holds our log to {}, we hold its to {})", settings_.peer,
                  was_up ? "reconnected" : "connected", h.have.lsn, rx_.lsn));
  if (h.wall_ms != 0) {
    const int64_t skew = static_cast<int64_t>(h.wall_ms) - static_cast<int64_t>(now.wall_ms);
    if (!clock_fault_message(skew, settings_.self).empty())
      log(out, spdlog::level::warn, "child clock off",
          fmt::format("child {}'s clock is {} min {} ours: it makes no events until it is set "
                      "right",
                      settings_.peer, (skew < 0 ? -skew : skew) / 60000,
                      skew > 0 ? "ahead of" : "behind"));
  }
  begin_sending(*match ? h.have.lsn : 0, !*match, now, out);
  send_ack(false, {}, now, out);
  out.push_back(SendRelays{});
  pump_into(now, out);
  return out;
}

// Both ends, once the peer's handshake is accepted: the session goes up.
void Session::handshake_done(const Handshake& h, const CursorValue& rx, bool match, Now now,
                             Actions& out) {
  state_ = State::up;
  since_ = last_heard_ = now.mono;
  since_wall_ms_ = last_heard_wall_ms_ = now.wall_ms;
  peer_store_id_ = h.store_id;
  rx_ = rx;
  recover_until_ = 0;
  asked_recover_ = false;
  if (rx_.store_id != peer_store_id_) {
    if (rx_.lsn > 0) {
      log(out, spdlog::level::warn, "peer has a new store",
          fmt::format("{} has a new store ({} -> {}): re-syncing it from zero", settings_.peer,
                      printable(rx_.store_id), printable(peer_store_id_)));
      recover_until_ = node_.log().end();
    }
    rx_ = CursorValue{peer_store_id_, 0, {}};
  }
  if (!match && settings_.peer_is_parent) top_ = 0;  // marks of another timeline of ours
  out.push_back(AcceptKeys{h.keys});
  if (h.your_next_seq > 0) out.push_back(ReserveSeq{h.your_next_seq});
  // After the keys and numbers: a county publishes its key directory once
  // a child has told it which of its own numbers are taken.
  out.push_back(Up{});
}

void Session::begin_sending(uint64_t from, bool we_were_restored, Now now, Actions& out) {
  credit_.restart(from, now.mono);
  if (!we_were_restored) return;
  asked_recover_ = true;
  out.push_back(ForgetFutureMarks{});
  log(out, spdlog::level::warn, "cursor does not match",
      fmt::format("{} holds a cursor of our log that our log does not match: this store was "
                  "restored from an old copy or replaced; asking it for everything that belongs "
                  "here",
                  settings_.peer));
  send(Recover{}, now, out);
}

Actions Session::on_message(const Message& m, Now now) {
  Actions out;
  last_heard_ = now.mono;
  last_heard_wall_ms_ = now.wall_ms;
  if (const auto* w = std::get_if<Welcome>(&m)) {
    if (!settings_.peer_is_parent || state_ != State::connecting) {
      log(out, spdlog::level::warn, "handshake message in session",
          fmt::format("unexpected welcome from {}", settings_.peer));
      return out;
    }
    if (w->version != kProtocolVersion || w->code != settings_.peer) {
      log(out, spdlog::level::err, "wrong upstream",
          fmt::format("upstream {} answered as {} (version {}), expected version {}",
                      settings_.peer, printable(w->code), w->version, kProtocolVersion));
      go_down(now);
      out.push_back(Down{"it answered as another node", true});
      return out;
    }
    auto rx = node_.rx_cursor(settings_.peer);
    auto match = rx.ok() ? cursor_matches(node_.log(), w->have) : Result<bool>(rx.status());
    if (!match.ok()) {
      // An error stays an error: close and try again, never Recover.
      log(out, spdlog::level::err, "store read failed",
          fmt::format("cannot check {}'s welcome against our store: {}", settings_.peer,
                      match.status().message()));
      go_down(now);
      out.push_back(Down{"our store could not be read", false});
      return out;
    }
    handshake_done(*w, *rx, *match, now, out);
    if (w->wall_ms != 0) out.push_back(ParentClock{w->wall_ms});
    log(out, spdlog::level::info, "upstream up",
        fmt::format("upstream {} up (it holds our log to {}, we hold its to {})", settings_.peer,
                    w->have.lsn, rx_.lsn));
    begin_sending(*match ? w->have.lsn : 0, !*match, now, out);
    out.push_back(CustodyMoved{credit_.acked(), top_});
    pump_into(now, out);
    return out;
  }
  if (const auto* r = std::get_if<Refused>(&m)) {
    if (!settings_.peer_is_parent || state_ == State::down) return out;
    log(out, spdlog::level::err, "upstream refused us",
        fmt::format("upstream {} refused us: {}", settings_.peer, printable(r->text)));
    go_down(now);
    out.push_back(Down{"refused: " + printable(r->text), fatal_refusal(r->reason)});
    return out;
  }
  if (state_ != State::up) return out;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Batch>) {
          on_batch(v, now, out);
        } else if constexpr (std::is_same_v<T, Ack>) {
          on_ack(v, now, out);
        } else if constexpr (std::is_same_v<T, Heartbeat>) {
          if (v.echo_ms == 0) {
            send(Heartbeat{now.wall_ms, v.sent_ms}, now, out);
          } else if (now.wall_ms >= v.echo_ms) {
            stats_.rtt_ms = static_cast<double>(now.wall_ms - v.echo_ms);
          }
        } else if constexpr (std::is_same_v<T, Bye>) {
          log(out, spdlog::level::info, "peer down",
              fmt::format("{} {} is down: said goodbye",
                          settings_.peer_is_parent ? "upstream" : "child", settings_.peer));
          go_down(now);
          out.push_back(Down{"said goodbye", false});
        } else if constexpr (std::is_same_v<T, Recover>) {
          log(out, spdlog::level::warn, "peer restored",
              fmt::format("{} was restored or replaced: re-sending everything that belongs there",
                          settings_.peer));
          recover_until_ = node_.log().end();
          credit_.restart(0, now.mono);
          pump_into(now, out);
        } else if constexpr (std::is_same_v<T, Refusals>) {
          if (!settings_.peer_is_parent) {
            log(out, spdlog::level::warn, "refusals from a child",
                fmt::format("child {} sent refusals: only a parent relays them", settings_.peer));
            return;
          }
          RefusalsTaken taken;
          for (const auto& x : v.list)
            if (!x.id.empty()) taken.ids.push_back(x.id);
          out.push_back(KeepRefusals{v.list});
          send(std::move(taken), now, out);
        } else if constexpr (std::is_same_v<T, RefusalsTaken>) {
          if (!settings_.peer_is_parent) out.push_back(ForgetRelays{v.ids});
        } else if constexpr (std::is_same_v<T, UnknownKind>) {
          log(out, spdlog::level::warn, "unknown message kind",
              fmt::format("unknown message kind from {} (a newer protocol?)", settings_.peer));
        } else {
          log(out, spdlog::level::warn, "handshake message in session",
              fmt::format("unexpected {} from {} in session", kind_name(m), settings_.peer));
        }
      },
      m);
  return out;
}

void Session::on_batch(const Batch& b, Now now, Actions& out) {
  if (b.to_lsn <= b.from_lsn) {
    log(out, spdlog::level::warn, "batch with a bad range",
        fmt::format("batch from {} with an empty or reversed range ({}, {}]", settings_.peer,
                    b.from_lsn, b.to_lsn));
    return;
  }
  if (ingesting_) return;  // the caller broke the contract; the sender resends
  if (b.from_lsn != rx_.lsn && b.from_lsn != 0) {
    // Lost, stale, reordered or duplicated: tell the sender where we are.
    send_ack(true, {}, now, out);
    return;
  }
  auto events = unpack(b, settings_.sync.max_message_bytes + kMaxSignedEventBytes + 64 * 1024);
  if (!events.ok()) {
    log(out, spdlog::level::err, "unreadable batch",
        fmt::format("unreadable batch ({}, {}] from {}: {}", b.from_lsn, b.to_lsn, settings_.peer,
                    events.status().message()));
    out.push_back(Offence{events.status().message()});
    send_ack(true, {}, now, out);
    return;
  }
  ingesting_ = CursorValue{peer_store_id_, b.to_lsn, b.last_id};
  Ingest in;
  in.events = std::move(events).value();
  in.next = *ingesting_;
  in.from = b.from_lsn;
  in.to = b.to_lsn;
  in.authority =
      Authority{settings_.self, settings_.peer, settings_.peer_is_parent, asked_recover_};
  in.custody_map = !settings_.peer_is_parent && settings_.have_upstream;
  out.push_back(std::move(in));
}

Actions Session::on_ingested(const IngestResult& r, Now now) {
  Actions out;
  if (!ingesting_) return out;
  const CursorValue next = *ingesting_;
  ingesting_.reset();
  // Nothing stored, nothing acked: the sender resends after ack_timeout.
  if (!r.status || state_ != State::up) return out;
  rx_ = next;
  ++stats_.batches_received;
  stats_.events_received += r.events;
  for (const auto& x : r.rejected) {
    if (x.cause == proto::RefusalCause::QUARANTINED) {
      ++stats_.events_quarantined;
    } else {
      ++stats_.events_rejected;
    }
  }
  send_ack(false, r.rejected, now, out);
  return out;
}

void Session::send_ack(bool resend, std::vector<Rejected> rejected, Now now, Actions& out) {
  Ack a;
  // Within a session the store is the peer's own: its id stays out.
  a.have = CursorValue{"", rx_.lsn, rx_.at};
  a.resend = resend;
  if (!settings_.peer_is_parent) {
    top_sent_ = node_.top_for_child(settings_.peer, rx_.lsn);
    a.top_lsn = top_sent_;
  }
  a.rejected = std::move(rejected);
  send(std::move(a), now, out);
}

void Session::on_ack(const Ack& a, Now now, Actions& out) {
  const LogView& log_view = node_.log();
  if (!a.have.store_id.empty() && a.have.store_id != log_view.store_id() && a.have.lsn > 0)
    return;  // about another store of ours
  // The credit window caps an ack at what was sent.
  if (a.resend) {
    credit_.on_resend(a.have.lsn, log_view.end(), now.mono);
  } else {
    credit_.on_ack(a.have.lsn, now.mono);
  }
  if (settings_.peer_is_parent) {
    top_ = std::min(a.top_lsn, log_view.end());
    out.push_back(CustodyMoved{credit_.acked(), top_});
  }
  if (!a.rejected.empty()) out.push_back(KeepRefusals{a.rejected});
  pump_into(now, out);
}

Actions Session::refresh_custody(Now now) {
  Actions out;
  if (state_ != State::up || settings_.peer_is_parent) return out;
  if (node_.top_for_child(settings_.peer, rx_.lsn) != top_sent_) send_ack(false, {}, now, out);
  return out;
}

Route Session::route() const {
  return Route{settings_.self, settings_.peer, settings_.peer_is_parent, recover_until_};
}

Actions Session::pump(Now now) {
  Actions out;
  pump_into(now, out);
  return out;
}

void Session::pump_into(Now now, Actions& out) {
  if (!streaming()) return;
  const LogView& log_view = node_.log();
  const auto& s = settings_.sync;
  const BatchLimits limits{s.batch_max_events, s.batch_max_bytes};
  for (int round = 0; round < kMaxBatchesPerPump; ++round) {
    const uint64_t from = credit_.sent();
    if (!credit_.open(s.window_bytes) || from >= log_view.end()) return;
    auto plan = plan_batch(log_view, route(), from, limits, quiet_ ? &*quiet_ : nullptr);
    if (!plan.ok()) {
      log(out, spdlog::level::err, "log unreadable",
          fmt::format("cannot read our log after {} for {}: {}", from, settings_.peer,
                      plan.status().message()));
      return;
    }
    if (!*plan) return;
    PlannedBatch& p = **plan;
    const CreditWindow::Built built{p.reached_end, !p.events.empty(), p.full};
    // A cursor-only batch waits for a heartbeat interval without batches;
    // a small one waits for the ack in flight (CreditWindow::release). What
    // the plan read with nothing for the peer is not read again next time.
    quiet_.reset();
    if (p.quiet.to > p.quiet.from) quiet_ = p.quiet;
    if (!credit_.release(built, now.mono, s.heartbeat)) return;
    Batch b = make_batch(p.from, p.to, p.last_id, p.events, true);
    const std::size_t bytes = b.events.size() + kBatchOverhead;
    credit_.on_sent(p.to, bytes, now.mono);
    ++stats_.batches_sent;
    stats_.events_sent += p.events.size();
    if (recover_until_ > 0 && p.to >= recover_until_) recover_until_ = 0;
    send(std::move(b), now, out);
  }
}

Actions Session::tick(Now now) {
  Actions out;
  const auto& s = settings_.sync;
  if (state_ == State::connecting) {
    if (hello_pending_) {
      auto rx = node_.rx_cursor(settings_.peer);
      if (rx.ok()) {
        Hello h = make_hello(now);
        h.have = *rx;
        hello_pending_ = false;
        send(std::move(h), now, out);
      }
    }
    return out;
  }
  if (state_ != State::up) return out;
  if (ms_between(last_heard_, now.mono) > s.peer_timeout.count()) {
    log(out, spdlog::level::info, "peer down",
        fmt::format("{} {} is down: silent too long",
                    settings_.peer_is_parent ? "upstream" : "child", settings_.peer));
    go_down(now);
    out.push_back(Down{"silent too long", false});
    return out;
  }
  if (credit_.expire(now.mono, s.ack_timeout))
    log(out, spdlog::level::info, "resend",
        fmt::format("no ack from {} for {} ms: resending from {}", settings_.peer,
                    s.ack_timeout.count(), credit_.acked()));
  // The pump first: a cursor-only batch due now stands in for the
  // heartbeat (sent first, the heartbeat would make it wait forever).
  pump_into(now, out);
  if (ms_between(last_sent_, now.mono) >= s.heartbeat.count())
    send(Heartbeat{now.wall_ms, 0}, now, out);
  if (!settings_.peer_is_parent && relays_pending_ &&
      ms_between(relays_at_, now.mono) > s.ack_timeout.count()) {
    relays_at_ = now.mono;
    out.push_back(SendRelays{});
  }
  return out;
}

}  // namespace liandong::sync
