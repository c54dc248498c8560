// A hostile township on a real link: forged, altered and replayed events are
// refused while honest traffic goes on (DESIGN.md section 8, "Authority";
// docs/SECURITY.md, "End-to-end signatures", "Replay").
//
// One real county daemon (`liandong run`); real township and village stores
// made by `liandong init`, so their key files exist. The township's daemon
// never runs: the test speaks for it. It takes the township's key files
// (DATA/keys/curve.key and curve.pub for the CurveZMQ link, sign.key for its
// Ed25519 signatures), dials the county as that township would (a DEALER
// whose routing id is its code), says Hello with its code, store id and
// cursor, vouches for its villages' signing keys, then sends Batch messages
// built with protocol/sync_codec exactly as the daemon builds them. Genuine
// village events are made by the CLI in the villages' own stores and read
// there as sealed bytes; forged ones are sealed here.
//
// The township also plays parent to a running village daemon (HostileParent):
// it binds the township's listening endpoint with the township's link keys,
// welcomes the village and sends it broadcasts down, validly signed with the
// township's key, that only the county may make.
//
// Each scenario asserts on the county's store (`store events --json`,
// `case show --json`), its log (a line naming the sender, the event's
// origin and the reason), its `status --json` (the township link's state and
// its received and refused event counters), its audit log and on the Ack it
// sends back (refused ids with reasons).
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"
#include "protocol/sync_codec.h"
#include "storage/store.h"
#include "storage/test_events.h"
#include "tests/json_reader.h"
#include "tests/net_fixture.h"
#include "tests/support/files.h"
#include "tests/support/submit.h"

using liandong::test::Json;
using liandong::test::Net;
using liandong::test::NodeSpec;
using liandong::test::SyncTimings;
using liandong::test::wait_until;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace proto = liandong::proto;
namespace wire = liandong::sync;
using liandong::Id;

namespace {

using Clock = std::chrono::steady_clock;

const std::string kCounty = "360723";
const std::string kTown = "360723101";
const std::string kV1 = "360723101007";
const std::string kV2 = "360723101008";
const std::string kTown2 = "360723102";  // a neighbouring township

// Only the county runs. A long peer timeout: the test's client answers
// heartbeats only while it waits for the county, not while it reads stores.
Net make_net(bool second_township = false) {
  SyncTimings t;
  t.heartbeat_ms = 300;
  t.peer_timeout_ms = 20000;
  std::vector<NodeSpec> tree = {{kCounty, {}}, {kTown, {kCounty}}, {kV1, {kTown}}, {kV2, {kTown}}};
  if (second_township) tree.push_back({kTown2, {kCounty}});
  return Net(std::move(tree), t);
}

using liandong::test::read_text;

// The log is written by another process: wait (bounded) for the line.
bool log_shows(const Net& net, const std::string& code, const std::string& text) {
  return wait_until([&] { return read_text(net.log_path(code)).find(text) != std::string::npos; },
                    5s);
}

// The daemon logs each batch's new and duplicate events at debug level, the
// fixture's default (LIANDONG_SYNCTEST_LOG_LEVEL may lower it).
bool debug_log() {
  const char* level = std::getenv("LIANDONG_SYNCTEST_LOG_LEVEL");
  return level == nullptr || *level == '\0' || std::string(level) == "debug" ||
         std::string(level) == "trace";
}

std::string first_word(const fs::path& p) {
  std::ifstream in(p);
  std::string w;
  in >> w;
  return w;
}

// The node's Ed25519 key from DATA/keys/sign.key (hex of the 64-byte secret).
liandong::SigningKey signing_key(const Net& net, const std::string& code) {
  const auto hex = liandong::from_hex(first_word(net.data_dir(code) / "keys" / "sign.key"));
  REQUIRE(hex);
  const auto key = liandong::signing_key_from_secret(*hex);
  REQUIRE(key);
  return *key;
}

uint64_t now_hlc() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return liandong::make_hlc(static_cast<uint64_t>(ms), 0);
}

// ---- genuine events, made by the CLI in a village's own store ----------------------------

struct Application {
  std::string applicant, id_number, item, item_name, fee_yuan;
};

// Registers the application at the village point (or township hub) `code`;
// no daemon runs there: the CLI writes the store itself. Returns the case id.
std::string submit(const Net& net, const std::string& code, const Application& a) {
  // An agent at a village point, a window clerk at a township hub.
  const bool at_village = code.size() == 12;
  liandong::test::Application app;
  app.actor = at_village ? "王小红" : "李明";
  app.role = at_village ? "agent" : "clerk";
  app.item = a.item;
  app.item_name = a.item_name;
  app.applicant = a.applicant;
  app.id_number = a.id_number;
  app.extra = {"--fee-due", a.fee_yuan};
  return liandong::test::submit(net, code, app);
}

// Every event of the village's log as sealed bytes, by printed id.
std::map<std::string, std::string> sealed_events(const Net& net, const std::string& village) {
  liandong::storage::StoreOptions opts;
  opts.dir = net.data_dir(village) / "store";
  auto store = liandong::storage::Store::open(opts);
  REQUIRE(store.ok());
  std::map<std::string, std::string> out;
  auto s = (*store)->scan_log(0, 10000, [&](uint64_t, std::string_view bytes) {
    auto info = wire::route_info(bytes);
    if (info.ok()) out[liandong::format_id(info->id)] = std::string(bytes);
    return true;
  });
  REQUIRE(s.ok());
  return out;
}

// ---- forged and altered events -------------------------------------------------------------

// A `decided approved` on `case_id`, claiming to come from `origin`, sealed
// with `key`.
std::string forged_decision(const std::string& origin, uint64_t seq, const std::string& case_id,
                            const std::string& home, const liandong::SigningKey& key) {
  liandong::test::Head h;
  h.id = Id{origin, seq};
  h.case_id = *liandong::parse_id(case_id);
  h.home = home;
  h.hlc = now_hlc();
  h.actor = "刘建国";
  return liandong::test::seal_event(h, liandong::test::decided_body(true), key);
}

// A new application claiming to come from `village`, sealed with `key`.
std::string forged_application(const std::string& village, uint64_t seq,
                               const liandong::SigningKey& key) {
  liandong::test::Head h;
  h.id = Id{village, seq};
  h.case_id = h.id;
  h.home = village;
  h.hlc = now_hlc();
  h.actor = "王小红";
  return liandong::test::seal_event(h, liandong::test::submitted_body("赵有财", "农村宅基地建房"),
                                    key);
}

