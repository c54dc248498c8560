// Unit tests of the store's transaction runner (storage/store_txn.h) and of
// how store failures reach callers: an LMDB error or a malformed stored
// value is a failed Status that keeps its cause and names the database,
// never "absent" or "no key known".
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "storage/lmdb_env.h"
#include "storage/store.h"
#include "storage/store_txn.h"
#include "storage/test_events.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::storage;
using namespace liandong::test;
namespace fs = std::filesystem;

namespace {

// A bare LMDB environment in a temporary directory, with one database
// named "keys", driven through a TxnRunner.
class RawEnv {
 public:
  explicit RawEnv(std::size_t map_bytes = 1u << 20, std::size_t max_map = std::size_t{1} << 30)
      : dir_("liandong-txn-test"), runner_(dir_.path(), max_map) {
    REQUIRE(mdb_env_create(&env_) == MDB_SUCCESS);
    REQUIRE(mdb_env_set_maxdbs(env_, kMaxDbs) == MDB_SUCCESS);
    REQUIRE(mdb_env_set_mapsize(env_, map_bytes) == MDB_SUCCESS);
    REQUIRE(mdb_env_open(env_, dir_.path().c_str(), MDB_NOTLS, 0600) == MDB_SUCCESS);
    runner_.attach(env_);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env_, nullptr, 0, &txn) == MDB_SUCCESS);
    REQUIRE(mdb_dbi_open(txn, "keys", MDB_CREATE, &keys_) == MDB_SUCCESS);
    REQUIRE(mdb_txn_commit(txn) == MDB_SUCCESS);
    runner_.name(keys_, "keys");
  }
  ~RawEnv() { mdb_env_close(env_); }
  TxnRunner& runner() { return runner_; }
  MDB_dbi keys() const { return keys_; }
  const fs::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  TxnRunner runner_;
  MDB_env* env_ = nullptr;
  MDB_dbi keys_ = 0;
};

// Writes `value` under `key` in database `db` of the closed store in `dir`,
// bypassing the store (a damaged value, as a bad disk or a bug would leave).
void poke(const fs::path& dir, const char* db, std::string_view key, std::string_view value) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == MDB_SUCCESS);
  REQUIRE(mdb_env_set_maxdbs(env, kMaxDbs) == MDB_SUCCESS);
  REQUIRE(mdb_env_open(env, dir.c_str(), MDB_NOTLS, 0600) == MDB_SUCCESS);
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == MDB_SUCCESS);
  REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == MDB_SUCCESS);
  MDB_val k = as_val(key), v = as_val(value);
  REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == MDB_SUCCESS);
  REQUIRE(mdb_txn_commit(txn) == MDB_SUCCESS);
  mdb_env_close(env);
}

std::unique_ptr<Store> make_store(const fs::path& dir, const std::string& code) {
  StoreOptions o;
  o.dir = dir;
  auto s = Store::create(o, code);
  if (!s.ok()) FAIL("create store: " << s.status().to_string());
  return std::move(s).value();
}

std::unique_ptr<Store> reopen(const fs::path& dir) {
  StoreOptions o;
  o.dir = dir;
  auto s = Store::open(o);
  if (!s.ok()) FAIL("open store: " << s.status().to_string());
  return std::move(s).value();
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// A child process that holds every free reader slot of the store in `dir`
// until it is released, so this process's next transaction fails to begin
// (MDB_READERS_FULL): a real LMDB failure outside any key or value.
class ReaderHog {
 public:
  explicit ReaderHog(const fs::path& dir) {
    int ready[2], release[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(release) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      MDB_env* env = nullptr;
      char ok = 0;
      if (mdb_env_create(&env) != MDB_SUCCESS) env = nullptr;
      if (env != nullptr && mdb_env_set_maxdbs(env, kMaxDbs) == MDB_SUCCESS &&
          mdb_env_open(env, dir.c_str(), MDB_NOTLS | MDB_RDONLY, 0600) == MDB_SUCCESS) {
        MDB_txn* txn = nullptr;
        int rc = MDB_SUCCESS;
        while ((rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn)) == MDB_SUCCESS) {
        }
        ok = rc == MDB_READERS_FULL ? 1 : 0;
      }
      (void)!::write(ready[1], &ok, 1);
      char c;
      (void)!::read(release[0], &c, 1);        // until the parent closes its end
      if (env != nullptr) mdb_env_close(env);  // frees the slots it held
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_ = release[1];
    char ok = 0;
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    ::close(ready[0]);
    REQUIRE(ok == 1);
  }
  ~ReaderHog() {
    ::close(release_);
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) ::kill(pid_, SIGKILL);
  }
  ReaderHog(const ReaderHog&) = delete;
  ReaderHog& operator=(const ReaderHog&) = delete;

 private:
  pid_t pid_ = -1;
  int release_ = -1;
};

}  // namespace

