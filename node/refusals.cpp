#include "node/refusals.h"

#include <algorithm>

#include "storage/case_fold.h"

namespace liandong::node {

namespace {

constexpr std::string_view kRefusedPrefix = "refused/";

void put_short(std::string& out, std::string_view s) {
  s = s.substr(0, 255);
  out.push_back(static_cast<char>(s.size()));
  out.append(s);
}

bool get_short(std::string_view& in, std::string& out) {
  if (in.empty()) return false;
  const std::size_t n = static_cast<uint8_t>(in[0]);
  if (in.size() < 1 + n) return false;
  out.assign(in.substr(1, n));
  in.remove_prefix(1 + n);
  return true;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

}  // namespace

std::string encode_refusal(const Refusal& r) {
  std::string out;
  put_be64(out, r.at_ms);
  out.push_back(static_cast<char>(static_cast<uint16_t>(r.cause) & 0xff));
  put_short(out, r.by);
  put_short(out, r.id.origin);
  put_be64(out, r.id.seq);
  out.append(std::string_view(r.reason).substr(0, 4096));
  return out;
}

std::optional<Refusal> decode_refusal(std::string_view b) {
  if (b.size() < 9) return std::nullopt;
  Refusal r;
  r.at_ms = get_be64(b.substr(0, 8));
  const auto cause = static_cast<uint8_t>(b[8]);
  r.cause = cause <= static_cast<uint8_t>(proto::RefusalCause::INVALID)
                ? static_cast<proto::RefusalCause>(cause)
                : proto::RefusalCause::OTHER;
  b.remove_prefix(9);
  if (!get_short(b, r.by) || !get_short(b, r.id.origin) || b.size() < 8) return std::nullopt;
  r.id.seq = get_be64(b.substr(0, 8));
  r.reason.assign(b.substr(8));
  return r;
}

std::string refused_key(const Id& id) {
  return std::string(kRefusedPrefix) + id_key(id);
}

std::string relay_prefix(std::string_view child) {
  return "relay/" + std::string(child) + "/";
}

proto::RefusalCause refusal_cause(std::string_view reason, bool quarantined) {
  using C = proto::RefusalCause;
  if (quarantined) return C::QUARANTINED;
  if (contains(reason, "in the future")) return C::CLOCK_AHEAD;
  if (contains(reason, "outside 2020-2100")) return C::BAD_STAMP;
  if (contains(reason, "signature") || contains(reason, "key")) return C::KEY;
  if (contains(reason, "may not") || contains(reason, "outside") ||
      contains(reason, "jurisdiction") || contains(reason, "authority") ||
      contains(reason, "only the"))
    return C::AUTHORITY;
  if (!reason.empty()) return C::INVALID;
  return C::OTHER;
}

const char* cause_name(proto::RefusalCause c) {
  switch (c) {
    case proto::RefusalCause::CLOCK_AHEAD:
      return "clock_ahead";
    case proto::RefusalCause::BAD_STAMP:
      return "bad_stamp";
    case proto::RefusalCause::KEY:
      return "key";
    case proto::RefusalCause::AUTHORITY:
      return "authority";
    case proto::RefusalCause::QUARANTINED:
      return "quarantined";
    case proto::RefusalCause::INVALID:
      return "invalid";
    default:
      return "other";
  }
}

const char* cause_name_zh(proto::RefusalCause c) {
  switch (c) {
    case proto::RefusalCause::CLOCK_AHEAD:
      return "时间戳超前";
    case proto::RefusalCause::BAD_STAMP:
      return "时间戳错误";
    case proto::RefusalCause::KEY:
      return "签名密钥未获认可";
    case proto::RefusalCause::AUTHORITY:
      return "无权办理";
    case proto::RefusalCause::QUARANTINED:
      return "签名密钥已吊销或已轮换，已隔离待审";
    case proto::RefusalCause::INVALID:
      return "内容不合规";
    default:
      return "其他原因";
  }
}

const char* cause_name_en(proto::RefusalCause c) {
  switch (c) {
    case proto::RefusalCause::CLOCK_AHEAD:
      return "clock ahead";
    case proto::RefusalCause::BAD_STAMP:
      return "bad time stamp";
    case proto::RefusalCause::KEY:
      return "signing key not accepted";
    case proto::RefusalCause::AUTHORITY:
      return "no authority";
    case proto::RefusalCause::QUARANTINED:
      return "key retired or revoked, quarantined";
    case proto::RefusalCause::INVALID:
      return "invalid";
    default:
      return "other";
  }
}

std::string refusal_text(const Refusal& r) {
  return std::string("被") + level_name_zh(r.by) + "拒收：" + cause_name_zh(r.cause) +
         " (refused by " + r.by + ": " + cause_name_en(r.cause) + ")";
}

Status keep_refusals(storage::Store& store, std::span<const Refusal> list, const std::string& from,
                     const std::vector<std::string>& children) {
  for (Refusal r : list) {
    if (r.id.origin.empty() || r.id.seq == 0 || !valid_code(r.id.origin)) continue;
    if (r.by.empty() || !valid_code(r.by)) r.by = from;
    const std::string value = encode_refusal(r);
    if (auto s = store.sync_put(refused_key(r.id), value); !s) return s;
    if (r.id.origin == store.code()) continue;
    for (const auto& child : children) {
      if (within(r.id.origin, child)) {
        if (auto s = store.sync_put(relay_prefix(child) + id_key(r.id), value); !s) return s;
        break;
      }
    }
  }
  return Status::ok();
}

namespace {

Result<std::vector<Refusal>> scan_refusals(const storage::Store& store, const std::string& prefix) {
  auto rows = store.sync_scan(prefix);
  if (!rows.ok()) return rows.status();
  std::vector<Refusal> out;
  for (const auto& [key, value] : *rows) {
    if (auto r = decode_refusal(value)) out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace

Result<std::vector<Refusal>> relays_for(const storage::Store& store, const std::string& child) {
  return scan_refusals(store, relay_prefix(child));
}

Status forget_relays(storage::Store& store, const std::string& child, std::span<const Id> ids) {
  std::vector<std::string> keys;
  for (const auto& id : ids)
    keys.push_back(relay_prefix(child) + id_key(id));
  if (keys.empty()) return Status::ok();
  return store.sync_erase(keys);
}

Result<std::vector<Refusal>> refusals(const storage::Store& store) {
  return scan_refusals(store, std::string(kRefusedPrefix));
}

Result<std::vector<OwnRefusal>> own_refusals(const storage::Store& store) {
  auto all = refusals(store);
  if (!all.ok()) return all.status();
  std::vector<OwnRefusal> out;
  for (auto& r : *all) {
    if (r.id.origin != store.code()) continue;
    OwnRefusal o;
    o.refusal = std::move(r);
    auto lsn = store.find(o.refusal.id);
    if (!lsn.ok()) return lsn.status();
    if (!*lsn) continue;  // not held (a store restored from an older copy)
    auto bytes = store.read_log(**lsn);
    if (!bytes.ok()) return bytes.status();
    if (!*bytes) continue;
    auto view = EventView::parse(**bytes);
    if (!view.ok()) return view.status();
    if (!names_case(view->kind())) {
      o.open = false;  // an audit record or a broadcast: kept, not re-issued
      out.push_back(std::move(o));
      continue;
    }
    o.case_id = view->case_id();
    auto st = store.get_case(o.case_id);
    if (!st.ok()) return st.status();
    if (*st &&
        std::binary_search((*st)->superseded.begin(), (*st)->superseded.end(), o.refusal.id)) {
      o.open = false;
      auto events = store.case_events(o.case_id);
      if (!events.ok()) return events.status();
      for (const auto& e : *events) {
        if (storage::superseded_by(e.view) == o.refusal.id) o.reissued_as = e.view.id();
      }
    }
    out.push_back(std::move(o));
  }
  return out;
}

void write_refusal(proto::RejectedEvent::Builder b, const Refusal& r) {
  if (!r.id.origin.empty()) write_id(b.initId(), r.id);
  b.setReason(r.reason);
  b.setBy(r.by);
  b.setCause(r.cause);
  b.setAtMs(r.at_ms);
}

Refusal read_refusal(proto::RejectedEvent::Reader e) {
  Refusal r;
  if (e.hasId()) r.id = read_id(e.getId());
  r.reason.assign(e.getReason().begin(), e.getReason().size());
  r.by.assign(e.getBy().begin(), e.getBy().size());
  r.cause = e.getCause();
  r.at_ms = e.getAtMs();
  return r;
}

}  // namespace liandong::node
