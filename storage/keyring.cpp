#include "storage/keyring.h"

#include <algorithm>

#include "protocol/ids.h"

namespace liandong::storage {

namespace {

PublicKey key_of(capnp::Data::Reader d) {
  PublicKey k{};
  std::copy(d.begin(), d.begin() + std::min<std::size_t>(d.size(), k.size()), k.begin());
  return k;
}

}  // namespace

const char* key_state_name(KeyState s) {
  switch (s) {
    case KeyState::active:
      return "active";
    case KeyState::retired:
      return "retired";
    case KeyState::revoked:
      return "revoked";
  }
  return "?";
}

const char* key_state_name_zh(KeyState s) {
  switch (s) {
    case KeyState::active:
      return "有效";
    case KeyState::retired:
      return "已轮换";
    case KeyState::revoked:
      return "已吊销";
  }
  return "?";
}

std::optional<PublicKey> named_signer(const EventView& ev) {
  const std::string_view s = ev.signer();
  if (s.size() != 32) return std::nullopt;
  PublicKey k{};
  std::copy(s.begin(), s.end(), reinterpret_cast<char*>(k.data()));
  return k;
}

bool KeyRing::merge(const std::string& code, const PublicKey& key, const KeyRecord& stmt) {
  auto& per_code = codes_[code];
  auto it = per_code.find(key);
  if (it == per_code.end()) {
    per_code.emplace(key, stmt);
    return true;
  }
  KeyRecord& r = it->second;
  const KeyRecord before = r;
  if (stmt.state != KeyState::active) {
    r.trusted_seq =
        r.state == KeyState::active ? stmt.trusted_seq : std::min(r.trusted_seq, stmt.trusted_seq);
  }
  if (stmt.state > r.state) {
    r.state = stmt.state;
    r.reason = stmt.reason;
  } else if (stmt.state == r.state) {
    r.reason = std::min(r.reason, stmt.reason);
  }
  if (stmt.since_hlc != 0 && (r.since_hlc == 0 || stmt.since_hlc < r.since_hlc))
    r.since_hlc = stmt.since_hlc;
  return r.state != before.state || r.trusted_seq != before.trusted_seq ||
         r.reason != before.reason || r.since_hlc != before.since_hlc;
}

Result<std::vector<KeyRow>> KeyRing::apply(const EventView& ev) {
  std::vector<KeyRow> changed;
  auto note = [&](const std::string& code, const PublicKey& key, const KeyRecord& stmt) {
    if (merge(code, key, stmt)) changed.push_back(KeyRow{code, key, codes_[code][key]});
  };
  auto body = ev.event().getBody();
  if (body.isKeyRotated()) {
    auto r = body.getKeyRotated();
    const PublicKey old_key = key_of(r.getOldKey()), new_key = key_of(r.getNewKey());
    const auto signer = named_signer(ev);
    if (signer && *signer != old_key)
      return Status::invalid("key rotation " + format_id(ev.id()) +
                             " is not signed with the key it retires");
    const std::string_view proof(reinterpret_cast<const char*>(r.getProof().begin()),
                                 r.getProof().size());
    if (!verify(new_key, rotation_proof_message(ev.id().origin, old_key, new_key), proof))
      return Status::invalid("key rotation " + format_id(ev.id()) +
                             ": the new key's proof does not check");
    const std::string& code = ev.id().origin;
    note(code, old_key,
         KeyRecord{KeyState::retired, ev.id().seq, ev.hlc(),
                   "rotated (轮换) at " + format_id(ev.id())});
    note(code, new_key, KeyRecord{KeyState::active, 0, ev.hlc(), ""});
  } else if (body.isKeysPublished()) {
    for (auto e : body.getKeysPublished().getEntries()) {
      const std::string code(e.getCode().begin(), e.getCode().size());
      KeyRecord stmt;
      stmt.state = static_cast<KeyState>(static_cast<uint8_t>(e.getState()));
      stmt.trusted_seq = stmt.state == KeyState::active ? 0 : e.getTrustedSeq();
      stmt.since_hlc = ev.hlc();
      stmt.reason.assign(e.getReason().begin(), e.getReason().size());
      note(code, key_of(e.getKey()), stmt);
    }
  } else {
    return Status::invalid("not a key event");
  }
  return changed;
}

const KeyRecord* KeyRing::find(std::string_view code, const PublicKey& key) const {
  auto c = codes_.find(code);
  if (c == codes_.end()) return nullptr;
  auto it = c->second.find(key);
  return it == c->second.end() ? nullptr : &it->second;
}

bool KeyRing::has_entries(std::string_view code) const {
  return codes_.find(code) != codes_.end();
}

Judgement KeyRing::judge(std::string_view origin, uint64_t seq, const PublicKey& signer,
                         const std::optional<PublicKey>& first) const {
  const KeyRecord* rec = find(origin, signer);
  if (rec == nullptr) {
    if (first && *first == signer) return {};
    return Judgement{KeyVerdict::unknown_key, "signing key " + to_hex(signer).substr(0, 16) +
                                                  "… is not in the key directory of " +
                                                  std::string(origin)};
  }
  if (rec->state == KeyState::active || seq <= rec->trusted_seq) return {};
  return Judgement{KeyVerdict::quarantine,
                   std::string("signed with a ") + key_state_name(rec->state) + " key of " +
                       std::string(origin) + " (" + key_state_name_zh(rec->state) +
                       ", valid up to seq " + std::to_string(rec->trusted_seq) +
                       (rec->reason.empty() ? std::string() : ": " + rec->reason) + ")"};
}

void KeyRing::put(const KeyRow& row) {
  codes_[row.code][row.key] = row.rec;
}

std::vector<KeyRow> KeyRing::rows() const {
  std::vector<KeyRow> out;
  for (const auto& [code, keys] : codes_) {
    for (const auto& [key, rec] : keys)
      out.push_back(KeyRow{code, key, rec});
  }
  return out;
}

std::string KeyRing::db_key(std::string_view code, const PublicKey& key) {
  std::string k(code);
  k.push_back('\0');
  k.append(reinterpret_cast<const char*>(key.data()), key.size());
  return k;
}

std::string KeyRing::db_value(const KeyRecord& rec) {
  std::string v(1, static_cast<char>(rec.state));
  put_be64(v, rec.trusted_seq);
  put_be64(v, rec.since_hlc);
  v.append(rec.reason);
  return v;
}

std::optional<KeyRow> KeyRing::decode(std::string_view key, std::string_view value) {
  const auto nul = key.find('\0');
  if (nul == std::string_view::npos || key.size() != nul + 1 + 32 || value.size() < 17 ||
      static_cast<uint8_t>(value[0]) > static_cast<uint8_t>(KeyState::revoked))
    return std::nullopt;
  KeyRow row;
  row.code.assign(key.substr(0, nul));
  std::copy(key.begin() + static_cast<std::ptrdiff_t>(nul) + 1, key.end(),
            reinterpret_cast<char*>(row.key.data()));
  row.rec.state = static_cast<KeyState>(static_cast<uint8_t>(value[0]));
  row.rec.trusted_seq = get_be64(value.substr(1, 8));
  row.rec.since_hlc = get_be64(value.substr(9, 8));
  row.rec.reason.assign(value.substr(17));
  return row;
}

}  // namespace liandong::storage
