#include "storage/own_key.h"

namespace liandong::storage {

namespace {

std::string short_key(const PublicKey& k) {
  return to_hex(k).substr(0, 16) + "…";
}

}  // namespace

Status check_own_key(const Store& store, const PublicKey& key) {
  const std::string& code = store.code();
  const auto held = store.key(code);
  if (!held.ok()) return held.status();
  const std::optional<PublicKey>& first = *held;
  const KeyRing ring = store.keyring();
  if (!first && !ring.has_entries(code)) return Status::ok();
  if (const KeyRecord* rec = ring.find(code, key)) {
    if (rec->state != KeyState::retired) return Status::ok();
    return Status::invalid(
        "签名密钥与本机存储不符：keys/sign.key（" + short_key(key) + "）是本机 " + code +
        " 轮换后已停用的旧密钥；请恢复本机在最近一次密钥轮换之后备份的 keys/ 目录 (the signing "
        "key is one this node retired by `keys rotate`: restore the keys/ backup made after the "
        "rotation)");
  }
  if (first && *first == key) return Status::ok();
  // The key this node should hold: its active directory entry, else its
  // first key.
  std::optional<PublicKey> expected = first;
  for (const auto& row : ring.rows()) {
    if (row.code == code && row.rec.state == KeyState::active) expected = row.key;
  }
  return Status::invalid(
      "签名密钥与本机存储不符：keys/sign.key（" + short_key(key) + "）不是本机 " + code +
      " 在存储中登记的密钥" + (expected ? "（应为 " + short_key(*expected) + "）" : std::string()) +
      "；请恢复本机 keys/ 目录的备份 (the signing key in keys/ is not this node's: another node's "
      "keys/ restored here? restore this node's own keys/ directory)");
}

}  // namespace liandong::storage
