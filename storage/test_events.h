// Test helpers: build and seal case events for the storage unit tests.
//
// A Forge holds one Ed25519 key per origin code and hands out per-origin
// sequence numbers, so a test can write a case's history as a list of
// "who did what, when" and get the sealed bytes (or parsed views) every node
// would see. Header-only; used by case_fold_test.cpp and store_test.cpp.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"

namespace liandong::test {

// The three tiers of one county's network (DOMAIN.md).
inline const std::string kVillage = "360723101007";   // village point
inline const std::string kVillage2 = "360723101008";  // a neighbouring village
inline const std::string kTownship = "360723101";     // township hub
inline const std::string kCounty = "360723";          // county center
// A fixed, past wall-clock time (2023-11-14): events stamped from here are
// never "in the future" for the store's clock-skew check.
constexpr uint64_t kBaseMs = 1'700'000'000'000ULL;
inline uint64_t hlc_at(uint64_t offset_ms, uint64_t counter = 0) {
  return make_hlc(kBaseMs + offset_ms, counter);
}

using BodyFill = std::function<void(proto::Event::Builder)>;

// The envelope fields of an event; `fill` adds the body.
struct Head {
  Id id{};
  Id case_id{};  // empty: none (broadcasts)
  std::string home{};
  uint64_t hlc = 0;
  std::vector<Id> settles{};
  std::string actor = "李明";
};

inline void fill_head(proto::Event::Builder ev, const Head& h) {
  write_id(ev.initId(), h.id);
  if (!h.case_id.empty()) write_id(ev.initCase(), h.case_id);
  ev.setHome(h.home);
  ev.setHlc(h.hlc);
  auto actor = ev.initActor();
  actor.setName(h.actor);
  actor.setRole(proto::Role::CLERK);
  if (!h.settles.empty()) {
    auto s = ev.initSettles(static_cast<unsigned>(h.settles.size()));
    for (unsigned i = 0; i < s.size(); ++i)
      write_id(s[i], h.settles[i]);
  }
}

inline std::string seal_event(const Head& h, const BodyFill& fill, const SigningKey& key) {
  capnp::MallocMessageBuilder msg;
  auto ev = msg.initRoot<proto::Event>();
  fill_head(ev, h);
  fill(ev);
  return seal(msg, key);
}

// The same envelope with an all-zero signature: for fold tests, which never
// check signatures and make tens of thousands of events.
inline std::string seal_unsigned(const Head& h, const BodyFill& fill) {
  capnp::MallocMessageBuilder msg;
  auto ev = msg.initRoot<proto::Event>();
  fill_head(ev, h);
  fill(ev);
  auto words = capnp::messageToFlatArray(msg);
  auto bytes = words.asBytes();
  const capnp::byte zero[64] = {};
  capnp::MallocMessageBuilder outer;
  auto env = outer.initRoot<proto::SignedEvent>();
  env.setEvent(capnp::Data::Reader(bytes.begin(), bytes.size()));
  env.setSignature(capnp::Data::Reader(zero, sizeof zero));
  auto out_words = capnp::messageToFlatArray(outer);
  auto out = out_words.asBytes();
  return std::string(reinterpret_cast<const char*>(out.begin()), out.size());
}

// Parses bytes the test made itself; a failure is a bug in the test.
inline EventView must_parse(std::string_view sealed) {
  auto v = EventView::parse(sealed);
  if (!v.ok()) throw std::runtime_error("test event does not parse: " + v.status().to_string());
  return std::move(v).value();
}

// ---- bodies -------------------------------------------------------------

inline BodyFill submitted_body(std::string applicant = "张三",
                               std::string item_name = "农村宅基地建房", int64_t fee_due = 0) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initSubmitted();
    auto a = b.initApplicant();
    a.setName(applicant);
    a.setIdNumber("360723198001010018");
    a.setPhone("13800000000");
    a.setAddress("江西省赣州市");
    b.setItemCode("360723-GT-0001");
    b.setItemName(item_name);
    b.setCatalogVersion(3);
    auto f = b.initFields(1);
    f[0].setKey("建房面积");
    f[0].setValue("120平方米");
    auto m = b.initMaterials(2);
    m[0].setName("户口簿");
    m[0].setCount(1);
    m[0].setOriginal(true);
    m[1].setName("土地承包合同");
    m[1].setCount(1);
    m[1].setState(proto::MaterialState::LATER);
    b.setFeeDue(fee_due);
    b.setSummary("申请在自有宅基地上新建住房");
  };
}
inline BodyFill accepted_body(std::string due = "2023-11-24") {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initAccepted();
    b.setDueDate(due);
    b.setNote("材料齐全, 予以受理");
  };
}
inline BodyFill supplement_requested_body(std::vector<std::string> missing = {"身份证复印件"}) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initSupplementRequested();
    auto m = b.initMissing(static_cast<unsigned>(missing.size()));
    for (unsigned i = 0; i < m.size(); ++i) {
      m[i].setName(missing[i]);
      m[i].setCount(1);
      m[i].setState(proto::MaterialState::MISSING);
    }
    b.setNote("一次性告知");
  };
}
inline BodyFill supplemented_body(std::vector<std::string> provided = {"身份证复印件"}) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initSupplemented();
    auto m = b.initProvided(static_cast<unsigned>(provided.size()));
    for (unsigned i = 0; i < m.size(); ++i) {
      m[i].setName(provided[i]);
      m[i].setCount(1);
    }
  };
}
inline BodyFill escalated_body(std::string to) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initEscalated();
    b.setTo(to);
    b.setNote("上报");
  };
}
inline BodyFill assigned_body(std::vector<std::string> departments) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initAssigned();
    auto d = b.initDepartments(static_cast<unsigned>(departments.size()));
    for (unsigned i = 0; i < d.size(); ++i)
      d.set(i, departments[i]);
  };
}
inline BodyFill opinion_body(std::string department, bool approve = true) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initOpinion();
    b.setDepartment(department);
    b.setApprove(approve);
    b.setText("同意");
  };
}
inline BodyFill decided_body(bool approved = true) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initDecided();
    b.setApproved(approved);
    b.setReason(approved ? "" : "不符合村庄规划");
    b.setLegalBasis("《土地管理法》第六十二条");
    if (approved) b.setCertificateNo("乡字第2023-118号");
  };
}
inline BodyFill delivered_body() {
  return [](proto::Event::Builder ev) { ev.getBody().initDelivered().setMethod("当面送达"); };
}
inline BodyFill rated_body(uint8_t score = 5) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initRated();
    b.setScore(score);
    b.setComment("满意");
  };
}
inline BodyFill fee_collected_body(int64_t amount = 1000) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initFeeCollected();
    b.setAmount(amount);
    b.setReceiptNo("No.0012345");
  };
}
inline BodyFill closed_body() {
  return [](proto::Event::Builder ev) { ev.getBody().initClosed().setNote("办结销号"); };
}
inline BodyFill not_accepted_body(std::string reason = "不属于本事项受理范围") {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initNotAccepted();
    b.setReason(reason);
    b.setLegalBasis("《行政许可法》第三十二条");
  };
}
// 已接收: the node itself records that it stored the hand-over `of`.
inline BodyFill received_body(Id of = Id{"360723", 1}) {
  return [=](proto::Event::Builder ev) {
    ev.getActor().setName("system");
    ev.getActor().setRole(proto::Role::SYSTEM);
    write_id(ev.getBody().initReceived().initEvent(), of);
  };
}
// 督办: a supervision order with a new deadline.
inline BodyFill supervised_body(std::string due = "2023-11-20", std::string holder = kVillage) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initSupervised();
    b.setNote("请于时限内办结并报告办理情况");
    b.setDueDate(due);
    b.setHolder(holder);
  };
}
// An answer to the order, complaint or rating `about`.
inline BodyFill answered_body(Id about, proto::AnswerTo to = proto::AnswerTo::ORDER,
                              bool upheld = false) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initAnswered();
    write_id(b.initAbout(), about);
    b.setTo(to);
    b.setText("已按要求办理，情况如下");
    b.setUpheld(upheld);
  };
}
inline BodyFill withdrawn_body() {
  return [](proto::Event::Builder ev) { ev.getBody().initWithdrawn().setReason("申请人撤回"); };
}
inline BodyFill comment_body(std::string text = "已电话联系申请人") {
  return [=](proto::Event::Builder ev) { ev.getBody().initComment().setText(text); };
}
inline BodyFill complaint_body() {
  return [](proto::Event::Builder ev) {
    auto b = ev.getBody().initComplaint();
    b.setText("办理超时");
    b.setAgainst(kTownship);
  };
}
inline BodyFill replied_body() {
  return [](proto::Event::Builder ev) { ev.getBody().initReplied().setText("可以办理"); };
}
inline BodyFill catalog_body(std::string document = "catalog v1") {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initCatalogPublished();
    b.setVersion(1);
    b.setDocument(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(document.data()),
                                      document.size()));
  };
}
inline BodyFill calendar_body() {
  return [](proto::Event::Builder ev) { ev.getBody().initCalendarPublished().setYear(2024); };
}
// An audit record: an event refused from the township, seen `count` times.
inline BodyFill audit_body(uint32_t count = 1) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initAudit();
    b.setWhat(proto::AuditWhat::EVENT_REFUSED);
    b.setPeerCode("360723101");
    b.setWho("360723101");
    b.setSubject("360723101007-000001");
    b.setReason("bad signature");
    b.setCount(count);
    b.setFirstMs(1'700'000'000'000ULL);
    b.setLastMs(1'700'000'060'000ULL);
  };
}

