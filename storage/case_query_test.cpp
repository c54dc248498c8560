// Unit tests of finding cases (storage/case_query, storage/case_index):
// paging while cases are written, each search key, the indexes of an older
// store, and the integrity check over the search indexes. Real LMDB files.
#include <lmdb.h>

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "storage/case_query.h"
#include "storage/store.h"
#include "storage/test_events.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::storage;
using namespace liandong::test;

namespace {

const std::string kCity = "3607";

std::unique_ptr<Store> must(Result<std::unique_ptr<Store>> r) {
  if (!r.ok()) FAIL("store: " << r.status().to_string());
  return std::move(r).value();
}

struct Applicant {
  std::string name, id_number, phone, item;
};

BodyFill body_of(const Applicant& a) {
  return [a](proto::Event::Builder ev) {
    submitted_body(a.name)(ev);
    auto b = ev.getBody().getSubmitted();
    b.getApplicant().setIdNumber(a.id_number);
    b.getApplicant().setPhone(a.phone);
    b.setItemCode(a.item);
  };
}

// The n-th applicant: distinct name, ID number, phone and item.
Applicant applicant(int n) {
  const std::string num = std::to_string(1000 + n);
  return Applicant{"申请人" + num, "36072319800101" + num, "1380000" + num, "360723-GT-" + num};
}

class Fixture {
 public:
  Fixture() : dir_("liandong-query-test") {
    opts.dir = dir_.path() / "store";
    store = must(Store::create(opts, kCity));
    for (const auto& o : {kVillage, kVillage2, kTownship})
      REQUIRE(store->put_key(o, forge.key(o).pub));
  }
  Id submit(const std::string& origin, const Applicant& a) {
    const std::string sealed = forge.submit(origin, origin, hlc_at(++clock_), body_of(a));
    auto r = store->ingest(std::vector<std::string>{sealed});
    REQUIRE(r.ok());
    REQUIRE(r->at(0).outcome == Outcome::stored);
    return must_parse(sealed).id();
  }
  void act(const std::string& origin, const Id& c, const BodyFill& body) {
    auto r = store->ingest(
        std::vector<std::string>{forge.act(origin, c, c.origin, hlc_at(++clock_), body)});
    REQUIRE(r.ok());
    REQUIRE(r->at(0).outcome == Outcome::stored);
  }
  std::vector<Id> ids(const CaseQuery& q) {
    auto page = find_cases(*store, q);
    if (!page.ok()) FAIL("find_cases: " << page.status().to_string());
    std::vector<Id> out;
    for (const auto& st : page->cases)
      out.push_back(st.case_id);
    return out;
  }

  StoreOptions opts;
  Forge forge;
  std::unique_ptr<Store> store;

 private:
  TempDir dir_;
  uint64_t clock_ = 0;
};

// Opens the raw LMDB environment of a closed store and runs `fn` in a
// write transaction.
template <typename Fn>
void raw_write(const StoreOptions& opts, Fn&& fn) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 32) == 0);
  REQUIRE(mdb_env_open(env, opts.dir.c_str(), 0, 0600) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  fn(txn);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

}  // namespace

TEST_CASE("case query: paging gives every case exactly once while new cases are added",
          "[storage][query]") {
  Fixture f;
  std::set<Id> before;
  for (int i = 0; i < 60; ++i) {
    before.insert(f.submit(kVillage, applicant(i)));
    before.insert(f.submit(kVillage2, applicant(100 + i)));
  }
  std::map<Id, int> seen;
  CaseQuery q;
  q.limit = 7;
  int pages = 0, added = 0;
  for (; pages < 100; ++pages) {
    auto page = find_cases(*f.store, q);
    REQUIRE(page.ok());
    CHECK(page->cases.size() <= 7);
    for (const auto& st : page->cases)
      ++seen[st.case_id];
    // Writes between pages: new cases of both villages (one sorting before
    // the cursor, one after) and a status change of a case already seen.
    f.submit(kVillage, applicant(200 + added++));
    f.submit(kVillage2, applicant(200 + added++));
    if (!page->cases.empty())
      f.act(page->cases.front().case_id.origin, page->cases.front().case_id, accepted_body());
    if (!page->next) break;
    CHECK(page->cases.size() == 7);
    q.after = page->next;
  }
  REQUIRE(pages < 100);
  for (const auto& [id, n] : seen) {
    INFO(format_id(id));
    CHECK(n == 1);
  }
  for (const Id& id : before) {
    INFO(format_id(id));
    CHECK(seen.count(id) == 1);
  }
}

