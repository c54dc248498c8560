// The key directory (密钥目录) beyond each origin's first key: keys rolled
// by `keys rotate`, keys the county added, retired and revoked keys. Pure
// logic over events; the store keeps it in its `keyring` database.
//
// It is a function of the set of key events, whatever order they arrive in:
// per (code, key) the state only rises (active < retired < revoked) and the
// trusted sequence of a retired or revoked key is the least any statement
// gave. So every node holding the same key events judges alike.
//
// Judging an event signed with key K of origin O at sequence s:
//   - K is O's first key (the `keys` table) or an entry of O: known;
//     anything else is unknown and the event is refused;
//   - active: stored;
//   - retired or revoked: stored if s <= the trusted sequence (the county
//     held it when it revoked; the rotation came after it), else held in
//     quarantine for review. The cut is by sequence number, not by the
//     event's clock: a thief with the key can stamp any time, but cannot
//     make events the county already held.
//
// Thread contract: a value type; not synchronized.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/status.h"

namespace liandong::storage {

enum class KeyState : uint8_t { active = 0, retired = 1, revoked = 2 };
const char* key_state_name(KeyState s);     // "active"
const char* key_state_name_zh(KeyState s);  // "有效"

struct KeyRecord {
  KeyState state = KeyState::active;
  uint64_t trusted_seq = 0;  // retired, revoked: the last sequence number still valid
  uint64_t since_hlc = 0;    // hlc of the first statement about this key
  std::string reason;
  bool operator==(const KeyRecord&) const = default;
};

struct KeyRow {
  std::string code;
  PublicKey key{};
  KeyRecord rec;
};

enum class KeyVerdict : uint8_t { ok, unknown_key, quarantine };

struct Judgement {
  KeyVerdict verdict = KeyVerdict::ok;
  std::string reason;  // for unknown_key and quarantine
};

class KeyRing {
 public:
  // Applies a key event (key_rotated, keys_published) that passed
  // validate_event and whose signature checked. Returns the rows it changed
  // (to be written back), or a refusal: a rotation not signed by the key it
  // retires, or whose proof does not check against the new key.
  Result<std::vector<KeyRow>> apply(const EventView& ev);

  // The entry for (code, key), if any.
  const KeyRecord* find(std::string_view code, const PublicKey& key) const;
  bool has_entries(std::string_view code) const;

  // Judges an event of `origin` at `seq` signed with `signer`; `first` is
  // the origin's first key (from the `keys` table), if known.
  Judgement judge(std::string_view origin, uint64_t seq, const PublicKey& signer,
                  const std::optional<PublicKey>& first) const;

  // Loads one stored row; used when the store opens.
  void put(const KeyRow& row);
  std::vector<KeyRow> rows() const;
  bool operator==(const KeyRing&) const = default;

  // The byte layout of a `keyring` entry (docs/FORMAT.md).
  static std::string db_key(std::string_view code, const PublicKey& key);
  static std::string db_value(const KeyRecord& rec);
  static std::optional<KeyRow> decode(std::string_view key, std::string_view value);

 private:
  // Merges one statement into (code, key); returns whether it changed.
  bool merge(const std::string& code, const PublicKey& key, const KeyRecord& stmt);
  std::map<std::string, std::map<PublicKey, KeyRecord>, std::less<>> codes_;
};

// The signer an event names (its envelope), or nullopt for events sealed
// before key rotation existed: then the origin's first key signed it.
std::optional<PublicKey> named_signer(const EventView& ev);

}  // namespace liandong::storage
