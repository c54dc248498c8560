#include "storage/ingest_pipeline.h"

#include <capnp/message.h>
#include <stdlib.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/hlc.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::storage;

namespace {

constexpr const char* kVillage = "360723101007";

using liandong::test::TempDir;

// A `submitted` event of `origin` number `seq`, sealed with `key`.
std::string make_event(const SigningKey& key, const std::string& origin, uint64_t seq) {
  capnp::MallocMessageBuilder msg;
  auto ev = msg.initRoot<proto::Event>();
  write_id(ev.initId(), Id{origin, seq});
  write_id(ev.initCase(), Id{origin, seq});
  ev.setHome(origin);
  ev.setHlc(make_hlc(wall_clock_ms(), seq));
  auto actor = ev.initActor();
  actor.setName("李秀英");
  actor.setRole(proto::Role::AGENT);
  auto body = ev.initBody().initSubmitted();
  body.initApplicant().setName("王建国");
  body.setItemCode("360723-ZJD-001");
  body.setItemName("农村宅基地建房");
  return seal(msg, key);
}

struct Fixture {
  TempDir dir{"ingest_test"};
  SigningKey key = generate_signing_key();
  std::unique_ptr<Store> store;

  explicit Fixture(std::size_t max_map_bytes = std::size_t{1} << 40) {
    StoreOptions opts;
    opts.dir = dir.path() / "store";
    if (max_map_bytes < opts.initial_map_bytes) opts.initial_map_bytes = max_map_bytes;
    opts.max_map_bytes = max_map_bytes;
    auto s = Store::create(opts, "360723101");
    REQUIRE(s.ok());
    store = std::move(s).value();
    REQUIRE(store->put_key(kVillage, key.pub));
  }
  StoreOptions options() const {
    StoreOptions opts;
    opts.dir = dir.path() / "store";
    return opts;
  }
};

// What one callback saw; filled on the writer thread, checked on the test's.
struct Seen {
  std::size_t batch = 0;
  bool ok = false;
  Status status;
  std::vector<IngestResult> results;
};

class Recorder {
 public:
  IngestPipeline::Done done_for(std::size_t batch) {
    return [this, batch](Result<std::vector<IngestResult>> r) {
      std::lock_guard lock(mu_);
      Seen s;
      s.batch = batch;
      s.ok = r.ok();
      s.status = r.status();
      if (r.ok()) s.results = std::move(r).value();
      seen_.push_back(std::move(s));
    };
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<Seen> seen_;
};

}  // namespace

TEST_CASE("ingest pipeline: batches complete in submission order and each event is stored once",
          "[storage][ingest]") {
  Fixture f;
  IngestPipelineOptions opts;
  SECTION("large groups") {}
  SECTION("small groups and a small pending window") {
    opts.max_group_events = 7;
    opts.max_pending_events = 20;
  }
  // 30 batches of 1 to 30 events; each batch also re-sends the last event
  // of the batch before it, as a peer does after a lost ack.
  std::vector<std::vector<std::string>> batches;
  uint64_t seq = 0;
  for (std::size_t b = 0; b < 30; ++b) {
    std::vector<std::string> batch;
    if (b > 0) batch.push_back(batches.back().back());
    for (std::size_t i = 0; i <= b; ++i)
      batch.push_back(make_event(f.key, kVillage, ++seq));
    batches.push_back(std::move(batch));
  }
  const auto copies = batches;
  Recorder rec;
  {
    IngestPipeline pipeline(*f.store, opts);
    for (std::size_t b = 0; b < batches.size(); ++b)
      pipeline.submit(std::move(batches[b]), rec.done_for(b));
    pipeline.drain();
    CHECK(pipeline.pending_events() == 0);
  }
  const auto seen = rec.seen();
  REQUIRE(seen.size() == copies.size());
  uint64_t last_lsn = 0;
  for (std::size_t b = 0; b < seen.size(); ++b) {
    INFO("batch " << b);
    REQUIRE(seen[b].batch == b);
    REQUIRE(seen[b].ok);
    REQUIRE(seen[b].results.size() == copies[b].size());
    for (std::size_t i = 0; i < copies[b].size(); ++i) {
      const auto& r = seen[b].results[i];
      const bool resent = b > 0 && i == 0;
      CHECK(r.outcome == (resent ? Outcome::duplicate : Outcome::stored));
      if (resent) {
        CHECK(r.lsn == last_lsn);  // the LSN it was stored at in the batch before
      } else {
        CHECK(r.lsn == last_lsn + 1);  // applied in submission order
        last_lsn = r.lsn;
      }
    }
  }
  auto stats = f.store->stats();
  REQUIRE(stats.ok());
  CHECK(stats->events == seq);
  CHECK(stats->cases == seq);
  CHECK(f.store->check_integrity());
}

TEST_CASE(
    "ingest pipeline: bad signatures are rejected with a reason, good events beside them are "
    "stored",
    "[storage][ingest]") {
  Fixture f;
  const SigningKey forger = generate_signing_key();
  std::vector<std::string> batch = {
      make_event(f.key, kVillage, 1),
      make_event(forger, kVillage, 2),  // signed by the wrong key
      make_event(f.key, kVillage, 3),
      make_event(f.key, "360723102001", 1),  // an origin with no known key
      std::string(24, 'x'),                  // not an event at all
      make_event(f.key, kVillage, 4),
  };
  Recorder rec;
  {
    IngestPipeline pipeline(*f.store);
    pipeline.submit(std::move(batch), rec.done_for(0));
  }  // the destructor completes the batch
  const auto seen = rec.seen();
  REQUIRE(seen.size() == 1);
  REQUIRE(seen[0].ok);
  const auto& r = seen[0].results;
  REQUIRE(r.size() == 6);
  CHECK(r[0].outcome == Outcome::stored);
  CHECK(r[1].outcome == Outcome::rejected);
  CHECK(r[1].status.code() == Code::invalid);
  CHECK_THAT(r[1].status.message(), Catch::Contains("bad signature"));
  CHECK_THAT(r[1].status.message(), Catch::Contains("360723101007-000002"));
  CHECK(r[2].outcome == Outcome::stored);
  CHECK(r[3].outcome == Outcome::rejected);
  CHECK_THAT(r[3].status.message(), Catch::Contains("no public key"));
  CHECK(r[4].outcome == Outcome::rejected);
  CHECK(r[4].status.code() == Code::invalid);
  CHECK(r[5].outcome == Outcome::stored);

  CHECK(f.store->find(Id{kVillage, 1})->has_value());
  CHECK_FALSE(f.store->find(Id{kVillage, 2})->has_value());
  CHECK(f.store->find(Id{kVillage, 3})->has_value());
  CHECK(f.store->find(Id{kVillage, 4})->has_value());
  CHECK(f.store->stats()->events == 3);
  CHECK(f.store->check_integrity());
}

TEST_CASE("ingest pipeline: results are delivered only after their transaction commits",
          "[storage][ingest]") {
  Fixture f;
  // A second handle on the same directory sees only committed transactions.
  // Opened while the first handle is idle (LMDB sets up its lock file then).
  auto reader = Store::open(f.options());
  REQUIRE(reader.ok());
  Store& other = **reader;

  struct Check {
    std::size_t visible = 0, expected = 0;
    uint64_t events_seen = 0;
  };
  std::mutex mu;
  std::vector<Check> checks;
  uint64_t seq = 0;
  {
    IngestPipeline pipeline(*f.store);
    for (std::size_t b = 0; b < 20; ++b) {
      std::vector<std::string> batch;
      std::vector<Id> ids;
      for (std::size_t i = 0; i < 25; ++i) {
        ids.push_back(Id{kVillage, ++seq});
        batch.push_back(make_event(f.key, kVillage, seq));
      }
      pipeline.submit(std::move(batch), [&, ids](Result<std::vector<IngestResult>> r) {
        Check c;
        if (r.ok()) {
          for (std::size_t i = 0; i < ids.size(); ++i) {
            if ((*r)[i].outcome != Outcome::stored) continue;
            ++c.expected;
            auto at = other.find(ids[i]);
            if (at.ok() && at->has_value() && **at == (*r)[i].lsn) ++c.visible;
          }
        }
        auto stats = other.stats();
        if (stats.ok()) c.events_seen = stats->events;
        std::lock_guard lock(mu);
        checks.push_back(c);
      });
    }
    pipeline.drain();
  }
  std::lock_guard lock(mu);
  REQUIRE(checks.size() == 20);
  for (std::size_t b = 0; b < checks.size(); ++b) {
    INFO("batch " << b);
    CHECK(checks[b].expected == 25);
    CHECK(checks[b].visible == 25);
    CHECK(checks[b].events_seen >= (b + 1) * 25);
  }
}

TEST_CASE("ingest pipeline: try_submit refuses with overloaded while the window is full",
          "[storage][ingest]") {
  Fixture f;
  IngestPipelineOptions opts;
  opts.max_pending_events = 4;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  Recorder rec;
  IngestPipeline pipeline(*f.store, opts);
  std::vector<std::string> first;
  for (uint64_t s = 1; s <= 4; ++s)
    first.push_back(make_event(f.key, kVillage, s));
  auto record = rec.done_for(0);
  pipeline.submit(std::move(first), [gate, record](Result<std::vector<IngestResult>> r) {
    gate.wait();  // holds the batch pending until the test lets go
    record(std::move(r));
  });

  std::vector<std::string> more = {make_event(f.key, kVillage, 5)};
  IngestPipeline::Done done = rec.done_for(1);
  const Status refused = pipeline.try_submit(std::move(more), std::move(done));
  CHECK(refused.code() == Code::overloaded);
  CHECK(more.size() == 1);  // left to the caller
  CHECK(done != nullptr);
  CHECK(pipeline.pending_events() == 4);

  release.set_value();
  pipeline.drain();
  CHECK(pipeline.try_submit(std::move(more), std::move(done)));
  pipeline.drain();
  const auto seen = rec.seen();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].batch == 0);
  CHECK(seen[1].batch == 1);
  REQUIRE(seen[1].results.size() == 1);
  CHECK(seen[1].results[0].outcome == Outcome::stored);
}

TEST_CASE("ingest pipeline: a batch that does not fit reports no_space and later batches still run",
          "[storage][ingest]") {
  Fixture f(std::size_t{1} << 20);  // a 1 MiB store that may not grow
  std::vector<std::string> big;
  for (uint64_t s = 1; s <= 4000; ++s)
    big.push_back(make_event(f.key, kVillage, s));
  std::vector<std::string> small;
  for (uint64_t s = 4001; s <= 4010; ++s)
    small.push_back(make_event(f.key, kVillage, s));
  Recorder rec;
  {
    IngestPipeline pipeline(*f.store);
    pipeline.submit(std::move(big), rec.done_for(0));
    pipeline.drain();
    pipeline.submit(std::move(small), rec.done_for(1));
  }
  const auto seen = rec.seen();
  REQUIRE(seen.size() == 2);
  CHECK_FALSE(seen[0].ok);
  CHECK(seen[0].status.code() == Code::no_space);
  REQUIRE(seen[1].ok);
  for (const auto& r : seen[1].results)
    CHECK(r.outcome == Outcome::stored);
  auto stats = f.store->stats();
  REQUIRE(stats.ok());
  CHECK(stats->events == 10);
  CHECK(f.store->check_integrity());
}