// A SignedEvent envelope around `event` bytes with a given signature.
std::string envelope(std::string_view event, std::string_view signature) {
  capnp::MallocMessageBuilder outer;
  auto env = outer.initRoot<proto::SignedEvent>();
  env.setEvent(
      capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(event.data()), event.size()));
  env.setSignature(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(signature.data()),
                                       signature.size()));
  auto words = capnp::messageToFlatArray(outer);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// The genuine event with `from` replaced by `to` (same length) inside its
// signed bytes; the old signature kept.
std::string altered_bytes(const std::string& sealed, const std::string& from,
                          const std::string& to) {
  REQUIRE(from.size() == to.size());
  auto view = liandong::EventView::parse(sealed);
  REQUIRE(view.ok());
  std::string ev(view->event_bytes());
  const auto at = ev.find(from);
  REQUIRE(at != std::string::npos);
  ev.replace(at, from.size(), to);
  return envelope(ev, view->signature());
}

// The genuine `submitted` re-encoded with another fee due; the old signature kept.
std::string altered_fee(const std::string& sealed, int64_t fee_fen) {
  auto view = liandong::EventView::parse(sealed);
  REQUIRE(view.ok());
  capnp::MallocMessageBuilder msg;
  msg.setRoot(view->event());
  msg.getRoot<proto::Event>().getBody().getSubmitted().setFeeDue(fee_fen);
  auto words = capnp::messageToFlatArray(msg);
  auto bytes = words.asBytes();
  return envelope(std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()),
                  view->signature());
}

// ---- the hostile township: a CurveZMQ client speaking the sync protocol --------------------

struct AckSeen {
  uint64_t have = 0;
  bool resend = false;
  std::map<std::string, std::string> rejected;  // printed id -> reason
};

class HostileTownship {
 public:
  // Dials `parent` with the township's own link keys, as the township would.
  HostileTownship(const Net& net, const std::string& code, const std::string& parent)
      : net_(net), code_(code), sock_(ctx_, zmq::socket_type::dealer) {
    const fs::path keys = net.data_dir(code) / "keys";
    sock_.set(zmq::sockopt::linger, 0);
    sock_.set(zmq::sockopt::routing_id, code);
    sock_.set(zmq::sockopt::curve_serverkey, net.keys(parent).curve_key);
    sock_.set(zmq::sockopt::curve_publickey, first_word(keys / "curve.pub"));
    sock_.set(zmq::sockopt::curve_secretkey, first_word(keys / "curve.key"));
    sock_.set(zmq::sockopt::rcvtimeo, 20);
    sock_.connect(net.listen_endpoint(parent));
  }

  // Hello with the township's code, store id and an empty cursor of the
  // county's log, vouching for the genuine signing keys of `villages`;
  // waits for Welcome and the county's first Ack.
  void hello(const std::vector<std::string>& villages) {
    std::vector<std::pair<std::string, liandong::PublicKey>> keys;
    for (const auto& v : villages) {
      const auto pub = liandong::public_key_from_hex(net_.keys(v).sign_key);
      REQUIRE(pub);
      keys.emplace_back(v, *pub);
    }
    hello(keys);
  }

  // The same, vouching for whatever keys it is given. Also a new Hello on
  // a session already up (the county treats it as a reconnect).
  void hello(const std::vector<std::pair<std::string, liandong::PublicKey>>& vouched,
             const wire::CursorValue& have = {}) {
    capnp::MallocMessageBuilder msg;
    auto h = msg.initRoot<proto::SyncMessage>().initHello();
    h.setVersion(wire::kProtocolVersion);
    h.setCode(code_);
    h.setStoreId(net_.keys(code_).store_id);
    wire::write_cursor(h.initHave(), have);
    h.initCapabilities(1).set(0, "zstd");
    auto keys = h.initKeys(static_cast<unsigned>(vouched.size()));
    for (unsigned i = 0; i < keys.size(); ++i) {
      keys[i].setCode(vouched[i].first);
      keys[i].setKey(capnp::Data::Reader(vouched[i].second.data(), vouched[i].second.size()));
    }
    welcomed_ = false;
    refused_.clear();
    acks_.clear();
    send(msg);
    REQUIRE(serve_until([&] { return welcomed_ || !refused_.empty(); }, 10s));
    INFO("refused: " << refused_);
    REQUIRE(welcomed_);
    REQUIRE(serve_until([&] { return !acks_.empty(); }, 5s));  // the Ack that opens the session
    acks_.clear();
  }

  // The county's cursor of this township's log, as its last Ack said.
  uint64_t cursor() const { return cursor_; }