TEST_CASE("case query: each search key finds its case and only it", "[storage][query]") {
  Fixture f;
  std::vector<Id> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(f.submit(i % 2 ? kVillage : kVillage2, applicant(i)));
  for (int i = 0; i < 20; ++i) {
    const Applicant a = applicant(i);
    const std::vector<Id> just{ids[i]};
    INFO("case " << format_id(ids[i]));
    CaseQuery q;
    q.name = a.name;
    CHECK(f.ids(q) == just);
    q = {};
    q.name = " " + a.name + " ";
    CHECK(f.ids(q) == just);
    q = {};
    q.id_number = a.id_number;
    CHECK(f.ids(q) == just);
    q = {};
    q.phone = "+86 " + a.phone.substr(0, 3) + "-" + a.phone.substr(3);
    CHECK(f.ids(q) == just);
    q = {};
    q.item_code = a.item;
    CHECK(f.ids(q) == just);
    q = {};
    q.case_number = format_id(ids[i]);
    CHECK(f.ids(q) == just);
    q = {};
    q.case_number = ids[i].origin.substr(9) + "-" + format_id(ids[i]).substr(13);
    CHECK(f.ids(q) == just);
    // Two keys that name different cases find nothing.
    q = {};
    q.name = a.name;
    q.phone = applicant((i + 1) % 20).phone;
    CHECK(f.ids(q).empty());
  }
  // A name is matched whole: a prefix finds nothing.
  CaseQuery prefix;
  prefix.name = "申请人";
  CHECK(f.ids(prefix).empty());
  // An ID number with a lower-case x finds the one written with X.
  const Id x = f.submit(kVillage, Applicant{"李四", "36072319800101002X", "13912345678", "MZ-1"});
  CaseQuery lower;
  lower.id_number = "36072319800101002x";
  CHECK(f.ids(lower) == std::vector<Id>{x});
  // A tail shared by both villages: both cases, in case-id order.
  CaseQuery tail;
  tail.case_number = "000001";
  CHECK(f.ids(tail) == std::vector<Id>{Id{kVillage, 1}, Id{kVillage2, 1}});
  tail.limit = 1;
  auto first = find_cases(*f.store, tail);
  REQUIRE(first.ok());
  REQUIRE(first->next);
  tail.after = first->next;
  CHECK(f.ids(tail) == std::vector<Id>{Id{kVillage2, 1}});
  // Status, alone and with a key; a status change moves the case.
  f.act(kVillage, x, accepted_body());
  CaseQuery accepted;
  accepted.status = CaseStatus::accepted;
  CHECK(f.ids(accepted) == std::vector<Id>{x});
  accepted.name = "李四";
  CHECK(f.ids(accepted) == std::vector<Id>{x});
  accepted.name = applicant(0).name;
  CHECK(f.ids(accepted).empty());
  CaseQuery submitted;
  submitted.status = CaseStatus::submitted;
  submitted.name = "李四";
  CHECK(f.ids(submitted).empty());
  // Bad queries are refused, not guessed.
  CaseQuery bad;
  bad.case_number = "abc";
  CHECK(find_cases(*f.store, bad).status().code() == Code::invalid);
  bad = {};
  bad.limit = 0;
  CHECK(find_cases(*f.store, bad).status().code() == Code::invalid);
  CHECK(f.store->check_integrity());
}

