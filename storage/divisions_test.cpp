// Unit tests of the division table (storage/divisions.h): parsing with
// clear errors, the labels a person reads, and which table a node holds.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "storage/divisions.h"
#include "storage/store.h"
#include "storage/test_documents.h"
#include "storage/test_events.h"
#include "storage/test_store.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::storage;
using namespace liandong::test;

namespace {

std::string example() {
  return liandong::test::example_document("divisions-example.toml");
}

std::string table(uint32_t version, const std::string& township_name) {
  return "version = " + std::to_string(version) +
         "\n[[division]]\ncode = \"360723\"\nname = \"大余县\"\n"
         "[[division]]\ncode = \"360723101\"\nname = \"" +
         township_name + "\"\n";
}

BodyFill divisions_body(uint32_t version, std::string doc) {
  return [version, doc](proto::Event::Builder ev) {
    auto d = ev.getBody().initDivisionsPublished();
    d.setVersion(version);
    d.setDocument(
        capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(doc.data()), doc.size()));
  };
}

}  // namespace

TEST_CASE("divisions: the example names the county, its townships and villages",
          "[storage][divisions]") {
  auto d = parse_divisions(example(), "divisions-example.toml");
  INFO(d.status().to_string());
  REQUIRE(d.ok());
  CHECK(d->version == 1);
  CHECK(d->name_of("360723") == "大余县");
  CHECK(d->name_of("360723101") == "南安镇");
  CHECK(d->name_of("360723101007") == "水城村");
  CHECK_FALSE(d->name_of("360723199"));
}

TEST_CASE("divisions: a code reads as name and code, or bare where no name is held",
          "[storage][divisions]") {
  auto d = parse_divisions(table(1, "南安镇"), "t.toml");
  REQUIRE(d.ok());
  CHECK(d->label("360723101") == "南安镇（360723101）");
  CHECK(d->short_label("360723101") == "南安镇");
  CHECK(d->label("360723102") == "360723102");
  CHECK(d->short_label("360723102") == "360723102");
  CHECK(place_label(&*d, "360723") == "大余县（360723）");
  CHECK(place_label(nullptr, "360723101") == "360723101");
  CHECK(place_short_label(nullptr, "360723101") == "360723101");
}

TEST_CASE("divisions: broken tables are refused with file, line and key", "[storage][divisions]") {
  auto err = [](const std::string& text) {
    auto r = parse_divisions(text, "d.toml");
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  CHECK_THAT(err("version = 1\n"), Catch::Contains("no [[division]]"));
  CHECK_THAT(err("[[division]]\ncode=\"360723\"\nname=\"大余县\"\n"), Catch::Contains("version"));
  CHECK_THAT(err("version = 0\n[[division]]\ncode=\"360723\"\nname=\"大余县\"\n"),
             Catch::Contains("version"));
  CHECK_THAT(err("version = 1\n[[division]]\ncode=\"3607\"\nname=\"赣州市\"\n"),
             Catch::Contains("d.toml:3: division[0].code"));
  CHECK_THAT(err("version = 1\n[[division]]\ncode=\"36072310\"\nname=\"x\"\n"),
             Catch::Contains("not the code"));
  CHECK_THAT(err("version = 1\n[[division]]\ncode=\"360723\"\nname=\"\"\n"),
             Catch::Contains("division[0].name"));
  CHECK_THAT(err("version = 1\n[[division]]\ncode=\"360723\"\nname=\"a\\nb\"\n"),
             Catch::Contains("control"));
  CHECK_THAT(
      err("version = 1\n[[division]]\ncode=\"360723\"\nname=\"" + std::string(101, 'x') + "\"\n"),
      Catch::Contains("at most 100 bytes"));
  CHECK_THAT(err("version = 1\n[[division]]\ncode=\"360723\"\nname=\"大余县\"\n"
                 "[[division]]\ncode=\"360723\"\nname=\"大余\"\n"),
             Catch::Contains("listed twice"));
  CHECK_THAT(err("version = 1\n[[division]]\ncode=\"360723\"\nname=\"大余县\"\nsize=3\n"),
             Catch::Contains("unknown key"));
  CHECK_THAT(err("version = 1\n[[division]]\ncode=360723\nname=\"大余县\"\n"),
             Catch::Contains("must be a string"));
  CHECK_THAT(err("version = 1\nextra = 2\n"), Catch::Contains("unknown key"));
  CHECK_THAT(err("version = \n"), Catch::Contains("syntax"));
}

TEST_CASE("divisions: a node holds the newest version from its own county",
          "[storage][divisions]") {
  TempStore temp(kVillage, "liandong-divisions-test");
  Store& store = *temp;
  Forge forge;
  const std::string other_county = "360724";
  for (const auto& origin : {kCounty, other_county})
    REQUIRE(store.put_key(origin, forge.key(origin).pub));

  auto none = held_divisions(store);
  REQUIRE(none.ok());
  CHECK_FALSE(*none);

  // Version 3 arrives before version 2; another county's table is no
  // business of this village's.
  const std::vector<std::string> batch = {
      forge.broadcast(kCounty, hlc_at(1), divisions_body(3, table(3, "南安镇"))),
      forge.broadcast(kCounty, hlc_at(2), divisions_body(2, table(2, "旧名"))),
      forge.broadcast(other_county, hlc_at(3), divisions_body(9, table(9, "别县的镇")))};
  auto results = store.ingest(batch);
  REQUIRE(results.ok());
  for (const auto& r : *results)
    CHECK(r.outcome == Outcome::stored);
  auto held = held_divisions(store);
  REQUIRE(held.ok());
  REQUIRE(*held);
  CHECK((*held)->version == 3);
  CHECK((*held)->label("360723101") == "南安镇（360723101）");
}

TEST_CASE("divisions: a table signed by a township is refused", "[storage][divisions]") {
  TempStore temp(kVillage, "liandong-divisions-test");
  Store& store = *temp;
  Forge forge;
  REQUIRE(store.put_key(kTownship, forge.key(kTownship).pub));
  const std::vector<std::string> batch = {
      forge.broadcast(kTownship, hlc_at(1), divisions_body(1, table(1, "假名")))};
  auto results = store.ingest(batch);
  REQUIRE(results.ok());
  REQUIRE(results->size() == 1);
  CHECK((*results)[0].outcome == Outcome::rejected);
  CHECK_THAT((*results)[0].status.message(), Catch::Contains("only a county"));
  auto held = held_divisions(store);
  REQUIRE(held.ok());
  CHECK_FALSE(*held);
}
