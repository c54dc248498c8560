// The session state machine, driven by hand: no sockets, no LMDB, no
// clock but the one the test moves.
#include "node/sync/session.h"

#include <catch2/catch.hpp>

#include "node/sync/sim.h"

using namespace liandong;
using namespace liandong::sync;
using namespace std::chrono_literals;

namespace {

const std::string kTown = "360723101";
const std::string kVillage = "360723101001";

std::vector<Message> sent(const Actions& actions) {
  std::vector<Message> out;
  for (const auto& a : actions)
    if (const auto* s = std::get_if<Send>(&a)) out.push_back(s->message);
  return out;
}

template <typename T>
std::vector<T> only(const Actions& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (const auto* x = std::get_if<T>(&a)) out.push_back(*x);
  return out;
}

template <typename T>
std::vector<T> sent_of(const Actions& actions) {
  std::vector<T> out;
  for (const auto& m : sent(actions))
    if (const auto* x = std::get_if<T>(&m)) out.push_back(*x);
  return out;
}

// Every message goes through the wire format, as it would between nodes.
Message wire(const Message& m) {
  auto back = decode_message(encode_message(m), 64 << 20);
  REQUIRE(back.ok());
  return *back;
}

// A township and one of its villages, each with its session of the other.
struct Link {
  explicit Link(config::SyncSettings s = sim::fast_settings())
      : settings(s),
        up(SessionSettings{kVillage, kTown, true, true, settings}, village),
        down(SessionSettings{kTown, kVillage, false, true, settings}, town) {}
  ManualClock clock;
  sim::MemNode town{kTown, "store-town"}, village{kVillage, "store-village"};
  config::SyncSettings settings;
  Session up, down;

  Now now() const { return Now{clock.now(), clock.wall_ms()}; }

  void add(sim::MemNode& n, const std::string& home, int count) {
    for (int i = 0; i < count; ++i) {
      RouteInfo r;
      r.id = Id{n.code(), n.store.max_seq(n.code()) + 1};
      r.home = home;
      n.store.append(r, sim::event_bytes(r));
    }
  }

  // Carries out a list of actions of `s` (stores what it ingests) and
  // returns the messages it sent, the follow-up's included.
  std::vector<Message> carry(Session& s, sim::MemNode& n, const Actions& actions) {
    std::vector<Message> out;
    for (const auto& a : actions) {
      if (const auto* send = std::get_if<Send>(&a)) out.push_back(wire(send->message));
      if (const auto* in = std::get_if<Ingest>(&a)) {
        for (auto& m : carry(s, n, s.on_ingested(n.ingest(*in), now())))
          out.push_back(std::move(m));
      }
    }
    return out;
  }

  // Hello -> Welcome -> up on both sides; returns what the town sent after
  // its Welcome (its Ack and first batches).
  std::vector<Message> handshake() {
    auto hello = sent_of<Hello>(up.dial(now()));
    REQUIRE(hello.size() == 1);
    auto from_town = carry(down, town, down.on_hello(hello[0], now()));
    REQUIRE(std::holds_alternative<Welcome>(from_town.at(0)));
    const Actions welcomed = up.on_message(from_town[0], now());
    REQUIRE(only<Up>(welcomed).size() == 1);
    up.set_streaming(true);
    from_town.erase(from_town.begin());
    return from_town;
  }
};

std::vector<Batch> batches(const std::vector<Message>& ms) {
  std::vector<Batch> out;
  for (const auto& m : ms)
    if (const auto* b = std::get_if<Batch>(&m)) out.push_back(*b);
  return out;
}

}  // namespace

TEST_CASE("session: Hello and Welcome bring both ends up and streaming starts at once",
          "[sync][session]") {
  Link l;
  l.add(l.town, kVillage, 3);
  const auto after = l.handshake();
  CHECK(l.up.state() == Session::State::up);
  CHECK(l.down.state() == Session::State::up);
  CHECK(l.up.peer_store_id() == "store-town");
  CHECK(l.down.peer_store_id() == "store-village");
  // The parent acks its cursor right after Welcome, then streams its log.
  REQUIRE(after.size() >= 2);
  CHECK(std::holds_alternative<Ack>(after[0]));
  const auto bs = batches(after);
  REQUIRE(bs.size() == 1);
  CHECK(bs[0].from_lsn == 0);
  CHECK(bs[0].to_lsn == 3);
  CHECK(bs[0].count == 3);
}