  // Sends the events as one batch covering (from, from + n] of the
  // township's log (from: the county's cursor unless given) and returns the
  // county's answer.
  AckSeen send_batch(const std::vector<std::string>& events,
                     std::optional<uint64_t> from = std::nullopt) {
    const uint64_t lo = from.value_or(cursor_);
    const uint64_t hi = lo + std::max<uint64_t>(events.size(), 1);
    Id last{code_, hi};  // an event of the township's own log (not routed up) when empty
    if (!events.empty()) {
      auto info = wire::route_info(events.back());
      if (info.ok()) last = info->id;
    }
    const auto packed = wire::pack_events(events, true);
    capnp::MallocMessageBuilder msg;
    auto b = msg.initRoot<proto::SyncMessage>().initBatch();
    b.setFromLsn(lo);
    b.setToLsn(hi);
    liandong::write_id(b.initLastId(), last);
    b.setCount(static_cast<uint32_t>(events.size()));
    b.setCompression(packed.compressed ? proto::Compression::ZSTD : proto::Compression::NONE);
    b.setEvents(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(packed.data.data()),
                                    packed.data.size()));
    b.setRawBytes(packed.raw_bytes);
    acks_.clear();
    send(msg);
    INFO("batch (" << lo << ", " << hi << "] of " << events.size() << " events: no Ack");
    REQUIRE(serve_until([&] { return !acks_.empty(); }, 10s));
    AckSeen a = acks_.front();
    acks_.pop_front();
    return a;
  }

  // Keeps the session alive (heartbeats) for `d`.
  void idle(std::chrono::milliseconds d) {
    serve_until([] { return false; }, d);
  }

  // Sends bytes as they are: garbage, truncated or oversized messages.
  void send_raw(const std::string& bytes) {
    sock_.send(zmq::buffer(bytes), zmq::send_flags::none);
    last_sent_ = Clock::now();
  }

  // Refused messages the county sent since the last Hello.
  int refusals() const { return refusals_; }

  // Sends Hello and tells whether the county answered it (Welcome or
  // Refused) within `timeout`.
  bool hello_answered(const std::string& village, std::chrono::milliseconds timeout) {
    const auto key = liandong::public_key_from_hex(net_.keys(village).sign_key);
    REQUIRE(key);
    capnp::MallocMessageBuilder msg;
    auto h = msg.initRoot<proto::SyncMessage>().initHello();
    h.setVersion(wire::kProtocolVersion);
    h.setCode(code_);
    h.setStoreId(net_.keys(code_).store_id);
    wire::write_cursor(h.initHave(), {});
    auto keys = h.initKeys(1);
    keys[0].setCode(village);
    keys[0].setKey(capnp::Data::Reader(key->data(), key->size()));
    welcomed_ = false;
    refused_.clear();
    send(msg);
    return serve_until([&] { return welcomed_ || !refused_.empty(); }, timeout);
  }

  // Says goodbye, as a township that stops.
  void bye() {
    capnp::MallocMessageBuilder msg;
    msg.initRoot<proto::SyncMessage>().setBye();
    send(msg);
  }

 private:
  void send(capnp::MessageBuilder& msg) {
    const std::string bytes = wire::encode(msg);
    sock_.send(zmq::buffer(bytes), zmq::send_flags::none);
    last_sent_ = Clock::now();
  }

  // Receives and answers what the county sends until `done` holds or
  // `timeout` passes; bounded by the clock and by a count of turns.
  bool serve_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (int turn = 0; turn < 100000 && Clock::now() < deadline; ++turn) {
      if (done()) return true;
      zmq::message_t m;
      if (sock_.recv(m, zmq::recv_flags::none)) handle(m.to_string());
      if (welcomed_ && Clock::now() - last_sent_ > 200ms) heartbeat(0);
    }
    return done();
  }

  void heartbeat(uint64_t echo) {
    capnp::MallocMessageBuilder msg;
    auto h = msg.initRoot<proto::SyncMessage>().initHeartbeat();
    h.setSentMs(liandong::hlc_ms(now_hlc()));
    h.setEchoMs(echo);
    send(msg);
  }

  void handle(const std::string& bytes) {
    auto parsed = wire::SyncReader::parse(bytes, 64u << 20);
    if (!parsed.ok()) return;
    try {
      auto msg = parsed->root();
      switch (msg.which()) {
        case proto::SyncMessage::WELCOME:
          welcomed_ = true;
          cursor_ = msg.getWelcome().getHave().getLsn();
          break;
        case proto::SyncMessage::REFUSED:
          refused_ = msg.getRefused().getText().cStr();
          ++refusals_;
          break;
        case proto::SyncMessage::ACK: {
          auto a = msg.getAck();
          AckSeen seen;
          seen.have = a.getHave().getLsn();
          seen.resend = a.getResend();
          for (auto r : a.getRejected())
            seen.rejected[r.hasId() ? liandong::format_id(liandong::read_id(r.getId())) : "?"] =
                r.getReason().cStr();
          cursor_ = seen.have;
          acks_.push_back(std::move(seen));
          break;
        }
        case proto::SyncMessage::HEARTBEAT:
          if (msg.getHeartbeat().getEchoMs() == 0) heartbeat(msg.getHeartbeat().getSentMs());
          break;
        case proto::SyncMessage::BATCH: {
          // The county's own events for this township: acknowledged as held.
          auto b = msg.getBatch();
          capnp::MallocMessageBuilder ack;
          auto a = ack.initRoot<proto::SyncMessage>().initAck();
          wire::write_cursor(a.initHave(),
                             wire::CursorValue{"", b.getToLsn(), liandong::read_id(b.getLastId())});
          send(ack);
          break;
        }
        default:
          break;
      }
    } catch (const kj::Exception&) {
      // A message this client cannot read: ignored, as a township would log it.
    }
  }

  const Net& net_;
  std::string code_;
  zmq::context_t ctx_;
  zmq::socket_t sock_;
  bool welcomed_ = false;
  std::string refused_;
  int refusals_ = 0;
  uint64_t cursor_ = 0;
  std::deque<AckSeen> acks_;
  Clock::time_point last_sent_ = Clock::now();
};

// ---- the hostile township as a parent: a CurveZMQ server speaking the sync protocol ------

// Binds the township's listening endpoint with the township's own link keys,
// so its villages' daemons dial it and take it for their township. Answers
// Hello with Welcome (vouching for the township's and the county's genuine
// signing keys), acknowledges what the village sends up, answers heartbeats,
// and sends down Batch messages built as the daemon builds them.
class HostileParent {
 public:
  HostileParent(const Net& net, const std::string& code)
      : net_(net), code_(code), sock_(ctx_, zmq::socket_type::router) {
    const fs::path keys = net.data_dir(code) / "keys";
    sock_.set(zmq::sockopt::linger, 0);
    sock_.set(zmq::sockopt::curve_server, 1);
    sock_.set(zmq::sockopt::curve_publickey, first_word(keys / "curve.pub"));
    sock_.set(zmq::sockopt::curve_secretkey, first_word(keys / "curve.key"));
    sock_.set(zmq::sockopt::rcvtimeo, 20);
    sock_.bind(net.listen_endpoint(code));
  }

  // Waits for `child`'s Hello and welcomes it as its township would.
  void welcome(const std::string& child, std::chrono::milliseconds timeout) {
    child_ = child;
    INFO("no Hello from " << child);
    REQUIRE(serve_until([&] { return welcomed_; }, timeout));
  }

