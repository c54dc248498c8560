// Key rotation, revocation and the key directory (密钥目录), and the events
// held in quarantine (隔离区) for review:
//
//   liandong keys rotate   [--actor NAME]     roll this node's signing key
//   liandong keys revoke   CODE [--key HEX] --reason TEXT --actor NAME   (county)
//   liandong keys publish  CODE KEY --actor NAME                          (county)
//   liandong keys list     [--json]           the directory as held here
//   liandong quarantine    [--json]           events held for review
//
// Rotation and county publications are events (records.capnp: KeyRotated,
// KeysPublished); storage/keyring.h says how they are judged.
#include <fmt/format.h>

#include <memory>

#include "node/commands.h"
#include "node/input_checks.h"
#include "node/json_text.h"
#include "node/render.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

// The county (or a level above) publishes the key directory.
constexpr std::size_t kMaxPublisherCodeLen = 6;

std::string short_key(const PublicKey& k) {
  return to_hex(k).substr(0, 16) + "…";
}

std::string str(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

capnp::Data::Reader data_of(const PublicKey& k) {
  return capnp::Data::Reader(k.data(), k.size());
}

void require_actor(const ActorOptions& actor, const char* what) {
  if (actor.name.empty())
    fail(Status::invalid(std::string(what) + " names the person who does it: give --actor NAME"));
}

// `keys rotate --link`: a new CurveZMQ pair. Links are configured, not
// published: the parent's config names the child's link key, so the new
// one is handed to the parent's administrator, and both restart.
int cmd_rotate_link(const std::string& data, bool json) {
  if (in_daemon())
    refuse(Status::invalid(
        "链路密钥只能在本节点守护进程停止时轮换 (the daemon holds its link keys: stop it, run "
        "`keys rotate --link`, give the new key to the parent, then start it again)"));
  auto node = open_node(data);
  const CurveKeyPair next = generate_curve_keypair();
  if (auto s = replace_link_key(node.data_dir, next); !s) fail(s);
  const std::string z85 =
      to_z85(std::string_view(reinterpret_cast<const char*>(next.pub.data()), next.pub.size()));
  if (json) {
    print(json_text(Json{{"code", node.store->code()}, {"curve_key", z85}}) + "\n");
  } else {
    print(fmt::format(
        "已轮换链路密钥 (link key rotated): {}\n  新链路公钥 curve_key: {}\n"
        "  请上级节点管理员把它写入上级配置中本节点的 [[child]] curve_key，然后重启双方；"
        "旧链路密钥随即失效。\n",
        node.store->code(), z85));
  }
  return 0;
}

int cmd_rotate(const std::string& data, const ActorOptions& actor, bool json) {
  auto node = open_node(data);
  const std::string code = node.store->code();
  check_actor_level(actor, code);
  const SigningKey old_key = node.identity.sign;
  const SigningKey next = generate_signing_key();
  // 1. The new secret, staged: a crash from here on loses nothing.
  const fs::path dir = node.data_dir;
  if (auto s = stage_signing_key(dir, next); !s) fail(s);
  // 2. The rotation, signed with the old key, proved with the new one.
  storage::LocalDraft d;
  d.fill = [&](proto::Event::Builder ev) {
    fill_actor(ev.initActor(), actor.name.empty() ? ActorOptions{"system", "", "", ""} : actor,
               code);
    if (actor.name.empty()) ev.getActor().setRole(proto::Role::SYSTEM);
    auto r = ev.getBody().initKeyRotated();
    r.setOldKey(data_of(old_key.pub));
    r.setNewKey(data_of(next.pub));
    const Signature proof = sign(next, rotation_proof_message(code, old_key.pub, next.pub));
    r.setProof(capnp::Data::Reader(proof.data(), proof.size()));
  };
  auto stored = node.store->append_local(d, old_key);
  if (!stored.ok()) {
    (void)finish_rotation(dir, false);
    fail(stored.status());
  }
  // 3. From now on this node signs with the new key.
  if (auto s = promote_signing_key(dir); !s) fail(s);
  if (node.identity_slot != nullptr) node.identity_slot->sign = next;
  if (json) {
    print(json_text(Json{{"code", code},
                         {"event", format_id(stored->view.id())},
                         {"old_key", to_hex(old_key.pub)},
                         {"new_key", to_hex(next.pub)}}) +
          "\n");
  } else {
    print(
        fmt::format("已轮换签名密钥 (signing key rotated): {}\n  旧密钥 old: {}\n  新密钥 new: "
                    "{}\n  事件 event: "
                    "{}（随同步上报县级并下发本级以下）\n",
                    code, to_hex(old_key.pub), to_hex(next.pub), format_id(stored->view.id())));
  }
  return 0;
}

// The keys of `code` a revocation without --key covers: its first key and
// every active key the directory names.
std::vector<PublicKey> keys_of(const storage::Store& store, const std::string& code) {
  std::vector<PublicKey> out;
  auto first = store.key(code);
  if (!first.ok()) fail(first.status());
  if (*first) out.push_back(**first);
  for (const auto& row : store.keyring().rows()) {
    if (row.code != code || row.rec.state != storage::KeyState::active) continue;
    if (std::find(out.begin(), out.end(), row.key) == out.end()) out.push_back(row.key);
  }
  return out;
}

void require_publisher(const storage::Store& store, const std::string& code) {
  if (store.code().size() > kMaxPublisherCodeLen)
    refuse(
        Status::invalid("只有县级节点发布密钥目录 (only the county publishes the key directory; " +
                        store.code() + " is not a county)"));
  if (!plausible_code(code)) fail(Status::invalid("'" + code + "' is not a division code"));
  if (code == store.code() || !within(code, store.code()))
    fail(Status::invalid(code + " is not a node below " + store.code()));
}

int publish_entries(Opened& node, const ActorOptions& actor, const std::string& code,
                    const std::vector<PublicKey>& keys, proto::KeyState state, uint64_t trusted,
                    const std::string& reason, bool json) {
  check_actor_level(actor, node.store->code());
  storage::LocalDraft d;
  d.fill = [&](proto::Event::Builder ev) {
    fill_actor(ev.initActor(), actor, node.store->code());
    auto list = ev.getBody().initKeysPublished().initEntries(static_cast<unsigned>(keys.size()));
    for (unsigned i = 0; i < keys.size(); ++i) {
      list[i].setCode(code);
      list[i].setKey(data_of(keys[i]));
      list[i].setState(state);
      list[i].setTrustedSeq(state == proto::KeyState::ACTIVE ? 0 : trusted);
      list[i].setReason(reason);
    }
  };
  auto stored = node.store->append_local(d, node.identity.sign);
  if (!stored.ok()) fail(stored.status());
  if (json) {
    Json hex_keys = Json::array();
    for (const auto& k : keys)
      hex_keys.push_back(to_hex(k));
    print(json_text(Json{{"event", format_id(stored->view.id())},
                         {"code", code},
                         {"state", state == proto::KeyState::REVOKED ? "revoked" : "active"},
                         {"trusted_seq", trusted},
                         {"keys", std::move(hex_keys)}}) +
          "\n");
    return 0;
  }
  for (const auto& k : keys) {
    if (state == proto::KeyState::REVOKED) {
      print(fmt::format("已吊销 {} 的签名密钥 {}：序号 {} 之后用它签名的事件一律隔离待审\n", code,
                        short_key(k), trusted));
    } else {
      print(fmt::format("已发布 {} 的签名密钥 {}\n", code, short_key(k)));
    }
  }
  print(fmt::format("密钥目录事件 (key directory event): {}，下发全县\n",
                    format_id(stored->view.id())));
  return 0;
}

int cmd_revoke(const std::string& data, const std::string& code, const std::string& key_hex,
               const std::string& reason, const ActorOptions& actor, bool json) {
  require_actor(actor, "a revocation");
  if (reason.empty()) fail(Status::invalid("a revocation gives its reason: --reason TEXT"));
  auto node = open_node(data);
  require_publisher(*node.store, code);
  std::vector<PublicKey> keys;
  if (!key_hex.empty()) {
    auto k = public_key_from_hex(key_hex);
    if (!k) fail(Status::invalid("'" + key_hex + "' is not a 64-digit hex Ed25519 public key"));
    // Only a key the node held: its first key, or one the directory names
    // for it (active, retired or already revoked).
    bool held = false;
    auto first = node.store->key(code);
    if (!first.ok()) fail(first.status());
    if (*first) held = **first == *k;
    held = held || node.store->keyring().find(code, *k) != nullptr;
    if (!held)
      fail(Status::not_found("key " + short_key(*k) + " is not a key of " + code +
                             " known here: nothing to revoke (`keys list` shows its keys)"));
    keys.push_back(*k);
  } else {
    keys = keys_of(*node.store, code);
    if (keys.empty())
      fail(Status::not_found("no signing key of " + code + " is known here: give --key HEX"));
  }
  // Everything of `code` held here stays valid; anything later signed with
  // these keys is quarantined wherever it arrives.
  auto trusted = node.store->max_seq(code);
  if (!trusted.ok()) fail(trusted.status());
  return publish_entries(node, actor, code, keys, proto::KeyState::REVOKED, *trusted, reason, json);
}

int cmd_publish_key(const std::string& data, const std::string& code, const std::string& key_hex,
                    const ActorOptions& actor, bool json) {
  require_actor(actor, "publishing a key");
  auto node = open_node(data);
  require_publisher(*node.store, code);
  auto k = public_key_from_hex(key_hex);
  if (!k) fail(Status::invalid("'" + key_hex + "' is not a 64-digit hex Ed25519 public key"));
  if (const auto* rec = node.store->keyring().find(code, *k);
      rec != nullptr && rec->state == storage::KeyState::revoked)
    refuse(Status::invalid("key " + short_key(*k) + " of " + code +
                           " was revoked; a revoked key stays revoked"));
  return publish_entries(node, actor, code, {*k}, proto::KeyState::ACTIVE, 0, "", json);
}

int cmd_list(const std::string& data, bool json) {
  auto node = open_node(data);
  auto firsts = node.store->first_keys();
  if (!firsts.ok()) fail(firsts.status());
  const storage::KeyRing ring = node.store->keyring();
  struct Row {
    std::string code;
    PublicKey key;
    storage::KeyRecord rec;
    bool first = false;
  };
  std::vector<Row> rows;
  for (const auto& [code, key] : *firsts) {
    const auto* rec = ring.find(code, key);
    rows.push_back(Row{code, key, rec != nullptr ? *rec : storage::KeyRecord{}, true});
  }
  for (const auto& r : ring.rows()) {
    const bool listed = std::any_of(
        rows.begin(), rows.end(), [&](const Row& x) { return x.code == r.code && x.key == r.key; });
    if (!listed) rows.push_back(Row{r.code, r.key, r.rec, false});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.code, a.rec.since_hlc, a.key) < std::tie(b.code, b.rec.since_hlc, b.key);
  });
  Json j = Json::array();
  std::string text = pad("节点", 12) + "  " + pad("签名密钥", 18) + "  " + pad("状态", 6) + "  " +
                     pad("有效至序号", 10) + "  原因\n";
  for (const auto& r : rows) {
    const bool limited = r.rec.state != storage::KeyState::active;
    if (json) {
      j.push_back(Json{{"code", r.code},
                       {"key", to_hex(r.key)},
                       {"state", storage::key_state_name(r.rec.state)},
                       {"first", r.first},
                       {"trusted_seq", r.rec.trusted_seq},
                       {"reason", r.rec.reason}});
      continue;
    }
    text += pad(r.code, 12) + "  " + pad(short_key(r.key), 18) + "  " +
            pad(storage::key_state_name_zh(r.rec.state), 6) + "  " +
            pad(limited ? std::to_string(r.rec.trusted_seq) : "-", 10) + "  " +
            (r.rec.reason.empty() ? "-" : r.rec.reason) + "\n";
  }
  print(json ? json_text(j) + "\n" : (rows.empty() ? std::string("密钥目录为空\n") : text));
  return 0;
}

