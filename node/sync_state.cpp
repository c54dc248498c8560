#include "node/sync_state.h"

#include <algorithm>

namespace liandong::node {

std::string rx_key(std::string_view peer) {
  return "rx/" + std::string(peer);
}

std::string custody_key(std::string_view upstream) {
  return "up/" + std::string(upstream);
}

std::string map_prefix(std::string_view child) {
  return "map/" + std::string(child) + "/";
}

std::string map_key(std::string_view child, uint64_t lsn) {
  std::string k = map_prefix(child);
  put_be64(k, lsn);
  return k;
}

std::string receipt_key(const Id& handed) {
  return std::string(kReceiptPrefix) + format_id(handed);
}

std::string encode_custody(const CustodyMark& m) {
  std::string out;
  put_be64(out, m.acked);
  put_be64(out, m.top);
  return out;
}

CustodyMark decode_custody(std::string_view b) {
  CustodyMark m;
  if (b.size() >= 16) {
    m.acked = get_be64(b.substr(0, 8));
    m.top = get_be64(b.substr(8, 8));
  }
  return m;
}

Result<Custody> read_custody(const storage::Store& store) {
  Custody c;
  c.is_top = store.code().size() <= 6;
  if (store.code().size() > 2) c.parent_code = parent_code(store.code());
  auto marks = store.sync_scan("up/");
  if (!marks.ok()) return marks.status();
  for (const auto& [key, value] : *marks) {
    const auto m = decode_custody(value);
    const std::string_view code = std::string_view(key).substr(3);
    if (code == c.parent_code) c.parent = std::max(c.parent, m.acked);
    c.top = std::max(c.top, m.top);
  }
  // Custody learned from the parent's receipts on a USB stick
  // (node/bundle.h: mule/<parent>).
  auto mule = store.sync_scan("mule/");
  if (!mule.ok()) return mule.status();
  for (const auto& [key, value] : *mule) {
    const std::string_view code = std::string_view(key).substr(5);
    if (!valid_code(code)) continue;  // mule/have/..., mule/ask/...
    const auto m = decode_custody(value);
    if (code == c.parent_code) c.parent = std::max(c.parent, m.acked);
    c.top = std::max(c.top, m.top);
  }
  auto refused = refusals(store);
  if (!refused.ok()) return refused.status();
  for (auto& r : *refused) {
    const Id id = r.id;
    c.refused.emplace(id, std::move(r));
  }
  return c;
}

}  // namespace liandong::node