TEST_CASE("session: a batch is acked only after it is stored, with the cursor it moves to",
          "[sync][session]") {
  Link l;
  l.add(l.town, kVillage, 3);
  const auto bs = batches(l.handshake());
  REQUIRE(bs.size() == 1);
  const Actions a = l.up.on_message(bs[0], l.now());
  REQUIRE(sent(a).empty());
  const auto ingest = only<Ingest>(a);
  REQUIRE(ingest.size() == 1);
  CHECK(ingest[0].events.size() == 3);
  CHECK(ingest[0].next.lsn == 3);
  CHECK(ingest[0].next.store_id == "store-town");
  CHECK(ingest[0].authority.peer_is_parent);

  SECTION("stored: acked") {
    const auto acks = sent_of<Ack>(l.up.on_ingested(l.village.ingest(ingest[0]), l.now()));
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].have.lsn == 3);
    CHECK_FALSE(acks[0].resend);
    CHECK(l.up.rx().lsn == 3);
  }
  SECTION("the store failed: nothing is acked, the cursor stays") {
    IngestResult failed;
    failed.status = Status::no_space("disk full");
    CHECK(sent(l.up.on_ingested(failed, l.now())).empty());
    CHECK(l.up.rx().lsn == 0);
  }
}

TEST_CASE("session: a lost batch is sent again after ack_timeout", "[sync][session]") {
  Link l;
  l.add(l.town, kVillage, 3);
  const auto first = batches(l.handshake());
  REQUIRE(first.size() == 1);  // lost on the way
  l.clock.advance(l.settings.ack_timeout / 2);
  CHECK(batches(l.carry(l.down, l.town, l.down.tick(l.now()))).empty());
  l.clock.advance(l.settings.ack_timeout);
  // Heard from the village meanwhile (a heartbeat), so it is not silent.
  (void)l.down.on_message(Heartbeat{l.clock.wall_ms(), 1}, l.now());
  const auto again = batches(l.carry(l.down, l.town, l.down.tick(l.now())));
  REQUIRE(again.size() == 1);
  CHECK(again[0].from_lsn == 0);
  CHECK(again[0].to_lsn == 3);
}

TEST_CASE("session: batches that arrive out of order or twice are refused with Ack{resend}",
          "[sync][session]") {
  config::SyncSettings two = sim::fast_settings();
  two.batch_max_events = 2;
  Link small(two);
  small.add(small.town, kVillage, 4);
  auto bs = batches(small.handshake());
  REQUIRE(bs.size() == 2);
  CHECK(bs[0].to_lsn == 2);
  CHECK(bs[1].from_lsn == 2);

  SECTION("the second first: not applied, the sender is told where we are") {
    const Actions a = small.up.on_message(bs[1], small.now());
    CHECK(only<Ingest>(a).empty());
    const auto acks = sent_of<Ack>(a);
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].resend);
    CHECK(acks[0].have.lsn == 0);
    // The sender rewinds to what the village holds and sends again.
    const auto again = batches(
        small.carry(small.down, small.town, small.down.on_message(wire(acks[0]), small.now())));
    REQUIRE_FALSE(again.empty());
    CHECK(again[0].from_lsn == 0);
  }
  SECTION("a duplicate of an applied batch: not applied again") {
    (void)small.carry(small.up, small.village, small.up.on_message(bs[0], small.now()));
    (void)small.carry(small.up, small.village, small.up.on_message(bs[1], small.now()));
    CHECK(small.up.rx().lsn == 4);
    CHECK(small.village.store.end() == 4);
    const Actions dup = small.up.on_message(bs[1], small.now());
    CHECK(only<Ingest>(dup).empty());
    const auto acks = sent_of<Ack>(dup);
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].resend);
    CHECK(acks[0].have.lsn == 4);
    CHECK(small.up.rx().lsn == 4);
  }
  SECTION("a batch from zero is applied again (the sender restarted), stored once") {
    (void)small.carry(small.up, small.village, small.up.on_message(bs[0], small.now()));
    (void)small.carry(small.up, small.village, small.up.on_message(bs[0], small.now()));
    CHECK(small.village.store.end() == 2);
    CHECK(small.up.rx().lsn == 2);
  }
  SECTION("a late ack below what was acked changes nothing") {
    (void)small.down.on_message(Ack{CursorValue{"", 4, Id{kTown, 4}}, 0, {}, false}, small.now());
    CHECK(small.down.credit().acked() == 4);
    (void)small.down.on_message(Ack{CursorValue{"", 2, Id{kTown, 2}}, 0, {}, false}, small.now());
    CHECK(small.down.credit().acked() == 4);
  }
}

