// A `keys rotate` cut short by a crash (node/identity.h): the new secret is
// staged, then the rotation is stored, then the secret is promoted. Opening
// the node afterwards promotes a staged key whose rotation is stored and
// drops one whose rotation is not, so the node never signs with a key its
// peers do not know.
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "node/commands.h"
#include "node/identity.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::node;

namespace {

const std::string kVillage = "360723101007";

struct Node {
  test::TempDir tmp{"liandong-rotation"};
  std::unique_ptr<storage::Store> store;
  Identity id;
  Node() {
    auto made = create_identity(tmp.path());
    REQUIRE(made.ok());
    id = *made;
    storage::StoreOptions o;
    o.dir = store_dir(tmp.path());
    auto s = storage::Store::create(o, kVillage);
    REQUIRE(s.ok());
    store = std::move(s).value();
  }
  // The rotation event, as `keys rotate` stores it.
  void store_rotation(const SigningKey& next) {
    storage::LocalDraft d;
    d.fill = [&](proto::Event::Builder ev) {
      ev.initActor().setName("王小红");
      auto r = ev.getBody().initKeyRotated();
      r.setOldKey(capnp::Data::Reader(id.sign.pub.data(), 32));
      r.setNewKey(capnp::Data::Reader(next.pub.data(), 32));
      const Signature proof = sign(next, rotation_proof_message(kVillage, id.sign.pub, next.pub));
      r.setProof(capnp::Data::Reader(proof.data(), proof.size()));
    };
    REQUIRE(store->append_local(d, id.sign).ok());
  }
  PublicKey loaded_key() const {
    auto l = load_identity(tmp.path());
    REQUIRE(l.ok());
    return l->sign.pub;
  }
  bool staged() const { return std::filesystem::exists(keys_dir(tmp.path()) / "sign.key.next"); }
};

}  // namespace

TEST_CASE("rotation: a crash before the rotation is stored keeps the old key", "[keys][rotation]") {
  Node n;
  const SigningKey next = generate_signing_key();
  REQUIRE(stage_signing_key(n.tmp.path(), next));
  CHECK(n.staged());
  settle_rotation(n.tmp.path(), *n.store);
  CHECK_FALSE(n.staged());
  CHECK(n.loaded_key() == n.id.sign.pub);
}

TEST_CASE("rotation: a crash after the rotation is stored finishes it", "[keys][rotation]") {
  Node n;
  const SigningKey next = generate_signing_key();
  REQUIRE(stage_signing_key(n.tmp.path(), next));
  n.store_rotation(next);
  CHECK(n.loaded_key() == n.id.sign.pub);  // not promoted yet
  settle_rotation(n.tmp.path(), *n.store);
  CHECK_FALSE(n.staged());
  CHECK(n.loaded_key() == next.pub);
  // Nothing staged: settling again changes nothing.
  settle_rotation(n.tmp.path(), *n.store);
  CHECK(n.loaded_key() == next.pub);
}