  // Sends the events down as one batch covering (sent, sent + n] of the
  // township's log and returns the village's answer.
  AckSeen send_batch(const std::vector<std::string>& events) {
    REQUIRE(!events.empty());
    const uint64_t lo = sent_;
    const uint64_t hi = lo + events.size();
    auto info = wire::route_info(events.back());
    REQUIRE(info.ok());
    const auto packed = wire::pack_events(events, true);
    capnp::MallocMessageBuilder msg;
    auto b = msg.initRoot<proto::SyncMessage>().initBatch();
    b.setFromLsn(lo);
    b.setToLsn(hi);
    liandong::write_id(b.initLastId(), info->id);
    b.setCount(static_cast<uint32_t>(events.size()));
    b.setCompression(packed.compressed ? proto::Compression::ZSTD : proto::Compression::NONE);
    b.setEvents(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(packed.data.data()),
                                    packed.data.size()));
    b.setRawBytes(packed.raw_bytes);
    acks_.clear();
    send(msg);
    sent_ = hi;
    INFO("batch (" << lo << ", " << hi << "] of " << events.size() << " events: no Ack");
    REQUIRE(serve_until([&] { return !acks_.empty(); }, 10s));
    AckSeen a = acks_.front();
    acks_.pop_front();
    return a;
  }

  // Keeps the session alive (heartbeats, acks) for `d`.
  void idle(std::chrono::milliseconds d) {
    serve_until([] { return false; }, d);
  }

  // Hello messages received (a second one means the village redialled).
  int hellos() const { return hellos_; }

 private:
  void send(capnp::MessageBuilder& msg) {
    const std::string bytes = wire::encode(msg);
    sock_.send(zmq::buffer(rid_), zmq::send_flags::sndmore);
    sock_.send(zmq::buffer(bytes), zmq::send_flags::none);
    last_sent_ = Clock::now();
  }

  bool serve_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (int turn = 0; turn < 100000 && Clock::now() < deadline; ++turn) {
      if (done()) return true;
      zmq::message_t rid;
      if (sock_.recv(rid, zmq::recv_flags::none)) {
        zmq::message_t body;
        if (rid.more() && sock_.recv(body, zmq::recv_flags::none))
          handle(rid.to_string(), body.to_string());
      }
      if (welcomed_ && Clock::now() - last_sent_ > 200ms) heartbeat(0);
    }
    return done();
  }

  void heartbeat(uint64_t echo) {
    capnp::MallocMessageBuilder msg;
    auto h = msg.initRoot<proto::SyncMessage>().initHeartbeat();
    h.setSentMs(liandong::hlc_ms(now_hlc()));
    h.setEchoMs(echo);
    send(msg);
  }

  void on_hello(const std::string& rid, proto::Hello::Reader hello) {
    if (std::string(hello.getCode().cStr()) != child_) return;
    ++hellos_;
    rid_ = rid;
    capnp::MallocMessageBuilder msg;
    auto w = msg.initRoot<proto::SyncMessage>().initWelcome();
    w.setVersion(wire::kProtocolVersion);
    w.setCode(code_);
    w.setStoreId(net_.keys(code_).store_id);
    wire::write_cursor(w.initHave(), {});
    w.initCapabilities(1).set(0, "zstd");
    // Its own key and its parent's: what a township may vouch for.
    const std::vector<std::string> codes = {code_, code_.substr(0, 6)};
    auto keys = w.initKeys(static_cast<unsigned>(codes.size()));
    for (unsigned i = 0; i < keys.size(); ++i) {
      const auto pub = liandong::public_key_from_hex(net_.keys(codes[i]).sign_key);
      REQUIRE(pub);
      keys[i].setCode(codes[i]);
      keys[i].setKey(capnp::Data::Reader(pub->data(), pub->size()));
    }
    w.setWallMs(liandong::hlc_ms(now_hlc()));
    send(msg);
    // The Ack that opens the session: nothing of the village's log held yet.
    capnp::MallocMessageBuilder ack;
    wire::write_cursor(ack.initRoot<proto::SyncMessage>().initAck().initHave(), {});
    send(ack);
    welcomed_ = true;
    sent_ = 0;
  }

  void handle(const std::string& rid, const std::string& bytes) {
    auto parsed = wire::SyncReader::parse(bytes, 64u << 20);
    if (!parsed.ok()) return;
    try {
      auto msg = parsed->root();
      if (msg.which() == proto::SyncMessage::HELLO) {
        on_hello(rid, msg.getHello());
        return;
      }
      if (rid != rid_) return;
      switch (msg.which()) {
        case proto::SyncMessage::ACK: {
          auto a = msg.getAck();
          AckSeen seen;
          seen.have = a.getHave().getLsn();
          seen.resend = a.getResend();
          for (auto r : a.getRejected())
            seen.rejected[r.hasId() ? liandong::format_id(liandong::read_id(r.getId())) : "?"] =
                r.getReason().cStr();
          acks_.push_back(std::move(seen));
          break;
        }
        case proto::SyncMessage::HEARTBEAT:
          if (msg.getHeartbeat().getEchoMs() == 0) heartbeat(msg.getHeartbeat().getSentMs());
          break;
        case proto::SyncMessage::BATCH: {
          // The village's own events: acknowledged as held.
          auto b = msg.getBatch();
          capnp::MallocMessageBuilder ack;
          auto a = ack.initRoot<proto::SyncMessage>().initAck();
          wire::write_cursor(a.initHave(),
                             wire::CursorValue{"", b.getToLsn(), liandong::read_id(b.getLastId())});
          send(ack);
          break;
        }
        default:
          break;
      }
    } catch (const kj::Exception&) {
      // A message this server cannot read: ignored.
    }
  }

  const Net& net_;
  std::string code_;
  std::string child_;
  zmq::context_t ctx_;
  zmq::socket_t sock_;
  std::string rid_;
  bool welcomed_ = false;
  int hellos_ = 0;
  uint64_t sent_ = 0;
  std::deque<AckSeen> acks_;
  Clock::time_point last_sent_ = Clock::now();
};

// The genuine event re-made as `id`'s origin's own (its id and home
// changed), signed with `key`: validly signed by whoever holds that key.
std::string remade_as(const std::string& sealed, const Id& id, const liandong::SigningKey& key) {
  auto view = liandong::EventView::parse(sealed);
  REQUIRE(view.ok());
  capnp::MallocMessageBuilder msg;
  msg.setRoot(view->event());
  auto ev = msg.getRoot<proto::Event>();
  liandong::write_id(ev.initId(), id);
  ev.setHome(id.origin);
  return liandong::seal(msg, key);
}

// The county's one event of `kind` (per EventView::kind), sealed as stored there.
std::pair<std::string, std::string> county_notice(const std::map<std::string, std::string>& log,
                                                  liandong::EventKind kind) {
  for (const auto& [id, bytes] : log) {
    auto view = liandong::EventView::parse(bytes);
    if (view.ok() && view->kind() == kind) return {id, bytes};
  }
  FAIL("the county holds no " << liandong::kind_name(kind));
  return {};
}

// ---- what the county shows -----------------------------------------------------------------

// How many copies of the event `id` the county's log holds.
int copies(const Net& net, const std::string& code, const std::string& id) {
  int n = 0;
  for (const auto& e : net.events(code))
    n += e.id == id ? 1 : 0;
  return n;
}

// Case events held (audit records and key directory notices left out: the
// nodes write their own as they run).
std::size_t work_events(const Net& net, const std::string& code) {
  std::size_t n = 0;
  for (const auto& e : net.events(code))
    n += e.case_id.empty() ? 0 : 1;
  return n;
}

std::size_t held_of_kind(const Net& net, const std::string& code, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& e : net.events(code))
    n += e.kind == kind ? 1 : 0;
  return n;
}

