#include "node/key_directory.h"

#include <spdlog/spdlog.h>
#include <algorithm>

#include "protocol/event_codec.h"
#include "protocol/routing.h"

namespace liandong::node {

std::vector<std::string> KeyDirectory::codes_for(
    bool up, const std::map<std::string, config::Child>& children) const {
  std::vector<std::string> codes;
  if (up) {
    // Up: the keys of our own subtree that we know (our children's, and
    // theirs). Only codes inside our jurisdiction.
    codes.push_back(code_);
    for (const auto& [code, c] : children)
      codes.push_back(code);
  } else {
    // Down: ourselves and our ancestors.
    for (std::string c = code_; !c.empty(); c = c.size() > 2 ? parent_code(c) : "")
      codes.push_back(c);
  }
  return codes;
}

std::vector<sync::KeyEntry> KeyDirectory::entries(const std::vector<std::string>& codes) const {
  std::vector<sync::KeyEntry> out;
  for (const auto& code : codes) {
    auto k = store_.key(code);
    if (!k.ok()) spdlog::error("cannot read the key of {}: {}", code, k.status().message());
    out.push_back(sync::KeyEntry{code, k.ok() ? *k : std::nullopt});
  }
  return out;
}

void KeyDirectory::accept(const std::string& peer_code, bool from_parent,
                          const std::vector<sync::KeyEntry>& keys) {
  for (const auto& e : keys) {
    const std::string& code = e.code;
    if (!valid_code(code) || !e.key) continue;
    // A child vouches only inside its subtree; a parent only for itself
    // and its ancestors (whose events reach us through it).
    const bool allowed = from_parent ? within(code_, code) : within(code, peer_code);
    if (!allowed) {
      log_.warn("vouched outside",
                "{} vouched for the key of {}, outside what it may vouch "
                "for; ignored",
                peer_code, code);
      continue;
    }
    const PublicKey& key = *e.key;
    auto held = store_.key(code);
    if (!held.ok()) {
      spdlog::error("cannot read the key of {}: {}; the key {} vouched for is not taken", code,
                    held.status().message(), peer_code);
      continue;
    }
    const std::optional<PublicKey>& have = *held;
    if (have && *have == key) continue;
    if (have) {
      log_.warn("vouched another key",
                "{} vouched for a different key of {} than the one held; kept ours", peer_code,
                code);
      audit_.note(audit_note(proto::AuditWhat::KEY_CHANGED, code, peer_code,
                             "signing key " + to_hex(key),
                             "a different key was vouched for; the one held was kept"));
      continue;
    }
    if (auto s = store_.put_key(code, key); !s) {
      spdlog::error("cannot store key of {}: {}", code, s.message());
    } else {
      spdlog::info("learned the signing key of {} from {}", code, peer_code);
      audit_.record(audit_note(proto::AuditWhat::KEY_CHANGED, code, peer_code,
                               "signing key " + to_hex(key), "learned from " + peer_code));
    }
  }
}

void KeyDirectory::publish_directory() {
  if (!keeps_directory()) return;
  auto firsts = store_.first_keys();
  if (!firsts.ok()) return;
  const storage::KeyRing ring = store_.keyring();
  std::vector<std::pair<std::string, PublicKey>> missing;
  for (const auto& [code, key] : *firsts) {
    if (within(code, code_) && ring.find(code, key) == nullptr) missing.emplace_back(code, key);
  }
  for (std::size_t from = 0; from < missing.size(); from += 1000) {
    const std::size_t n = std::min<std::size_t>(1000, missing.size() - from);
    storage::LocalDraft d;
    d.fill = [&](proto::Event::Builder ev) {
      ev.initActor().setName("system");
      ev.getActor().setRole(proto::Role::SYSTEM);
      auto list = ev.getBody().initKeysPublished().initEntries(static_cast<unsigned>(n));
      for (unsigned i = 0; i < n; ++i) {
        const auto& [code, key] = missing[from + i];
        list[i].setCode(code);
        list[i].setKey(capnp::Data::Reader(key.data(), key.size()));
        list[i].setState(proto::KeyState::ACTIVE);
      }
    };
    auto stored = store_.append_local(d, key_);
    if (!stored.ok()) {
      spdlog::error("cannot publish the key directory: {}", stored.status().message());
      return;
    }
    spdlog::info("published {} key(s) to the county's key directory ({})", n,
                 format_id(stored->view.id()));
  }
}

void KeyDirectory::publish_rotation(const std::string& sealed) {
  if (!keeps_directory()) return;
  auto view = EventView::parse(sealed);
  if (!view.ok() || view->kind() != EventKind::key_rotated) return;
  auto r = view->event().getBody().getKeyRotated();
  const std::string& code = view->id().origin;
  storage::LocalDraft d;
  d.fill = [&](proto::Event::Builder ev) {
    ev.initActor().setName("system");
    ev.getActor().setRole(proto::Role::SYSTEM);
    auto list = ev.getBody().initKeysPublished().initEntries(2);
    list[0].setCode(code);
    list[0].setKey(r.getOldKey());
    list[0].setState(proto::KeyState::RETIRED);
    list[0].setTrustedSeq(view->id().seq);
    list[0].setReason("rotated (轮换) at " + format_id(view->id()));
    list[1].setCode(code);
    list[1].setKey(r.getNewKey());
    list[1].setState(proto::KeyState::ACTIVE);
  };
  auto stored = store_.append_local(d, key_);
  if (!stored.ok()) {
    spdlog::error("cannot publish the key rotation {} of {}: {}", format_id(view->id()), code,
                  stored.status().message());
    return;
  }
  spdlog::info("published the key rotation {} of {} to the county ({})", format_id(view->id()),
               code, format_id(stored->view.id()));
}

}  // namespace liandong::node
