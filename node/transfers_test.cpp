// The attachment transfer between two real stores (a village and its
// township), their messages carried in memory through the real codec: what
// is asked, in what order, what a bad chunk, a restart, a full store and a
// scan used twice do. The real links are tested in tests/attachment_test.cpp
// and tests/fault/attachment_link_test.py.
#include "node/transfers.h"

#include <catch2/catch.hpp>
#include <deque>

#include "storage/store_blobs.h"
#include "storage/test_events.h"
#include "storage/test_files.h"
#include "storage/test_store.h"

using namespace liandong;
using namespace liandong::node;
using namespace liandong::storage;
using namespace liandong::test;

namespace {

template <typename T>
T must(Result<T> r) {
  if (!r.ok()) FAIL(r.status().to_string());
  return std::move(r).value();
}

// One side of the link: a store, its watch, its Transfers, and what was
// sent to it (encoded and decoded as on the wire).
struct Side {
  Side(const std::string& node, StoreOptions opts = {}) : code(node) {
    if (opts.dir.empty()) {
      temp = std::make_unique<TempStore>(node);
      store = &**temp;
    } else {
      own = must(Store::create(opts, node));
      store = own.get();
    }
    watch = std::make_unique<StoreWatch>(*store);
  }
  std::string code;
  std::unique_ptr<TempStore> temp;
  std::unique_ptr<Store> own;
  Store* store = nullptr;
  std::unique_ptr<StoreWatch> watch;
  std::unique_ptr<Transfers> transfers;
  std::deque<std::string> inbox;  // wire bytes
};

// A village (the child, origin of the files) and its township joined.
class Link {
 public:
  Link(Side& village, Side& township) : v_(village), t_(township) {
    connect(v_, t_, true);
    connect(t_, v_, false);
  }
  // Delivers everything in flight until both sides are quiet (bounded).
  void run(int rounds = 200) {
    for (int i = 0; i < rounds; ++i) {
      now_ += std::chrono::milliseconds(1100);
      v_.transfers->tick(now_);
      t_.transfers->tick(now_);
      const bool to_village = deliver(v_, t_.code);  // both sides every round
      const bool moved = deliver(t_, v_.code) || to_village;
      if (!moved && v_.inbox.empty() && t_.inbox.empty() && i > 3) break;
    }
  }
  // Alters the data of the next `n` chunks the village sends.
  void corrupt_next(int n) { corrupt_ = n; }
  std::size_t chunks_sent_by_village() const { return village_chunks_; }
  sync::TimePoint now() const { return now_; }

 private:
  void connect(Side& from, Side& to, bool to_is_parent) {
    Transfers::Hooks hooks;
    hooks.peers = [&to, to_is_parent] {
      return std::vector<Transfers::Peer>{{to.code, to_is_parent, true}};
    };
    hooks.send = [this, &from, &to](const std::string& code, const sync::Message& m) {
      REQUIRE(code == to.code);
      sync::Message out = m;
      if (auto* c = std::get_if<sync::Chunk>(&out); c && &from == &v_ && !c->missing) {
        ++village_chunks_;
        if (corrupt_ > 0) {
          --corrupt_;
          c->data[10] ^= 0x5a;
        }
      }
      to.inbox.push_back(sync::encode_message(out));
      return true;
    };
    from.transfers = std::make_unique<Transfers>(*from.store, log_, *from.watch, std::move(hooks),
                                                 std::chrono::milliseconds(30000));
  }
  bool deliver(Side& to, const std::string& from_code) {
    bool any = false;
    while (!to.inbox.empty()) {
      auto m = sync::decode_message(to.inbox.front(), 1 << 20);
      to.inbox.pop_front();
      REQUIRE(m.ok());
      to.transfers->on_message(from_code, *m, now_);
      any = true;
    }
    return any;
  }
  Side& v_;
  Side& t_;
  sync::LogLimiter log_;
  sync::TimePoint now_{};
  int corrupt_ = 0;
  std::size_t village_chunks_ = 0;
};

// The village makes an application naming `files`; the township stores it.
void hand_over(Forge& forge, Side& township, std::vector<FileRecord> files, uint64_t at) {
  REQUIRE(township.store->put_key(kVillage, forge.key(kVillage).pub));
  const std::string sealed = forge.submit(kVillage, kVillage, hlc_at(at), submitted_with(files));
  REQUIRE(must(township.store->ingest(std::vector<std::string>{sealed}))[0].outcome ==
          Outcome::stored);
  township.transfers->wants_changed();
}

}  // namespace