Json case_show(const Net& net, const std::string& code, const std::string& case_id) {
  auto r = net.cli(code, {"case", "show", case_id, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = liandong::test::parse_json(r.out);
  REQUIRE(j);
  return *j;
}

bool case_known(const Net& net, const std::string& code, const std::string& case_id) {
  return net.cli(code, {"case", "show", case_id, "--json"}).exit_code == 0;
}

// The county's view of one link in `status --json`.
struct LinkView {
  std::string state;
  uint64_t received = 0, rejected = 0;
};

LinkView link_view(const Net& net, const std::string& code, const std::string& peer) {
  auto r = net.cli(code, {"status", "--json"}, 10s);
  REQUIRE(r.exit_code == 0);
  auto j = liandong::test::parse_json(r.out);
  REQUIRE(j);
  const Json* links = j->get("links");
  REQUIRE(links != nullptr);
  for (const auto& l : links->items) {
    if (l.str("peer") == peer)
      return {l.str("state"), l.u64("events_received"), l.u64("events_rejected")};
  }
  FAIL("status of " << code << " lists no link to " << peer);
  return {};
}

// The county's audit records of events refused from `peer` whose reason
// holds `text`: how many times (summing aggregated counts).
uint64_t audited_refusals(const Net& net, const std::string& code, const std::string& peer,
                          const std::string& text) {
  auto r = net.cli(code, {"audit", "--json"});
  if (r.exit_code != 0) return 0;
  auto j = liandong::test::parse_json(r.out);
  if (!j) return 0;
  uint64_t n = 0;
  for (const auto& a : j->items) {
    if (a.str("what") == "event_refused" && a.str("peer_code") == peer &&
        a.str("reason").find(text) != std::string::npos)
      n += a.u64("count", 1);
  }
  return n;
}

std::string rejected_list(const AckSeen& a) {
  std::string s;
  for (const auto& [id, reason] : a.rejected)
    s += id + ": " + reason + "\n";
  return s;
}

// Genuine applications, as village agents take them (DOMAIN.md).
const Application kHouse{"张三", "360723198805123413", "NC-ZJD-001", "农村宅基地建房", "0"};
const Application kAllowance{"欧阳秀英", "360723195803221526", "NC-DB-001", "农村最低生活保障",
                             "0"};
const Application kTimber{"李桂兰", "36072319720615482X", "LY-CF-002", "林木采伐许可", "200"};
const Application kBirth{"陈志强", "360723199103087715", "WJ-SY-001", "生育登记", "0"};
const Application kTransfer{"黄美华", "360723198509173627", "GA-HK-003", "户口迁移", "0"};
const Application kMedical{"刘德福", "360723194611023010", "YB-XNH-001", "新农合报销", "0"};

}  // namespace

TEST_CASE("forge: a county decision forged by a village or the township is refused",
          "[forge][security]") {
  Net net = make_net();
  net.start(kCounty);
  const std::string house = submit(net, kV1, kHouse);
  const std::string allowance = submit(net, kV1, kAllowance);
  auto genuine = sealed_events(net, kV1);
  REQUIRE(genuine.count(house) == 1);

  HostileTownship town(net, kTown, kCounty);
  town.hello({kV1, kV2});
  // The county's id 360723-900001/2: far above anything it numbered itself,
  // so a wrongly accepted forgery could never pass as a duplicate.
  const std::string by_village =
      forged_decision(kCounty, 900001, house, kV1, signing_key(net, kV1));
  const std::string by_town = forged_decision(kCounty, 900002, house, kV1, signing_key(net, kTown));
  const AckSeen ack = town.send_batch({genuine[house], by_village, by_town, genuine[allowance]});

  // The sender is told which events were refused, and the batch is acked.
  INFO(rejected_list(ack));
  CHECK_FALSE(ack.resend);
  CHECK(ack.have == 4);
  CHECK(ack.rejected.size() == 2);
  CHECK(ack.rejected.count("360723-900001") == 1);
  CHECK(ack.rejected.count("360723-900002") == 1);

  // Not stored: no county event and no decision at the county; the case is
  // still the village's application, undecided.
  CHECK(copies(net, kCounty, "360723-900001") == 0);
  CHECK(copies(net, kCounty, "360723-900002") == 0);
  CHECK(held_of_kind(net, kCounty, "decided") == 0);
  const Json shown = case_show(net, kCounty, house);
  CHECK(shown.str("status") == "submitted");
  CHECK(shown.u64("event_count") == 1);
  // The honest events of the same batch were stored.
  CHECK(copies(net, kCounty, house) == 1);
  CHECK(copies(net, kCounty, allowance) == 1);

  // Logged with the sender, the origin (in the id) and the reason.
  CHECK(log_shows(net, kCounty,
                  "rejected event 360723-900001 from 360723101: origin 360723 is outside child "
                  "360723101"));
  CHECK(log_shows(net, kCounty, "rejected event 360723-900002 from 360723101: origin 360723"));
  // Counted in status; the link stays up.
  const LinkView link = link_view(net, kCounty, kTown);
  CHECK(link.state == "up");
  CHECK(link.received == 4);
  CHECK(link.rejected == 2);
  // And in the county's audit log (拒收事件).
  CHECK(
      wait_until([&] { return audited_refusals(net, kCounty, kTown, "outside child") >= 1; }, 5s));
  CHECK(net.unexpected_exits().empty());
}

TEST_CASE("forge: a village application altered in transit is refused", "[forge][security]") {
  Net net = make_net();
  net.start(kCounty);
  const std::string allowance = submit(net, kV1, kAllowance);
  const std::string timber = submit(net, kV1, kTimber);
  const std::string birth = submit(net, kV2, kBirth);
  auto v1 = sealed_events(net, kV1);
  auto v2 = sealed_events(net, kV2);

  HostileTownship town(net, kTown, kCounty);
  town.hello({kV1, kV2});
  // The township changes the applicant's ID number in the signed bytes,
  // lowers the fee due (200 yuan -> 2 fen) by re-encoding the event, and
  // makes up an application of its own in the village's name.
  const std::string other_id =
      altered_bytes(v1[allowance], kAllowance.id_number, "360723196001010019");
  const std::string cheaper = altered_fee(v1[timber], 2);
  const std::string made_up = forged_application(kV1, 77, signing_key(net, kTown));
  const AckSeen ack = town.send_batch({other_id, v2[birth], cheaper, made_up});

  INFO(rejected_list(ack));
  CHECK_FALSE(ack.resend);
  CHECK(ack.rejected.size() == 3);
  for (const std::string& id : {allowance, timber, std::string("360723101007-000077")}) {
    INFO(id);
    REQUIRE(ack.rejected.count(id) == 1);
    CHECK(ack.rejected.at(id).find("bad signature") != std::string::npos);
    CHECK(copies(net, kCounty, id) == 0);
    CHECK_FALSE(case_known(net, kCounty, id));
    CHECK(log_shows(net, kCounty,
                    "rejected event " + id + " from 360723101: bad signature on event " + id));
  }
  // The other village's application in the same batch went through.
  CHECK(copies(net, kCounty, birth) == 1);
  {
    const LinkView link = link_view(net, kCounty, kTown);
    CHECK(link.state == "up");
    CHECK(link.rejected == 3);
  }
  CHECK(
      wait_until([&] { return audited_refusals(net, kCounty, kTown, "bad signature") >= 1; }, 5s));

  // The genuine bytes, sent next on the same link, are stored as the
  // village made them.
  const AckSeen next = town.send_batch({v1[allowance], v1[timber]});
  INFO(rejected_list(next));
  CHECK(next.rejected.empty());
  CHECK(copies(net, kCounty, allowance) == 1);
  CHECK(copies(net, kCounty, timber) == 1);
  CHECK(case_show(net, kCounty, allowance).str("applicant_id") == kAllowance.id_number);
  CHECK(case_show(net, kCounty, allowance).str("applicant_name") == kAllowance.applicant);
  CHECK(case_show(net, kCounty, timber).u64("fee_due_fen") == 20000);
  CHECK(link_view(net, kCounty, kTown).rejected == 3);
  CHECK(net.unexpected_exits().empty());
}

TEST_CASE("forge: a replayed event is stored once", "[forge][security]") {
  Net net = make_net();
  net.start(kCounty);
  const std::string house = submit(net, kV1, kHouse);
  const std::string medical = submit(net, kV1, kMedical);
  const std::string transfer = submit(net, kV2, kTransfer);
  auto v1 = sealed_events(net, kV1);
  auto v2 = sealed_events(net, kV2);

  HostileTownship town(net, kTown, kCounty);
  town.hello({kV1, kV2});
  const AckSeen first = town.send_batch({v1[house], v1[medical]});  // (0, 2]
  CHECK(first.rejected.empty());
  CHECK(first.have == 2);
  const std::size_t held = work_events(net, kCounty);
  CHECK(held == 2);

  // The same event again, twice in one later batch: (2, 4].
  const AckSeen again = town.send_batch({v1[house], v1[house]});
  INFO(rejected_list(again));
  CHECK_FALSE(again.resend);
  CHECK(again.have == 4);
  CHECK(again.rejected.empty());  // a duplicate is acknowledged, not refused
  CHECK(copies(net, kCounty, house) == 1);
  CHECK(work_events(net, kCounty) == held);
  CHECK(case_show(net, kCounty, house).u64("event_count") == 1);
  // The log tells a duplicate from a store: two events received, none new.
  if (debug_log()) CHECK(log_shows(net, kCounty, "batch (2, 4] from 360723101: 2 events, 0 new"));

  // A recorded batch replayed verbatim (not at the county's cursor) is not
  // applied: the county answers with its cursor and asks for a resend.
  const AckSeen stale = town.send_batch({v1[house], v1[medical]}, 1);
  CHECK(stale.resend);
  CHECK(stale.have == 4);
  CHECK(work_events(net, kCounty) == held);

  // The whole log replayed from zero (a sender that restarted): all duplicates.
  const AckSeen from_zero = town.send_batch({v1[house], v1[medical], v1[house], v1[house]}, 0);
  CHECK_FALSE(from_zero.resend);
  CHECK(from_zero.rejected.empty());
  if (debug_log()) CHECK(log_shows(net, kCounty, "batch (0, 4] from 360723101: 4 events, 0 new"));
  CHECK(copies(net, kCounty, house) == 1);
  CHECK(copies(net, kCounty, medical) == 1);
  CHECK(work_events(net, kCounty) == held);

  // Duplicates are not refusals, and honest news still gets in.
  const AckSeen fresh = town.send_batch({v1[medical], v2[transfer]});
  CHECK(fresh.rejected.empty());
  CHECK(copies(net, kCounty, transfer) == 1);
  CHECK(copies(net, kCounty, medical) == 1);
  CHECK(work_events(net, kCounty) == held + 1);
  const LinkView link = link_view(net, kCounty, kTown);
  CHECK(link.state == "up");
  CHECK(link.rejected == 0);
  CHECK(link.received == 2 + 2 + 4 + 2);  // the stale batch was dropped unread
  CHECK(net.unexpected_exits().empty());
}

TEST_CASE("forge: honest traffic on the link goes on between and after refused events",
          "[forge][security]") {
  Net net = make_net();
  net.start(kCounty);
  const std::vector<Application> apps = {kHouse, kAllowance, kTimber, kBirth, kTransfer, kMedical};
  std::vector<std::string> cases;  // alternating villages
  for (std::size_t i = 0; i < apps.size(); ++i)
    cases.push_back(submit(net, i % 2 == 0 ? kV1 : kV2, apps[i]));
  auto v1 = sealed_events(net, kV1);
  auto v2 = sealed_events(net, kV2);
  auto sealed = [&](std::size_t i) { return i % 2 == 0 ? v1[cases[i]] : v2[cases[i]]; };
  const auto village_key = signing_key(net, kV1);
  const auto town_key = signing_key(net, kTown);

  HostileTownship town(net, kTown, kCounty);
  town.hello({kV1, kV2});
  // Each round: one genuine application, then one bad event of another
  // kind, then (from the second round) the previous genuine one replayed.
  const std::vector<std::string> bad = {
      forged_decision(kCounty, 900101, cases[0], kV1, village_key),
      altered_bytes(sealed(0), apps[0].id_number, "360723200001011117"),
      forged_decision(kCounty, 900102, cases[1], kV2, town_key),
      forged_application(kV2, 88, town_key),
      // An event of a village under another township (360723102): not this
      // child's to send, whoever signed it.
      forged_application("360723102003", 5, village_key),
      altered_fee(sealed(4), 1),
  };
  uint64_t expect_rejected = 0, expect_received = 0;
  for (std::size_t i = 0; i < apps.size(); ++i) {
    std::vector<std::string> batch = {sealed(i), bad[i]};
    if (i > 0) batch.push_back(sealed(i - 1));
    const uint64_t before = town.cursor();
    const AckSeen ack = town.send_batch(batch);
    INFO("round " << i << "\n" << rejected_list(ack));
    CHECK_FALSE(ack.resend);
    CHECK(ack.have == before + batch.size());
    CHECK(ack.rejected.size() == 1);
    expect_rejected += 1;
    expect_received += batch.size();
    CHECK(copies(net, kCounty, cases[i]) == 1);
  }
  // Every honest application is held once, none of the bad ones, and no
  // case was decided by a forged decision.
  for (const auto& c : cases) {
    INFO(c);
    CHECK(copies(net, kCounty, c) == 1);
    CHECK(case_show(net, kCounty, c).str("status") == "submitted");
  }
  CHECK(work_events(net, kCounty) == apps.size());
  CHECK(held_of_kind(net, kCounty, "decided") == 0);
  CHECK_FALSE(case_known(net, kCounty, "360723101008-000088"));
  CHECK_FALSE(case_known(net, kCounty, "360723102003-000005"));
  CHECK(log_shows(net, kCounty,
                  "rejected event 360723102003-000005 from 360723101: origin 360723102003 is "
                  "outside child 360723101"));
  CHECK(case_show(net, kCounty, cases[0]).str("applicant_id") == apps[0].id_number);
  CHECK(case_show(net, kCounty, cases[4]).u64("fee_due_fen") == 0);

  // The link stays up across a quiet spell, counted right; and a later
  // honest batch (a new application and an act on an old case) is acked.
  town.idle(1500ms);
  {
    const LinkView link = link_view(net, kCounty, kTown);
    CHECK(link.state == "up");
    CHECK(link.rejected == expect_rejected);
    CHECK(link.received == expect_received);
  }
  REQUIRE(net.cli(kV1, {"act", cases[0], "comment", "--actor", "王小红", "--role", "agent",
                        "--text", "已电话告知申请人补充材料"})
              .exit_code == 0);
  const Application late{"周玉梅", "360723198212245642", "MZ-CJ-001", "残疾人生活补贴", "0"};
  const std::string late_case = submit(net, kV1, late);
  v1 = sealed_events(net, kV1);
  std::vector<std::string> news;
  for (const auto& [id, bytes] : v1) {
    if (id != cases[0] && id != cases[2] && id != cases[4]) news.push_back(bytes);
  }
  CHECK(news.size() == 2);
  const uint64_t before = town.cursor();
  const AckSeen last = town.send_batch(news);
  INFO(rejected_list(last));
  CHECK_FALSE(last.resend);
  CHECK(last.rejected.empty());
  CHECK(last.have == before + news.size());
  CHECK(copies(net, kCounty, late_case) == 1);
  CHECK(case_show(net, kCounty, cases[0]).u64("event_count") == 2);
  CHECK(work_events(net, kCounty) == apps.size() + 2);
  CHECK(link_view(net, kCounty, kTown).rejected == expect_rejected);
  CHECK(net.cli(kCounty, {"store", "check"}).exit_code == 0);

  // A clean goodbye ends the session; the daemon itself never stopped.
  town.bye();
  CHECK(wait_until([&] { return link_view(net, kCounty, kTown).state != "up"; }, 5s));
  CHECK(net.running(kCounty));
  CHECK(net.unexpected_exits().empty());
}

TEST_CASE("forge: a signing key swapped in by the township is not taken", "[forge][security]") {
  Net net = make_net();
  net.start(kCounty);
  const std::string house = submit(net, kV1, kHouse);
  auto v1 = sealed_events(net, kV1);

  HostileTownship town(net, kTown, kCounty);
  town.hello({kV1});
  CHECK(town.send_batch({v1[house]}).rejected.empty());
  CHECK(copies(net, kCounty, house) == 1);

  // The township says Hello again, now vouching for a key pair of its own
  // as the village's, and for a village of another township.
  const liandong::SigningKey fake = liandong::generate_signing_key();
  town.hello({{kV1, fake.pub}, {"360723102003", fake.pub}});
  CHECK(log_shows(net, kCounty,
                  "360723101 vouched for a different key of 360723101007 than the one held; "
                  "kept ours"));
  CHECK(log_shows(net, kCounty,
                  "360723101 vouched for the key of 360723102003, outside what it may vouch for"));

  // Applications signed with that key, in the village's name and in the
  // other township's village's, are refused; the village's genuine next
  // application in the same batch is stored.
  const std::string timber = submit(net, kV1, kTimber);
  v1 = sealed_events(net, kV1);
  const AckSeen ack = town.send_batch(
      {forged_application(kV1, 99, fake), v1[timber], forged_application("360723102003", 1, fake)});
  INFO(rejected_list(ack));
  CHECK(ack.rejected.size() == 2);
  CHECK(ack.rejected.count("360723101007-000099") == 1);
  CHECK(ack.rejected.count("360723102003-000001") == 1);
  CHECK(copies(net, kCounty, timber) == 1);
  CHECK_FALSE(case_known(net, kCounty, "360723101007-000099"));
  CHECK_FALSE(case_known(net, kCounty, "360723102003-000001"));
  CHECK(log_shows(net, kCounty,
                  "rejected event 360723101007-000099 from 360723101: bad signature on event "
                  "360723101007-000099"));
  const LinkView link = link_view(net, kCounty, kTown);
  CHECK(link.state == "up");
  CHECK(link.rejected == 2);
  CHECK(net.unexpected_exits().empty());
}

TEST_CASE("forge: a made-up cursor in Hello does not widen the township's authority",
          "[forge][security]") {
  Net net = make_net(true);
  net.start(kCounty);
  // A genuine application registered at the neighbouring township's own
  // window, signed with its key (which the county knows from its config).
  const std::string other = submit(net, kTown2, kBirth);
  const std::string house = submit(net, kV1, kHouse);
  auto t2 = sealed_events(net, kTown2);
  auto v1 = sealed_events(net, kV1);

  // The township claims to hold the county's log up to an LSN the county
  // never had: the county concludes it was restored from an old copy and
  // asks the township to recover it.
  HostileTownship town(net, kTown, kCounty);
  const auto v1_key = liandong::public_key_from_hex(net.keys(kV1).sign_key);
  REQUIRE(v1_key);
  town.hello({{kV1, *v1_key}},
             wire::CursorValue{net.keys(kCounty).store_id, 1000, Id{kCounty, 1000}});
  CHECK(log_shows(net, kCounty, "asking it for everything that belongs here"));

  // Relaying the neighbouring township's event is still not its right. A
  // child recovering its parent gives back what it holds: its subtree's
  // events, the parent's and its ancestors' decisions about its cases, their
  // broadcasts; never a neighbouring township's own cases. A cursor naming
  // an LSN the county never had is all it takes to be asked, so being asked
  // must not widen what the county takes from this child.
  const AckSeen ack = town.send_batch({t2[other], v1[house]});
  INFO(rejected_list(ack));
  CHECK(copies(net, kCounty, house) == 1);
  CHECK(ack.rejected.count(other) == 1);
  CHECK(copies(net, kCounty, other) == 0);
  CHECK(log_shows(net, kCounty,
                  "rejected event " + other +
                      " from 360723101: origin 360723102 is outside child "
                      "360723101"));
  CHECK(link_view(net, kCounty, kTown).rejected == 1);
}

TEST_CASE("forge: a child that keeps sending garbage is dropped, the other children go on",
          "[forge][security]") {
  Net net = make_net(true);
  net.start(kCounty);
  net.start(kTown2);
  HostileTownship town(net, kTown, kCounty);
  town.hello({kV1});
  // Ten messages nobody can read: noise, a zero segment table, a segment
  // table promising more than follows, a truncated Hello.
  capnp::MallocMessageBuilder hello;
  hello.initRoot<proto::SyncMessage>().initHello().setCode(kTown);
  const std::string whole = wire::encode(hello);
  const std::vector<std::string> garbage = {
      "not a message", std::string(8, '\0'), std::string("\x00\x00\x00\x00\xff\xff\x00\x00", 8),
      whole.substr(0, whole.size() / 2), std::string(3, '\x07')};
  for (int i = 0; i < 10; ++i) {
    town.send_raw(garbage[static_cast<std::size_t>(i) % garbage.size()]);
    town.idle(50ms);
  }
  // Each got its error reply, and the tenth dropped the link.
  CHECK(town.refusals() >= 9);
  const auto deadline = Clock::now() + 10s;
  while (!log_shows(net, kCounty, "dropping the link with 360723101") && Clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  CHECK(log_shows(net, kCounty, "dropping the link with 360723101: 10 malformed"));
  CHECK(link_view(net, kCounty, kTown).state == "down");
  // While dropped, even a well-formed Hello goes unanswered.
  CHECK_FALSE(town.hello_answered(kV1, 2s));
  // The county goes on serving its other child: the neighbouring
  // township's application arrives.
  const std::string birth = submit(net, kTown2, kBirth);
  const auto until = Clock::now() + 20s;
  while (copies(net, kCounty, birth) == 0 && Clock::now() < until)
    std::this_thread::sleep_for(200ms);
  CHECK(copies(net, kCounty, birth) == 1);
  CHECK(link_view(net, kCounty, kTown2).state == "up");
}

TEST_CASE(
    "forge: a catalog, calendar or roster broadcast made by a township is not stored at its "
    "villages",
    "[forge][security][authority]") {
  SyncTimings t;
  t.heartbeat_ms = 300;
  t.peer_timeout_ms = 20000;
  Net net({{kCounty, {}}, {kTown, {kCounty}}, {kV1, {kTown}}}, t);
  // The county's genuine notices, made by its own CLI in its own store (its
  // daemon does not run: the township relays them below).
  const std::string src = LIANDONG_SOURCE_DIR;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"catalog", "publish", src + "/config/catalog-example.toml"},
        std::vector<std::string>{"calendar", "publish", src + "/config/calendar-2026.toml"},
        std::vector<std::string>{"roster", "publish", "--version", "1", "--file",
                                 src + "/config/roster-example.toml"}}) {
    auto with_actor = args;
    with_actor.insert(with_actor.end(), {"--actor", "县政务服务中心"});
    auto r = net.cli(kCounty, with_actor);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  const auto county_log = sealed_events(net, kCounty);
  using liandong::EventKind;
  const std::vector<EventKind> kinds = {EventKind::catalog_published, EventKind::calendar_published,
                                        EventKind::roster_published};
  std::vector<std::string> honest, honest_ids, forged, forged_ids;
  const auto town_key = signing_key(net, kTown);
  uint64_t seq = 900201;
  for (const EventKind k : kinds) {
    const auto [id, bytes] = county_notice(county_log, k);
    honest_ids.push_back(id);
    honest.push_back(bytes);
    // The same document, made and validly signed by the township.
    const Id as_town{kTown, seq++};
    forged_ids.push_back(liandong::format_id(as_town));
    forged.push_back(remade_as(bytes, as_town, town_key));
  }

  // The village's daemon dials the township: the test answers with the
  // township's link keys, so the village takes it for its parent.
  HostileParent town(net, kTown);
  net.start(kV1);
  town.welcome(kV1, 15s);

  const AckSeen ack = town.send_batch(forged);
  INFO(rejected_list(ack));
  CHECK_FALSE(ack.resend);
  CHECK(ack.have == forged.size());  // acked: one bad event cannot stall the link
  CHECK(ack.rejected.size() == forged.size());
  // The reason, in the Ack and in the village's log with the sender. (A
  // roster from below the county does not even pass the event checks; the
  // catalog and the calendar are refused by the authority rule.)
  const std::vector<std::string> reasons = {
      "只有县级节点发布事项目录，乡镇 360723101 不能发布 (only the county publishes the service "
      "catalog",
      "只有县级节点发布工作日历，乡镇 360723101 不能发布 (only the county publishes the "
      "working-day calendar",
      "staff roster: only a county (or above) publishes it"};
  for (std::size_t i = 0; i < forged_ids.size(); ++i) {
    const std::string& id = forged_ids[i];
    INFO(id);
    REQUIRE(ack.rejected.count(id) == 1);
    CHECK_THAT(ack.rejected.at(id), Catch::StartsWith(reasons[i]));
    CHECK(copies(net, kV1, id) == 0);
    CHECK(log_shows(net, kV1, "rejected event " + id + " from 360723101: " + reasons[i]));
  }
  // Nothing of the kind is held, and nothing of it is in use.
  for (const EventKind k : kinds)
    CHECK(held_of_kind(net, kV1, liandong::kind_name(k)) == 0);
  CHECK(net.cli(kV1, {"catalog", "list", "--json"}).exit_code != 0);
  CHECK(net.cli(kV1, {"calendar", "show", "--year", "2026", "--json"}).out == "[]\n");
  {
    const LinkView link = link_view(net, kV1, kTown);
    CHECK(link.state == "up");
    CHECK(link.received == forged.size());
    CHECK(link.rejected == forged.size());
  }
  CHECK(wait_until(
      [&] { return audited_refusals(net, kV1, kTown, "only the county publishes") >= 1; }, 5s));

  // The same session goes on: the county's own notices, relayed by the
  // township next, are stored and used.
  town.idle(500ms);
  const AckSeen next = town.send_batch(honest);
  INFO(rejected_list(next));
  CHECK_FALSE(next.resend);
  CHECK(next.rejected.empty());
  CHECK(next.have == forged.size() + honest.size());
  for (const auto& id : honest_ids) {
    INFO(id);
    CHECK(copies(net, kV1, id) == 1);
  }
  for (const auto& id : forged_ids)
    CHECK(copies(net, kV1, id) == 0);
  for (const EventKind k : kinds)
    CHECK(held_of_kind(net, kV1, liandong::kind_name(k)) == 1);
  CHECK(net.cli(kV1, {"catalog", "list", "--json"}).exit_code == 0);
  CHECK(net.cli(kV1, {"calendar", "show", "--year", "2026", "--json"})
            .out.find("\"origin\":\"360723\"") != std::string::npos);
  CHECK(link_view(net, kV1, kTown).rejected == forged.size());
  CHECK(town.hellos() == 1);  // the village never dropped the session
  CHECK(net.cli(kV1, {"store", "check"}).exit_code == 0);
  CHECK(net.running(kV1));
  CHECK(net.unexpected_exits().empty());
}