TEST_CASE("case query: a store made before the search indexes gets them when opened",
          "[storage][query]") {
  Fixture f;
  std::vector<Id> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(f.submit(kVillage, applicant(i)));
  const StoreOptions opts = f.opts;
  f.store.reset();
  // An older store: no search indexes, no search key, and cached states
  // without the phone (written before the state had it).
  raw_write(opts, [](MDB_txn* txn) {
    for (const char* name : {"by_name", "by_idno", "by_phone", "by_item"}) {
      MDB_dbi dbi;
      REQUIRE(mdb_dbi_open(txn, name, 0, &dbi) == 0);
      REQUIRE(mdb_drop(txn, dbi, 1) == 0);
    }
    MDB_dbi meta;
    REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
    MDB_val k{10, const_cast<char*>("search_key")};
    REQUIRE(mdb_del(txn, meta, &k, nullptr) == 0);
    MDB_dbi cases;
    REQUIRE(mdb_dbi_open(txn, "cases", 0, &cases) == 0);
    MDB_cursor* c = nullptr;
    REQUIRE(mdb_cursor_open(txn, cases, &c) == 0);
    MDB_val key, val;
    std::vector<std::pair<std::string, std::string>> rewrite;
    for (int rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
      auto st = decode_state({static_cast<const char*>(val.mv_data), val.mv_size});
      REQUIRE(st.ok());
      st->applicant_phone.clear();
      rewrite.emplace_back(std::string(static_cast<const char*>(key.mv_data), key.mv_size),
                           encode_state(*st));
    }
    mdb_cursor_close(c);
    for (auto& [kk, vv] : rewrite) {
      MDB_val k2{kk.size(), kk.data()}, v2{vv.size(), vv.data()};
      REQUIRE(mdb_put(txn, cases, &k2, &v2, 0) == 0);
    }
  });
  auto store = must(Store::open(opts));
  CHECK(store->check_integrity());
  for (int i = 0; i < 10; ++i) {
    CaseQuery q;
    q.phone = applicant(i).phone;
    auto page = find_cases(*store, q);
    REQUIRE(page.ok());
    REQUIRE(page->cases.size() == 1);
    CHECK(page->cases[0].case_id == ids[i]);
    q = {};
    q.id_number = applicant(i).id_number;
    CHECK(find_cases(*store, q)->cases.size() == 1);
    q = {};
    q.name = applicant(i).name;
    CHECK(find_cases(*store, q)->cases.size() == 1);
  }
}

TEST_CASE("case query: store check finds a damaged search index entry", "[storage][query]") {
  Fixture f;
  for (int i = 0; i < 5; ++i)
    f.submit(kVillage, applicant(i));
  REQUIRE(f.store->check_integrity());
  const StoreOptions opts = f.opts;
  f.store.reset();
  const char* which = GENERATE("by_name", "by_idno", "by_phone", "by_item");
  const bool extra = GENERATE(false, true);
  INFO(which << (extra ? ": an entry no case explains" : ": an entry changed"));
  raw_write(opts, [&](MDB_txn* txn) {
    MDB_dbi dbi;
    REQUIRE(mdb_dbi_open(txn, which, 0, &dbi) == 0);
    MDB_cursor* c = nullptr;
    REQUIRE(mdb_cursor_open(txn, dbi, &c) == 0);
    MDB_val key, val;
    REQUIRE(mdb_cursor_get(c, &key, &val, MDB_FIRST) == 0);
    std::string k(static_cast<const char*>(key.mv_data), key.mv_size);
    mdb_cursor_close(c);
    if (!extra) REQUIRE(mdb_del(txn, dbi, &key, nullptr) == 0);
    k[0] = static_cast<char>(k[0] ^ 0x20);  // one flipped bit of the filed value
    MDB_val k2{k.size(), k.data()}, v2{0, nullptr};
    REQUIRE(mdb_put(txn, dbi, &k2, &v2, 0) == 0);
  });
  auto store = must(Store::open(opts));
  const Status s = store->check_integrity();
  CHECK_FALSE(s);
  CHECK(s.code() == Code::corruption);
}