TEST_CASE("session: a batch that does not unpack is an offence and is asked for again",
          "[sync][session]") {
  Link l;
  l.add(l.town, kVillage, 2);
  auto bs = batches(l.handshake());
  REQUIRE(bs.size() == 1);
  Batch torn = bs[0];
  torn.events.resize(torn.events.size() / 2);
  const Actions a = l.up.on_message(torn, l.now());
  CHECK(only<Ingest>(a).empty());
  CHECK(only<Offence>(a).size() == 1);
  const auto acks = sent_of<Ack>(a);
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].resend);
}

TEST_CASE("session: a parent restored from an old copy finds out at Hello and asks for recovery",
          "[sync][session][restore]") {
  Link l;
  l.add(l.town, kVillage, 5);
  l.add(l.village, kVillage, 2);
  // The village holds the town's log to LSN 5, but that town is gone: the
  // store now at its place (same id) holds another event at 5.
  l.village.store.rx[kTown] = CursorValue{"store-town", 5, Id{"360723101", 99}};
  auto hello = sent_of<Hello>(l.up.dial(l.now()));
  REQUIRE(hello.size() == 1);
  CHECK(hello[0].have.lsn == 5);
  const Actions a = l.down.on_hello(hello[0], l.now());
  CHECK(only<ForgetFutureMarks>(a).size() == 1);
  const auto ms = sent(a);
  REQUIRE(ms.size() >= 3);
  CHECK(std::holds_alternative<Welcome>(ms[0]));
  CHECK(std::holds_alternative<Recover>(ms[1]));
  // It sends its own log from zero.
  const auto bs = batches(ms);
  REQUIRE_FALSE(bs.empty());
  CHECK(bs[0].from_lsn == 0);
  // The village, asked to recover the town, sends back what belongs there
  // whatever its origin: the town's own events it holds.
  const Welcome w = std::get<Welcome>(ms[0]);
  (void)l.up.on_message(w, l.now());
  l.up.set_streaming(true);
  const auto back = batches(l.carry(l.up, l.village, l.up.on_message(Recover{}, l.now())));
  REQUIRE_FALSE(back.empty());
  CHECK(back[0].from_lsn == 0);
  std::size_t events = 0;
  for (const auto& b : back)
    events += b.count;
  CHECK(events == 2);  // the village's own two: it holds none of the town's yet
}

TEST_CASE("session: a child with a new store is re-sent everything that belongs at it",
          "[sync][session][restore]") {
  Link l;
  // The town holds one event the village made, and a cursor of an older
  // store of the village.
  RouteInfo own;
  own.id = Id{kVillage, 1};
  own.home = kVillage;
  REQUIRE(l.town.store.append(own, sim::event_bytes(own)));
  l.town.store.rx[kVillage] = CursorValue{"store-old", 7, Id{kVillage, 7}};

  SECTION("a new store: its own event goes back down to it") {
    const auto bs = batches(l.handshake());
    CHECK(l.down.rx().lsn == 0);
    CHECK(l.down.rx().store_id == "store-village");
    REQUIRE(bs.size() == 1);
    CHECK(bs[0].count == 1);  // the plain rule never sends an event back to its origin
  }
  SECTION("the same store: nothing goes back") {
    l.town.store.rx[kVillage] = CursorValue{"store-village", 0, {}};
    std::size_t events = 0;
    for (const auto& b : batches(l.handshake()))
      events += b.count;
    CHECK(events == 0);
  }
}

TEST_CASE("session: a Hello that cannot be accepted leaves the session as it was",
          "[sync][session][regression]") {
  Link l;
  auto hello = sent_of<Hello>(l.up.dial(l.now()));
  REQUIRE(hello.size() == 1);

  SECTION("another protocol version") {
    Hello h = hello[0];
    h.version = 99;
    const Actions a = l.down.on_hello(h, l.now());
    CHECK(only<Up>(a).empty());
    const auto refused = sent_of<Refused>(a);
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].reason == proto::RefusalReason::VERSION);
    CHECK(l.down.state() == Session::State::down);
  }
  SECTION("another code than the link's") {
    Hello h = hello[0];
    h.code = "360723101002";
    const Actions a = l.down.on_hello(h, l.now());
    CHECK(only<Up>(a).empty());
    CHECK(sent_of<Refused>(a).at(0).reason == proto::RefusalReason::CODE_MISMATCH);
    CHECK(l.down.state() == Session::State::down);
  }
  SECTION("our cursor of the child cannot be read: not up, no keys taken") {
    l.town.fail_rx_reads = true;
    const Actions a = l.down.on_hello(hello[0], l.now());
    CHECK(only<Up>(a).empty());
    CHECK(only<AcceptKeys>(a).empty());
    CHECK(only<ReserveSeq>(a).empty());
    CHECK(sent_of<Welcome>(a).empty());
    CHECK(l.down.state() == Session::State::down);
  }
}