TEST_CASE("store txn: a transaction function's result type is kept or wrapped", "[storage]") {
  RawEnv env;
  auto value = env.runner().read([](Txn&) { return 7; });
  auto status = env.runner().read([](Txn&) { return Status::not_found("none"); });
  auto result = env.runner().read([](Txn&) { return Result<int>(Status::invalid("no")); });
  STATIC_REQUIRE(std::is_same_v<decltype(value), Result<int>>);
  STATIC_REQUIRE(std::is_same_v<decltype(status), Status>);
  STATIC_REQUIRE(std::is_same_v<decltype(result), Result<int>>);
  REQUIRE(value.ok());
  CHECK(*value == 7);
  CHECK(status.code() == Code::not_found);
  CHECK(result.status().code() == Code::invalid);
}

TEST_CASE("store txn: a write commits only what its function commits", "[storage]") {
  RawEnv env;
  const MDB_dbi keys = env.keys();
  REQUIRE(env.runner().write([&](Txn& txn) {
    txn.put(keys, "aborted", "x");
    return Status::ok();  // no commit
  }));
  REQUIRE(env.runner().write([&](Txn& txn) {
    txn.put(keys, "kept", "y");
    txn.commit();
    return Status::ok();
  }));
  auto held = env.runner().read([&](Txn& txn) {
    std::string_view v;
    return std::pair(txn.get(keys, "aborted", &v), txn.get(keys, "kept", &v));
  });
  REQUIRE(held.ok());
  CHECK_FALSE(held->first);
  CHECK(held->second);
}

TEST_CASE("store txn: an LMDB failure becomes a Status that keeps its cause and names the database",
          "[storage]") {
  RawEnv env;
  const MDB_dbi keys = env.keys();
  auto fail_with = [&](int rc) {
    return env.runner().read([&](Txn& txn) -> Status {
      txn.check(rc, "mdb_get", keys);
      return Status::ok();
    });
  };
  SECTION("an I/O error is internal, not an absent key") {
    Status s = fail_with(EIO);
    CHECK(s.code() == Code::internal);
    CHECK(s.message() == "mdb_get(keys): Input/output error");
  }
  SECTION("a damaged page is corruption") {
    Status s = fail_with(MDB_CORRUPTED);
    CHECK(s.code() == Code::corruption);
    CHECK(contains(s.message(), "mdb_get(keys): MDB_CORRUPTED"));
    CHECK(fail_with(MDB_PAGE_NOTFOUND).code() == Code::corruption);
  }
  SECTION("a panicked environment is internal") {
    Status s = fail_with(MDB_PANIC);
    CHECK(s.code() == Code::internal);
    CHECK(contains(s.message(), "mdb_get(keys): MDB_PANIC"));
  }
  SECTION("a full disk is no_space, marks the store full, and a commit clears the mark") {
    Status s = env.runner().write([&](Txn& txn) -> Status {
      txn.check(ENOSPC, "mdb_put", keys);
      return Status::ok();
    });
    CHECK(s.code() == Code::no_space);
    CHECK(contains(s.message(), "mdb_put(keys)"));
    CHECK(env.runner().full_since_ms() != 0);
    CHECK(fs::exists(env.dir() / "full"));
    REQUIRE(env.runner().write([&](Txn& txn) {
      txn.put(keys, "k", "v");
      txn.commit();
      return Status::ok();
    }));
    CHECK(env.runner().full_since_ms() == 0);
    CHECK_FALSE(fs::exists(env.dir() / "full"));
  }
  SECTION("a real LMDB error names the database it came from") {
    // A handle no database was opened under: LMDB refuses it (EINVAL).
    env.runner().name(kMaxDbs - 1, "bogus");
    Status s = env.runner().read([&](Txn& txn) {
      std::string_view v;
      return txn.get(kMaxDbs - 1, "k", &v) ? Status::ok() : Status::not_found("absent");
    });
    CHECK(s.code() == Code::internal);
    CHECK(s.message() == "mdb_get(bogus): Invalid argument");
  }
}

TEST_CASE("store txn: a full map grows by itself up to its limit, then is no_space", "[storage]") {
  RawEnv env(64u << 10, 1u << 20);
  const MDB_dbi keys = env.keys();
  auto put_bytes = [&](const std::string& key, std::size_t n) {
    return env.runner().write([&](Txn& txn) {
      txn.put(keys, key, std::string(n, 'x'));
      txn.commit();
      return Status::ok();
    });
  };
  const std::size_t before = env.runner().map_bytes();
  REQUIRE(put_bytes("a", 200u << 10));
  CHECK(env.runner().map_bytes() > before);
  Status s = put_bytes("b", 4u << 20);  // past the 1 MiB limit
  CHECK(s.code() == Code::no_space);
  CHECK(env.runner().full_since_ms() != 0);
}