// A key rotation of `origin` from `old_key` to `new_key`, with the new
// key's proof (a wrong proof when `honest_proof` is false).
inline BodyFill rotated_body(const std::string& origin, const SigningKey& old_key,
                             const SigningKey& new_key, bool honest_proof = true) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initKeyRotated();
    b.setOldKey(capnp::Data::Reader(old_key.pub.data(), old_key.pub.size()));
    b.setNewKey(capnp::Data::Reader(new_key.pub.data(), new_key.pub.size()));
    const Signature proof = sign(honest_proof ? new_key : old_key,
                                 rotation_proof_message(origin, old_key.pub, new_key.pub));
    b.setProof(capnp::Data::Reader(proof.data(), proof.size()));
  };
}
// A key directory entry published by the county.
inline BodyFill keys_body(const std::string& code, const PublicKey& key, proto::KeyState state,
                          uint64_t trusted_seq = 0, const std::string& reason = "") {
  return [=](proto::Event::Builder ev) {
    auto e = ev.getBody().initKeysPublished().initEntries(1)[0];
    e.setCode(code);
    e.setKey(capnp::Data::Reader(key.data(), key.size()));
    e.setState(state);
    e.setTrustedSeq(trusted_seq);
    e.setReason(reason);
  };
}

// ---- a keyring with sequence numbers -------------------------------------