// The regression: a read error while checking a peer's cursor of our log
// was taken for "restored from a backup": the node sent Recover and
// dropped its custody marks.
TEST_CASE("session: a store read error at the handshake is not taken for a restored store",
          "[sync][session][regression]") {
  Link l;
  l.add(l.town, kVillage, 5);
  l.village.store.rx[kTown] = CursorValue{"store-town", 5, Id{kTown, 5}};

  SECTION("the parent cannot read its log") {
    auto hello = sent_of<Hello>(l.up.dial(l.now()));
    l.town.store.fail_reads = true;
    const Actions a = l.down.on_hello(hello.at(0), l.now());
    CHECK(only<ForgetFutureMarks>(a).empty());
    CHECK(sent_of<Recover>(a).empty());
    CHECK(only<Up>(a).empty());
    CHECK(l.down.state() == Session::State::down);
    // The child is told to try again soon, not that it is misconfigured.
    CHECK(sent_of<Refused>(a).at(0).reason == proto::RefusalReason::SHUTTING_DOWN);
    // Once the store reads again, the cursor matches: no recovery at all.
    l.town.store.fail_reads = false;
    const Actions b = l.down.on_hello(hello.at(0), l.now());
    CHECK(sent_of<Recover>(b).empty());
    CHECK(only<Up>(b).size() == 1);
  }
  SECTION("the child cannot read its log when the Welcome comes") {
    auto hello = sent_of<Hello>(l.up.dial(l.now()));
    auto from_town = l.carry(l.down, l.town, l.down.on_hello(hello.at(0), l.now()));
    Welcome w = std::get<Welcome>(from_town.at(0));
    w.have = CursorValue{"store-village", 1, Id{kVillage, 1}};
    l.add(l.village, kVillage, 1);
    l.village.store.fail_reads = true;
    const Actions a = l.up.on_message(w, l.now());
    CHECK(sent_of<Recover>(a).empty());
    CHECK(only<ForgetFutureMarks>(a).empty());
    const auto down = only<Down>(a);
    REQUIRE(down.size() == 1);
    CHECK_FALSE(down[0].refused);  // retried with the ordinary backoff
    CHECK(l.up.state() == Session::State::down);
  }
}

TEST_CASE("session: heartbeats keep an idle link up and measure the round trip",
          "[sync][session]") {
  Link l;
  (void)l.handshake();
  l.clock.advance(l.settings.heartbeat);
  const auto hb = sent_of<Heartbeat>(l.up.tick(l.now()));
  REQUIRE(hb.size() == 1);
  CHECK(hb[0].echo_ms == 0);
  l.clock.advance(30ms);
  const auto echo = sent_of<Heartbeat>(l.down.on_message(hb[0], l.now()));
  REQUIRE(echo.size() == 1);
  CHECK(echo[0].echo_ms == hb[0].sent_ms);
  l.clock.advance(30ms);
  (void)l.up.on_message(echo[0], l.now());
  CHECK(l.up.stats().rtt_ms == Approx(60));

  SECTION("silent for peer_timeout: down") {
    l.clock.advance(l.settings.peer_timeout + 1ms);
    const auto down = only<Down>(l.up.tick(l.now()));
    REQUIRE(down.size() == 1);
    CHECK(down[0].why == "silent too long");
    CHECK(l.up.state() == Session::State::down);
  }
}

TEST_CASE("session: an upstream's Refused ends the dial; a configuration error backs off",
          "[sync][session]") {
  Link l;
  (void)l.up.dial(l.now());
  SECTION("outside its jurisdiction") {
    const auto down = only<Down>(
        l.up.on_message(Refused{proto::RefusalReason::OUTSIDE_JURISDICTION, "no"}, l.now()));
    REQUIRE(down.size() == 1);
    CHECK(down[0].refused);
  }
  SECTION("shutting down") {
    const auto down =
        only<Down>(l.up.on_message(Refused{proto::RefusalReason::SHUTTING_DOWN, "bye"}, l.now()));
    REQUIRE(down.size() == 1);
    CHECK_FALSE(down[0].refused);
  }
  CHECK(l.up.state() == Session::State::down);
}

TEST_CASE("session: a batch the transport could not send goes again on the next pump",
          "[sync][session]") {
  Link l;
  l.add(l.town, kVillage, 3);
  const auto bs = batches(l.handshake());
  REQUIRE(bs.size() == 1);
  CHECK(l.down.credit().sent() == 3);
  l.down.send_failed(bs[0]);
  CHECK(l.down.credit().sent() == 0);
  const auto again = batches(l.carry(l.down, l.town, l.down.pump(l.now())));
  REQUIRE(again.size() == 1);
  CHECK(again[0].from_lsn == 0);
}