int cmd_quarantine(const std::string& data, bool json) {
  auto node = open_node(data);
  auto held = node.store->quarantined();
  if (!held.ok()) fail(held.status());
  Json j = Json::array();
  std::string text;
  if (!held->empty())
    text = pad("事件", 22) + "  " + pad("类型", 12) + "  " + pad("办件", 22) + "  " +
           pad("到达时间", 20) + "  原因\n";
  for (const auto& q : *held) {
    auto v = EventView::parse(q.sealed);
    const std::string id = v.ok() ? format_id(v->id()) : "?";
    const std::string kind = v.ok() ? kind_name(v->kind()) : "?";
    const std::string case_id = v.ok() && names_case(v->kind()) ? format_id(v->case_id()) : "";
    if (json) {
      j.push_back(Json{{"id", id},
                       {"kind", kind},
                       {"case", case_id},
                       {"home", v.ok() ? str(v->event().getHome()) : ""},
                       {"hlc_ms", v.ok() ? hlc_ms(v->hlc()) : 0},
                       {"arrival_ms", q.arrival_ms},
                       {"reason", q.reason}});
      continue;
    }
    text += pad(id, 22) + "  " + pad(v.ok() ? kind_name_zh(v->kind()) : "?", 12) + "  " +
            pad(case_id.empty() ? "-" : case_id, 22) + "  " + pad(format_time(q.arrival_ms), 20) +
            "  " + q.reason + "\n";
  }
  print(json ? json_text(j) + "\n" : (held->empty() ? std::string("隔离区为空\n") : text));
  return 0;
}

}  // namespace