TEST_CASE("transfers: the township pulls a village's scans whole; custody comes back down",
          "[transfers]") {
  Side village(kVillage), township(kTownship);
  Link link(village, township);
  Forge forge;
  const std::string a = scan(400 * 1000, 'a'), b = scan(3 * kChunkBytes, 'b');
  const auto fa = must(village.store->put_file(a));
  const auto fb = must(village.store->put_file(b));
  hand_over(forge, township, {fa, fb}, 1);
  link.run();
  CHECK(*must(township.store->read_file(fa.sha256)) == a);
  CHECK(*must(township.store->read_file(fb.sha256)) == b);
  CHECK(must(township.store->wanted(10)).empty());
  CHECK(link.chunks_sent_by_village() == fa.chunks.size() + fb.chunks.size());
  // The township told the village it holds them.
  CHECK((must(village.store->file(fa.sha256))->levels & kHeldTownship) != 0);
  CHECK(township.transfers->stats().files_completed == 2);
}

TEST_CASE("transfers: a chunk altered in transit is refused and fetched again", "[transfers]") {
  Side village(kVillage), township(kTownship);
  Link link(village, township);
  Forge forge;
  const std::string a = scan(2 * kChunkBytes + 10, 'c');
  const auto fa = must(village.store->put_file(a));
  link.corrupt_next(1);
  hand_over(forge, township, {fa}, 1);
  link.run();
  CHECK(*must(township.store->read_file(fa.sha256)) == a);
  CHECK(township.transfers->stats().refused == 1);
  CHECK(link.chunks_sent_by_village() == fa.chunks.size() + 1);
}

TEST_CASE("transfers: the same scan in five applications crosses the link once", "[transfers]") {
  Side village(kVillage), township(kTownship);
  Link link(village, township);
  Forge forge;
  const std::string id_card = scan(150 * 1000, 'd');
  const auto f = must(village.store->put_file(id_card));
  for (uint64_t i = 1; i <= 5; ++i)
    hand_over(forge, township, {f}, i);
  link.run();
  CHECK(*must(township.store->read_file(f.sha256)) == id_card);
  CHECK(link.chunks_sent_by_village() == f.chunks.size());
  CHECK(must(township.store->blob_bytes()) == id_card.size());
}

TEST_CASE("transfers: a restart resumes from the chunks held; a full store refuses, then resumes",
          "[transfers]") {
  TempDir dir("liandong-transfers-test");
  StoreOptions opts;
  opts.dir = dir.path() / "township";
  opts.max_blob_bytes = 2 * kChunkBytes;  // room for two of the file's four chunks
  Forge forge;
  Side village(kVillage);
  const std::string a = scan(4 * kChunkBytes, 'e');
  const auto fa = must(village.store->put_file(a));
  std::size_t sent_before = 0;
  {
    Side township(kTownship, opts);
    Link link(village, township);
    hand_over(forge, township, {fa}, 1);
    link.run(30);
    // Two chunks stored, the third refused for want of room: nothing more
    // is asked while the store is full.
    CHECK(must(township.store->blob_bytes()) == 2 * kChunkBytes);
    CHECK(must(township.store->missing_chunks(fa, 16)).size() == 2);
    CHECK(must(township.store->read_file(fa.sha256)) == std::nullopt);
    sent_before = link.chunks_sent_by_village();
    CHECK(sent_before <= 2 + Transfers::kInFlightPerPeer);
  }
  // Room again (the limit raised), the node restarted: only the two
  // missing chunks cross.
  opts.max_blob_bytes = 0;
  auto reopened = must(Store::open(opts));
  Side township(kTownship);
  township.own = std::move(reopened);
  township.store = township.own.get();
  township.temp.reset();
  township.watch = std::make_unique<StoreWatch>(*township.store);
  Link link(village, township);
  link.run();
  CHECK(*must(township.store->read_file(fa.sha256)) == a);
  CHECK(link.chunks_sent_by_village() == 2);
}

TEST_CASE("transfers: a file is asked of the child whose subtree made it, else of the upstream",
          "[transfers]") {
  std::vector<Transfers::Peer> peers = {
      {"360723", true, true}, {"360723101007", false, true}, {"360723101", false, true}};
  CHECK(source_for("360723101007", peers)->code == "360723101007");
  CHECK(source_for("360723101008", peers)->code == "360723101");
  CHECK(source_for("360723", peers)->code == "360723");
  CHECK(source_for("360724", peers)->code == "360723");  // the upstream in use
  peers.erase(peers.begin());
  CHECK(source_for("360724", peers) == nullptr);
}