TEST_CASE("store: a malformed first key is corruption, never 'no key known'", "[storage]") {
  TempDir tmp("liandong-store-errors");
  const fs::path dir = tmp.path() / "store";
  Forge forge;
  make_store(dir, kCounty).reset();
  poke(dir, "keys", kVillage, "short");
  auto store = reopen(dir);
  auto k = store->key(kVillage);
  REQUIRE_FALSE(k.ok());
  CHECK(k.status().code() == Code::corruption);
  CHECK(contains(k.status().message(), "keys"));
  const std::string sub = forge.submit(kVillage, kVillage, hlc_at(1));
  CHECK(store->signing_key_of(must_parse(sub)).status().code() == Code::corruption);
  // The batch fails as a whole: its event is not refused for want of a key.
  auto r = store->ingest(std::vector<std::string>{sub});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::corruption);
  CHECK(store->first_keys().status().code() == Code::corruption);
  // Absent stays absent.
  auto none = store->key(kTownship);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("store: a malformed stored value is corruption naming what is wrong", "[storage]") {
  TempDir tmp("liandong-store-errors");
  const fs::path dir = tmp.path() / "store";
  Forge forge;
  {
    auto store = make_store(dir, kVillage);
    REQUIRE(store->put_key(kVillage, forge.key(kVillage).pub));
  }
  SECTION("the parent's clock: read, and every local draft refused") {
    poke(dir, "meta", "parent_clock", "xx");
    auto store = reopen(dir);
    auto pc = store->parent_clock();
    REQUIRE_FALSE(pc.ok());
    CHECK(pc.status().code() == Code::corruption);
    CHECK(contains(pc.status().message(), "parent_clock"));
    LocalDraft d{Id{}, "", [](proto::Event::Builder ev) { submitted_body()(ev); }};
    auto r = store->append_local(d, forge.key(kVillage));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::corruption);
  }
  SECTION("an arrival time") {
    {
      auto store = reopen(dir);
      auto r = store->ingest(std::vector<std::string>{forge.submit(kVillage, kVillage, hlc_at(1))});
      REQUIRE(r.ok());
      REQUIRE((*r)[0].outcome == Outcome::stored);
      auto at = store->arrival_ms(1);
      REQUIRE(at.ok());
      CHECK(at->has_value());
    }
    std::string one;
    put_be64(one, 1);
    poke(dir, "arrivals", one, "bad");
    auto store = reopen(dir);
    auto at = store->arrival_ms(1);
    REQUIRE_FALSE(at.ok());
    CHECK(at.status().code() == Code::corruption);
    CHECK(contains(at.status().message(), "arrivals"));
  }
  SECTION("a case state") {
    const std::string sub = forge.submit(kVillage, kVillage, hlc_at(1));
    {
      auto store = reopen(dir);
      REQUIRE(store->ingest(std::vector<std::string>{sub}).ok());
    }
    poke(dir, "cases", id_key(Id{kVillage, 1}), "not a case state");
    auto store = reopen(dir);
    auto st = store->get_case(Id{kVillage, 1});
    REQUIRE_FALSE(st.ok());
    CHECK(st.status().code() == Code::corruption);
    CHECK(contains(st.status().message(), "cases"));
    CHECK(store->list_cases(CaseFilter{}).status().code() == Code::corruption);
  }
}

TEST_CASE("store: a transaction that cannot begin is an error, not an absent key or case",
          "[storage]") {
  TempDir tmp("liandong-store-errors");
  const fs::path dir = tmp.path() / "store";
  Forge forge;
  auto store = make_store(dir, kCounty);
  REQUIRE(store->put_key(kTownship, forge.key(kTownship).pub));
  const std::string sub = forge.submit(kVillage, kVillage, hlc_at(1));
  {
    ReaderHog hog(dir);
    // kVillage's key was never read, so this is not answered from memory.
    auto k = store->key(kVillage);
    REQUIRE_FALSE(k.ok());
    CHECK(k.status().code() == Code::internal);
    CHECK(contains(k.status().message(), "mdb_txn_begin: MDB_READERS_FULL"));
    CHECK_FALSE(store->get_case(Id{kVillage, 1}).ok());
    CHECK_FALSE(store->find(Id{kVillage, 1}).ok());
    CHECK_FALSE(store->sync_get("cursor").ok());
    auto r = store->ingest(std::vector<std::string>{sub});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::internal);
  }
  // Once the slots are free again, the same reads answer.
  auto k = store->key(kVillage);
  REQUIRE(k.ok());
  CHECK_FALSE(k->has_value());
}
