#include "storage/store_keys.h"

namespace liandong::storage {

namespace {

// The catalog version or calendar year a broadcast carries; an audit or
// key event's hlc (so the audit trail reads in time order).
uint64_t notice_number(const EventView& ev) {
  auto body = ev.event().getBody();
  if (body.isCatalogPublished()) return body.getCatalogPublished().getVersion();
  if (body.isCalendarPublished()) return body.getCalendarPublished().getYear();
  if (body.isRosterPublished()) return body.getRosterPublished().getVersion();
  if (body.isDivisionsPublished()) return body.getDivisionsPublished().getVersion();
  if (ev.kind() == EventKind::audit || ev.kind() == EventKind::key_rotated ||
      ev.kind() == EventKind::keys_published)
    return ev.hlc();
  return 0;
}

bool open_case(CaseStatus s) {
  return s != CaseStatus::decided && s != CaseStatus::delivered && s != CaseStatus::closed &&
         s != CaseStatus::withdrawn && s != CaseStatus::incomplete;
}

// The search indexes in IndexKeys order from 3.
constexpr std::array<CaseIndex, 4> kSearchIndexes = {CaseIndex::name, CaseIndex::id_number,
                                                     CaseIndex::phone, CaseIndex::item};

// The value of `st` a search index files it under.
std::string_view search_value(const CaseState& st, CaseIndex index) {
  switch (index) {
    case CaseIndex::name:
      return st.applicant_name;
    case CaseIndex::id_number:
      return st.applicant_id;
    case CaseIndex::phone:
      return st.applicant_phone;
    case CaseIndex::item:
      return st.item_code;
    default:
      return {};
  }
}

}  // namespace

std::string notice_prefix(EventKind kind) {
  return std::string(1, static_cast<char>(static_cast<uint8_t>(kind)));
}

std::string notice_key(EventKind kind, uint64_t number, uint64_t seq, std::string_view origin) {
  std::string k = notice_prefix(kind);
  put_be64(k, number);
  put_be64(k, seq);
  k.append(origin);
  return k;
}

std::string notice_key(const EventView& ev) {
  return notice_key(ev.kind(), notice_number(ev), ev.id().seq, ev.id().origin);
}

std::string_view notice_document(const EventView& ev) {
  auto body = ev.event().getBody();
  capnp::Data::Reader doc;
  if (body.isCatalogPublished()) {
    doc = body.getCatalogPublished().getDocument();
  } else if (body.isCalendarPublished()) {
    doc = body.getCalendarPublished().getDocument();
  } else if (body.isRosterPublished()) {
    doc = body.getRosterPublished().getDocument();
  } else if (body.isDivisionsPublished()) {
    doc = body.getDivisionsPublished().getDocument();
  }
  return {reinterpret_cast<const char*>(doc.begin()), doc.size()};
}

std::string quarantine_key(const EventView& ev) {
  std::string k(IdKey(ev.id()).view());
  k.append(ev.signature().substr(0, 8));
  return k;
}

std::string encode_quarantined(uint64_t arrival_ms, std::string_view reason,
                               std::string_view sealed) {
  std::string v;
  put_be64(v, arrival_ms);
  const std::string_view why = reason.substr(0, 0xffff);
  v.push_back(static_cast<char>(why.size() >> 8));
  v.push_back(static_cast<char>(why.size() & 0xff));
  v.append(why);
  v.append(sealed);
  return v;
}

std::optional<QuarantinedView> decode_quarantined(std::string_view v) {
  if (v.size() < 10) return std::nullopt;
  const std::size_t n = (static_cast<uint8_t>(v[8]) << 8) | static_cast<uint8_t>(v[9]);
  if (v.size() < 10 + n) return std::nullopt;
  return QuarantinedView{get_be64(v), v.substr(10, n), v.substr(10 + n)};
}

void index_keys(const CaseState& st, const SearchSecret& secret, IndexKeys& out) {
  const IdKey ck(st.case_id);
  std::string& status = out[0];
  status.assign(
      1, static_cast<char>(st.conflict ? kConflictStatusKey : static_cast<uint8_t>(st.status)));
  status.append(ck.view());
  std::string& home = out[1];
  home.clear();
  if (!st.home.empty()) {
    const std::string_view code = std::string_view(st.home).substr(0, kMaxCodeLen);
    home.append(code);
    home.append(kMaxCodeLen - code.size(), '\0');
    home.append(ck.view());
  }
  std::string& due = out[2];
  due.clear();
  if (!st.due_date.empty() && open_case(st.status)) {
    due.append(st.due_date);
    due.append(ck.view());
  }
  for (std::size_t i = 0; i < kSearchIndexes.size(); ++i) {
    std::string& k = out[3 + i];
    k.clear();
    if (st.status == CaseStatus::incomplete) continue;  // nothing to search by yet
    if (auto part = search_part(kSearchIndexes[i], search_value(st, kSearchIndexes[i]), secret)) {
      k = std::move(*part);
      k.append(ck.view());
    }
  }
}

std::optional<uint64_t> u64_value(std::string_view v) {
  if (v.size() != 8) return std::nullopt;
  return get_be64(v);
}

std::optional<PublicKey> key_value(std::string_view v) {
  PublicKey pk;
  if (v.size() != pk.size()) return std::nullopt;
  std::memcpy(pk.data(), v.data(), pk.size());
  return pk;
}

}  // namespace liandong::storage
