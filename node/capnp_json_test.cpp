// Event bodies in --json output (node/capnp_json.h): the values
// capnp::JsonCodec writes, built as Json values, safe for any bytes.
#include "node/capnp_json.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>

#include <catch2/catch.hpp>
#include <string>

#include "protocol/records.capnp.h"

using namespace liandong;
using namespace liandong::node;

namespace {

Json codec_json(proto::Event::Body::Reader body) {
  capnp::JsonCodec codec;
  auto text = codec.encode(body);
  return Json::parse(std::string(text.cStr(), text.size()));
}

}  // namespace

TEST_CASE("capnp_json: an application body is the value JsonCodec writes, key for key",
          "[render][json]") {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<proto::Event>();
  auto sub = ev.getBody().initSubmitted();
  sub.initApplicant().setName("张三");
  sub.getApplicant().setIdNumber("36072319991212001X");
  sub.setItemCode("NC-ZJD-001");
  sub.setCatalogVersion(3);
  sub.setFeeDue(125000);
  sub.setSummary("宅基地 1/2 号\t\"旧房\"");
  auto fields = sub.initFields(1);
  fields[0].setKey("面积");
  fields[0].setValue("120");
  auto mats = sub.initMaterials(1);
  mats[0].setName("户口簿");
  mats[0].setCount(2);
  mats[0].setState(proto::MaterialState::LATER);
  auto atts = sub.initAttachments(1);
  const capnp::byte sha[] = {0, 1, 255};
  atts[0].setSha256(capnp::Data::Reader(sha, sizeof sha));
  atts[0].setSize(1ull << 40);

  const Json got = capnp_json(capnp::toDynamic(ev.getBody().asReader()));
  // Same keys, same order, same values as the codec's own text.
  CHECK(got == codec_json(ev.getBody().asReader()));
  const Json& s = got.at("submitted");
  CHECK(s.at("feeDue") == "125000");  // 64-bit integers as strings
  CHECK(s.at("catalogVersion").is_number_integer());
  CHECK(s.at("catalogVersion") == 3);
  CHECK(s.at("supplementCase") == false);  // primitives always written
  CHECK(s.at("materials").at(0).at("state") == "later");
  CHECK(s.at("attachments").at(0).at("sha256") == Json::array({0, 1, 255}));
  CHECK(s.at("attachments").at(0).at("size") == "1099511627776");
  CHECK(json_text(s.at("summary")) == "\"宅基地 1/2 号\\t\\\"旧房\\\"\"");
}

TEST_CASE("capnp_json: a Void member is null, an enum of a key directory entry its name",
          "[render][json]") {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<proto::Event>();
  ev.getBody().setHeld31();
  CHECK(json_text(capnp_json(capnp::toDynamic(ev.getBody().asReader()))) == "{\"held31\":null}");
  auto e = ev.getBody().initKeysPublished().initEntries(1)[0];
  e.setCode("360723101007");
  e.setState(proto::KeyState::REVOKED);
  e.setTrustedSeq(41);
  const Json got = capnp_json(capnp::toDynamic(ev.getBody().asReader()));
  CHECK(got == codec_json(ev.getBody().asReader()));
  CHECK(got.at("keysPublished").at("entries").at(0).at("state") == "revoked");
  CHECK(got.at("keysPublished").at("entries").at(0).at("trustedSeq") == "41");
}

TEST_CASE("capnp_json: text from a peer that is not UTF-8 prints replaced, control bytes escaped",
          "[render][json]") {
  capnp::MallocMessageBuilder m;
  auto ev = m.initRoot<proto::Event>();
  const char bad[] = "a\xff\x1b[31m\x7f";
  ev.getBody().initComment().setText(capnp::Text::Reader(bad, sizeof bad - 1));
  const std::string out = json_text(capnp_json(capnp::toDynamic(ev.getBody().asReader())));
  CHECK(out == "{\"comment\":{\"text\":\"a\xef\xbf\xbd\\u001b[31m\\u007f\"}}");
}