class Forge {
 public:
  // `sign` false: events carry a zero signature (see seal_unsigned).
  explicit Forge(bool sign = true) : sign_(sign) {}

  const SigningKey& key(const std::string& origin) {
    auto it = keys_.find(origin);
    if (it == keys_.end()) it = keys_.emplace(origin, generate_signing_key()).first;
    return it->second;
  }
  Id next_id(const std::string& origin) { return Id{origin, ++seqs_[origin]}; }

  // A new case's `submitted`, made by `origin` and homed at `home`.
  std::string submit(const std::string& origin, const std::string& home, uint64_t hlc,
                     const BodyFill& body = submitted_body()) {
    const Id id = next_id(origin);
    return make(Head{.id = id, .case_id = id, .home = home, .hlc = hlc}, body);
  }
  // An event about case `case_id` homed at `home`.
  std::string act(const std::string& origin, const Id& case_id, const std::string& home,
                  uint64_t hlc, const BodyFill& body, std::vector<Id> settles = {}) {
    return make(Head{.id = next_id(origin),
                     .case_id = case_id,
                     .home = home,
                     .hlc = hlc,
                     .settles = std::move(settles)},
                body);
  }
  std::string broadcast(const std::string& origin, uint64_t hlc, const BodyFill& body) {
    return make(Head{.id = next_id(origin), .case_id = Id{}, .home = origin, .hlc = hlc}, body);
  }
  // Any envelope, signed with the key of its origin.
  std::string make(const Head& h, const BodyFill& body) {
    return sign_ ? seal_event(h, body, key(h.id.origin)) : seal_unsigned(h, body);
  }

 private:
  bool sign_ = true;
  std::map<std::string, SigningKey> keys_;
  std::map<std::string, uint64_t> seqs_;
};

}  // namespace liandong::test