void settle_rotation(const fs::path& data, const storage::Store& store) {
  auto next = staged_signing_key(data);
  if (!next) return;
  const bool stored = store.keyring().find(store.code(), next->pub) != nullptr;
  (void)finish_rotation(data, stored);
}

void add_key_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  CLI::App* keys = app.get_subcommand("keys");
  std::string& data = shared.data;
  bool& json = shared.json;
  ActorOptions& actor = shared.actor;

  auto* c_rotate = keys->add_subcommand(
      "rotate",
      "roll this node's signing key (密钥轮换); the old key stays valid for what it signed");
  shared.add_data(c_rotate);
  shared.add_actor(c_rotate);
  auto link = std::make_shared<bool>(false);
  c_rotate->add_flag("--link", *link,
                     "roll the CurveZMQ link key instead (daemon stopped; the parent's config "
                     "must then name the new key)");
  c_rotate->add_flag("--json", json, "print JSON");
  out.push_back({.app = c_rotate, .run = [link, &data, &actor, &json] {
                   return *link ? cmd_rotate_link(data, json) : cmd_rotate(data, actor, json);
                 }});

  struct RevokeArgs {
    std::string code, key, reason;
  };
  auto rv = std::make_shared<RevokeArgs>();
  auto* c_revoke = keys->add_subcommand(
      "revoke", "revoke a node's signing key, e.g. a stolen village laptop (吊销; county only)");
  shared.add_data(c_revoke);
  shared.add_actor(c_revoke);
  c_revoke->add_option("code", rv->code, "the node whose key is revoked")->required();
  c_revoke->add_option("--key", rv->key, "only this key (hex; default: every active key)");
  c_revoke->add_option("--reason", rv->reason, "why, e.g. 笔记本电脑被盗")->required();
  c_revoke->add_flag("--json", json, "print JSON");
  out.push_back({.app = c_revoke, .run = [rv, &data, &actor, &json] {
                   return cmd_revoke(data, rv->code, rv->key, rv->reason, actor, json);
                 }});

  auto pk = std::make_shared<RevokeArgs>();
  auto* c_publish = keys->add_subcommand("publish",
                                         "publish a node's new signing key, e.g. a replacement "
                                         "laptop's (发布密钥; county only)");
  shared.add_data(c_publish);
  shared.add_actor(c_publish);
  c_publish->add_option("code", pk->code, "the node")->required();
  c_publish->add_option("key", pk->key, "its Ed25519 public key, hex (from `keys show`)")
      ->required();
  c_publish->add_flag("--json", json, "print JSON");
  out.push_back({.app = c_publish, .run = [pk, &data, &actor, &json] {
                   return cmd_publish_key(data, pk->code, pk->key, actor, json);
                 }});

  auto* c_list = keys->add_subcommand("list", "the key directory held here (密钥目录)");
  shared.add_data(c_list);
  c_list->add_flag("--json", json, "print JSON");
  out.push_back({.app = c_list, .run = [&data, &json] { return cmd_list(data, json); }});

  auto* c_quarantine = app.add_subcommand(
      "quarantine", "events held for review: signed with a revoked or retired key (隔离区)");
  shared.add_data(c_quarantine);
  c_quarantine->add_flag("--json", json, "print JSON");
  out.push_back(
      {.app = c_quarantine, .run = [&data, &json] { return cmd_quarantine(data, json); }});
}

}  // namespace liandong::node
