#include "node/export/pg_rows.h"

#include <capnp/dynamic.h>
#include <capnp/schema.h>
#include <kj/exception.h>

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include "node/capnp_json.h"
#include "node/json_text.h"
#include "node/report.h"
#include "node/report_levels.h"
#include "protocol/crypto.h"
#include "protocol/hlc.h"
#include "storage/deadlines.h"
#include "storage/divisions.h"
#include "storage/supervision.h"

namespace liandong::node::pg {

namespace {

using storage::CaseState;
using storage::StoredEvent;

const TableSpec kEvents{"events",
                        {"node_code", "id", "lsn", "origin", "seq", "kind", "case_id", "home",
                         "hlc", "at", "actor", "actor_role", "body"}};
const TableSpec kCases{
    "cases",
    {"node_code",    "case_id",     "home",           "village",           "township",
     "item_code",    "item_name",   "applicant_name", "applicant_id",      "applicant_phone",
     "status",       "status_zh",   "handler",        "conflict",          "departments",
     "has_decision", "approved",    "fee_due_fen",    "fee_collected_fen", "rating",
     "complaints",   "due_date",    "submitted_at",   "accepted_at",       "decided_at",
     "delivered_at", "closed_at",   "event_count",    "counted",           "submitted_day",
     "month",        "taken_level", "decided_level",  "promised_day",      "received",
     "accepted",     "completed",   "on_time",        "immediate",         "forwarded",
     "escalated",    "joint",       "refused",        "withdrawn",         "open",
     "rated",        "good_rating", "fees_fen",       "accept_days",       "decide_days",
     "deliver_days", "exported_at"}};
const TableSpec kSteps{
    "steps",
    {"node_code", "case_id", "n", "step", "step_zh", "holder", "holder_level", "started_at",
     "limit_days", "due_date", "done", "done_at", "working_days", "paused", "late", "flag"}};
const TableSpec kMaterials{"materials", {"node_code", "case_id", "n", "name", "state"}};
const TableSpec kAttachments{
    "attachments",
    {"node_code", "case_id", "event_id", "n", "name", "media_type", "material", "size", "sha256"}};
const TableSpec kRatings{"ratings",
                         {"node_code", "case_id", "event_id", "score", "word", "good", "channel",
                          "reasons", "comment", "rated_at", "rated_level"}};
const TableSpec kComplaints{
    "complaints",
    {"node_code", "case_id", "event_id", "against", "department", "person", "channel", "text",
     "issued_day", "due_date", "level", "answered", "answered_day", "upheld", "on_time"}};
const TableSpec kOrders{"supervision_orders",
                        {"node_code", "case_id", "event_id", "kind", "issued_by", "issued_day",
                         "level", "due_date", "text", "answered", "answered_day", "on_time"}};
const TableSpec kDivisions{"divisions", {"node_code", "code", "name", "level", "version"}};
const TableSpec kCatalogs{"catalogs", {"node_code", "version", "issuer", "title", "items", "lsn"}};
const TableSpec kCatalogItems{
    "catalog_items", {"node_code", "version", "code", "name", "handling", "level", "total_days"}};

using Field = std::optional<std::string>;

Field text(std::string_view s) {
  return std::string(s);
}
Field num(int64_t v) {
  return std::to_string(v);
}
Field unum(uint64_t v) {
  return std::to_string(v);
}
Field flag(bool b) {
  return std::string(b ? "t" : "f");
}
Field none() {
  return std::nullopt;
}
// A UTC time in ms as PostgreSQL reads a timestamptz.
Field ts(uint64_t ms) {
  if (ms == 0) return std::nullopt;
  const int64_t day = static_cast<int64_t>(ms / 86'400'000);
  const uint64_t rest = ms % 86'400'000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s %02u:%02u:%02u.%03u+00", format_date(day).c_str(),
                static_cast<unsigned>(rest / 3'600'000), static_cast<unsigned>(rest / 60'000 % 60),
                static_cast<unsigned>(rest / 1000 % 60), static_cast<unsigned>(rest % 1000));
  return std::string(buf);
}
Field hlc_ts(uint64_t hlc) {
  return hlc == 0 ? none() : ts(hlc_ms(hlc));
}
Field day(std::optional<int64_t> d) {
  return d ? text(format_date(*d)) : none();
}
// "YYYY-MM-DD" as given, NULL when empty or malformed.
Field date_text(std::string_view s) {
  return parse_date(s) ? text(s) : none();
}
// A PostgreSQL array literal of texts.
Field text_array(const std::vector<std::string>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}
std::string str(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

// PostgreSQL's jsonb refuses \u0000; anything else JSON may carry passes.
std::string jsonb_text(const Json& j) {
  std::string s = json_text(j);
  for (std::size_t p = s.find("\\u0000"); p != std::string::npos; p = s.find("\\u0000", p))
    s.replace(p, 6, "\\ufffd");
  return s;
}

// Attachments in a body's JSON: the hash in hex, the chunk list left out.
void tidy_attachments(Json& body) {
  auto it = body.find("attachments");
  if (it == body.end() || !it->is_array()) return;
  for (auto& a : *it) {
    if (!a.is_object()) continue;
    a.erase("chunks");
    auto h = a.find("sha256");
    if (h != a.end() && h->is_array()) {
      std::string bytes;
      for (const auto& b : *h)
        bytes += static_cast<char>(b.get<int>());
      *h = to_hex(bytes);
    }
  }
}

// The event's body as JSON: broadcast documents are left out (catalogs and
// divisions have tables of their own), ID numbers and phones masked.
Field body_json(const EventView& ev, const RowOptions& o) {
  if (is_broadcast(ev.kind()) || ev.kind() == EventKind::audit ||
      ev.kind() == EventKind::key_rotated)
    return none();
  try {
    const auto body = ev.event().getBody();
    capnp::DynamicStruct::Reader dyn = body;
    Json all = capnp_json(dyn);
    // The union's one member.
    Json j = all.is_object() && all.size() == 1 ? all.begin().value() : all;
    if (!j.is_object()) return jsonb_text(j);
    tidy_attachments(j);
    if (!o.id_numbers) {
      auto a = j.find("applicant");
      if (a != j.end() && a->is_object()) {
        if (auto n = a->find("idNumber"); n != a->end() && n->is_string())
          *n = mask_id_number(n->get<std::string>());
        if (auto p = a->find("phone"); p != a->end() && p->is_string())
          *p = mask_phone(p->get<std::string>());
      }
      if (auto p = j.find("phone"); p != j.end() && p->is_string())
        *p = mask_phone(p->get<std::string>());
    }
    return jsonb_text(j);
  } catch (const kj::Exception&) {
    return none();
  }
}

const char* role_key(proto::Role r) {
  switch (r) {
    case proto::Role::AGENT:
      return "agent";
    case proto::Role::CLERK:
      return "clerk";
    case proto::Role::REVIEWER:
      return "reviewer";
    case proto::Role::OFFICER:
      return "officer";
    case proto::Role::DIRECTOR:
      return "director";
    case proto::Role::SYSTEM:
      return "system";
  }
  return "";
}

const char* material_state_key(proto::MaterialState s) {
  switch (s) {
    case proto::MaterialState::PROVIDED:
      return "provided";
    case proto::MaterialState::MISSING:
      return "missing";
    case proto::MaterialState::LATER:
      return "later";
  }
  return "";
}

Row event_row(uint64_t lsn, const EventView& ev, const RowOptions& o) {
  const auto e = ev.event();
  const auto actor = e.getActor();
  return {text(o.node_code),
          text(format_id(ev.id())),
          unum(lsn),
          text(ev.id().origin),
          unum(ev.id().seq),
          text(kind_name(ev.kind())),
          ev.case_id().origin.empty() ? none() : text(format_id(ev.case_id())),
          text(str(e.getHome())),
          unum(ev.hlc()),
          hlc_ts(ev.hlc()),
          text(str(actor.getName())),
          text(role_key(actor.getRole())),
          body_json(ev, o)};
}

bool is_reference(EventKind k) {
  return k == EventKind::catalog_published || k == EventKind::calendar_published ||
         k == EventKind::divisions_published;
}

// Whether the fold used the event (not an unsettled conflict, not re-issued).
bool folded(const CaseState& st, const EventView& ev) {
  return std::find(st.conflicts.begin(), st.conflicts.end(), ev.id()) == st.conflicts.end() &&
         std::find(st.superseded.begin(), st.superseded.end(), ev.id()) == st.superseded.end();
}

}  // namespace

const TableSpec& events_table() {
  return kEvents;
}
const TableSpec& cases_table() {
  return kCases;
}
const TableSpec& steps_table() {
  return kSteps;
}
const TableSpec& materials_table() {
  return kMaterials;
}
const TableSpec& attachments_table() {
  return kAttachments;
}
const TableSpec& ratings_table() {
  return kRatings;
}
const TableSpec& complaints_table() {
  return kComplaints;
}
const TableSpec& orders_table() {
  return kOrders;
}
const TableSpec& divisions_table() {
  return kDivisions;
}
const TableSpec& catalogs_table() {
  return kCatalogs;
}
const TableSpec& catalog_items_table() {
  return kCatalogItems;
}
std::vector<const TableSpec*> case_tables() {
  return {&kCases, &kSteps, &kMaterials, &kAttachments, &kRatings, &kComplaints, &kOrders};
}

std::string mask_id_number(std::string_view id) {
  if (id.empty()) return {};
  if (id.size() == 18 || id.size() == 15)
    return std::string(id.substr(0, 6)) + std::string(id.size() - 10, '*') +
           std::string(id.substr(id.size() - 4));
  const std::size_t keep = id.size() / 4;
  return std::string(id.substr(0, keep)) + std::string(id.size() - 2 * keep, '*') +
         std::string(id.substr(id.size() - keep));
}

std::string mask_phone(std::string_view phone) {
  if (phone.size() < 7) return std::string(phone.size(), '*');
  return std::string(phone.substr(0, 3)) + std::string(phone.size() - 7, '*') +
         std::string(phone.substr(phone.size() - 4));
}

std::size_t CaseRows::count() const {
  std::size_t n = 0;
  for (const auto& t : tables)
    n += t.size();
  return n;
}

Result<LogBatch> read_log_batch(const storage::Store& store, uint64_t after,
                                std::size_t max_entries, const RowOptions& o) {
  LogBatch b;
  b.last_lsn = after;
  b.events.reserve(max_entries);
  std::unordered_set<std::string> seen;
  Status bad;
  auto s = store.scan_log(after, max_entries, [&](uint64_t lsn, std::string_view sealed) {
    auto ev = EventView::parse(sealed);
    if (!ev.ok()) {
      bad = Status::corruption("log entry " + std::to_string(lsn) +
                               " does not parse: " + ev.status().message());
      return false;
    }
    b.last_lsn = lsn;
    b.events.push_back(event_row(lsn, *ev, o));
    if (names_case(ev->kind()) && seen.insert(format_id(ev->case_id())).second)
      b.cases.push_back(ev->case_id());
    if (is_reference(ev->kind())) b.reference_changed = true;
    return true;
  });
  if (!s.is_ok()) return s;
  if (!bad.is_ok()) return bad;
  return b;
}

RowMaker::RowMaker(const storage::Store& store, RowOptions o)
    : store_(store), o_(std::move(o)), catalogs_(store) {
  auto cal = storage::held_calendar(store);
  if (!cal.ok()) {
    status_ = cal.status();
    return;
  }
  calendar_ = std::move(cal).value();
}

Status RowMaker::add_case(const Id& id, CaseRows& out) {
  auto got = store_.get_case(id);
  if (!got.ok()) return got.status();
  if (!got->has_value()) return Status();
  const CaseState& st = **got;
  auto events = store_.case_events(id);
  if (!events.ok()) return events.status();
  const std::string cid = format_id(id);
  const std::string& node = o_.node_code;

  // The report's own judgments of the case (node/report.h).
  auto facts = stored_case_facts(st, *events, catalogs_, calendar_, o_.now_ms);
  if (!facts.ok()) return facts.status();
  Row c = {text(node),
           text(cid),
           text(st.home),
           text(st.home.size() >= 12 ? st.home.substr(0, 12) : std::string()),
           text(st.home.size() > 9 ? st.home.substr(0, 9) : st.home),
           text(st.item_code),
           text(st.item_name),
           text(st.applicant_name),
           text(o_.id_numbers ? st.applicant_id : mask_id_number(st.applicant_id)),
           text(o_.id_numbers ? st.applicant_phone : mask_phone(st.applicant_phone)),
           text(storage::status_name(st.status)),
           text(storage::status_name_zh(st.status)),
           text(st.handler),
           flag(st.conflict),
           text_array(st.departments),
           flag(st.has_decision),
           flag(st.approved),
           num(st.fee_due),
           num(st.fee_collected),
           st.rating ? num(st.rating) : none(),
           unum(st.complaints),
           date_text(st.due_date),
           hlc_ts(st.submitted_hlc),
           hlc_ts(st.accepted_hlc),
           hlc_ts(st.decided_hlc),
           hlc_ts(st.delivered_hlc),
           hlc_ts(st.closed_hlc),
           unum(st.event_count)};
  if (facts->has_value()) {
    const CaseFacts& f = **facts;
    // as_of only moves 超期 and the late answers, which are not exported.
    const Figures g = case_figures(f, f.submitted_day, calendar_);
    auto step = [&](int k) {
      const auto i = static_cast<std::size_t>(k);
      return g.step_cases[i] ? num(g.step_days[i]) : none();
    };
    const auto pd = promised_day(f, calendar_);
    c.insert(c.end(), {flag(true),
                       day(f.submitted_day),
                       text(group_keys(f, GroupBy::month).front()),
                       text(f.taken),
                       f.decider.empty() ? none() : text(f.decider),
                       day(pd),
                       unum(g.received),
                       unum(g.accepted),
                       unum(g.completed),
                       unum(g.on_time),
                       unum(g.immediate),
                       unum(g.forwarded),
                       unum(g.escalated),
                       unum(g.joint),
                       unum(g.refused),
                       unum(g.withdrawn),
                       unum(g.open),
                       unum(g.rated),
                       unum(g.ratings[2] + g.ratings[3] + g.ratings[4]),
                       num(g.fees_fen),
                       step(kStepAccept),
                       step(kStepDecide),
                       step(kStepDeliver)});
  } else {
    c.push_back(flag(false));
    for (int i = 0; i < 22; ++i)
      c.push_back(none());
  }
  c.push_back(ts(o_.now_ms));
  out.tables[0].push_back(std::move(c));

  // Steps of 全程代理 (storage/deadlines.h), late as of now for open ones.
  auto limits = storage::case_step_limits(catalogs_, st, *events);
  if (!limits.ok()) return limits.status();
  const auto dl = storage::compute_deadlines(st, *events, *limits, calendar_, o_.now_ms);
  int n = 0;
  for (const auto& s : dl.steps) {
    std::optional<int64_t> worked;
    if (s.started_ms != 0 && s.done)
      worked = step_days(china_day(s.started_ms), china_day(s.done_ms), calendar_);
    out.tables[1].push_back(
        {text(node), text(cid), num(n++), text(storage::step_name(s.step)),
         text(storage::step_name_zh(s.step)), text(s.holder),
         text(level_key(level_of_code(s.holder))), ts(s.started_ms), unum(s.limit),
         s.due ? text(storage::format_date(*s.due)) : none(), flag(s.done),
         s.done ? ts(s.done_ms) : none(), worked ? num(*worked) : none(), flag(s.paused),
         flag(s.flag == storage::DeadlineFlag::overdue), text(storage::flag_name(s.flag))});
  }
  n = 0;
  for (const auto& m : st.materials)
    out.tables[2].push_back(
        {text(node), text(cid), num(n++), text(m.name), text(material_state_key(m.state))});

  const auto levels = case_levels(st, *events);
  for (const auto& e : *events) {
    const EventView& ev = e.view;
    if (ev.case_id() != id || !folded(st, ev)) continue;
    const std::string eid = format_id(ev.id());
    int k = 0;
    for (auto a : attachments_of(ev.event())) {
      const auto h = a.getSha256();
      out.tables[3].push_back(
          {text(node), text(cid), text(eid), num(k++), text(str(a.getName())),
           text(str(a.getMediaType())), text(str(a.getMaterial())), unum(a.getSize()),
           text(to_hex(std::string_view(reinterpret_cast<const char*>(h.begin()), h.size())))});
    }
    if (ev.kind() == EventKind::rated) {
      const auto r = ev.event().getBody().getRated();
      std::vector<std::string> reasons;
      for (auto x : r.getReasons())
        reasons.push_back(str(x));
      out.tables[4].push_back({text(node), text(cid), text(eid), num(r.getScore()),
                               text(rating_zh(r.getScore())), flag(good_rating(r.getScore())),
                               text(str(r.getChannel())), text_array(reasons),
                               text(str(r.getComment())), hlc_ts(ev.hlc()),
                               levels.rated_level.empty() ? none() : text(levels.rated_level)});
    }
  }
  // 督办, 效能投诉, 整改 (storage/supervision.h).
  if (st.supervision != 0) {
    for (const auto& s : storage::supervision_items(st, *events, calendar_)) {
      const Field answered_day = s.answered ? day(s.answered_day) : none();
      const Field on_time = s.answered ? flag(s.on_time()) : none();
      if (s.kind == proto::AnswerTo::COMPLAINT) {
        out.tables[5].push_back({text(node), text(cid), text(format_id(s.event)), text(s.against),
                                 text(s.department), text(s.person), text(s.channel), text(s.text),
                                 day(s.issued_day), date_text(s.due), text(s.level),
                                 flag(s.answered), answered_day,
                                 s.answered ? flag(s.upheld) : none(), on_time});
      } else {
        out.tables[6].push_back({text(node), text(cid), text(format_id(s.event)),
                                 text(storage::answer_to_name(s.kind)), text(s.issued_by),
                                 day(s.issued_day), text(s.level), date_text(s.due), text(s.text),
                                 flag(s.answered), answered_day, on_time});
      }
    }
  }
  return Status();
}

Result<std::vector<Row>> division_rows(const storage::Store& store, const RowOptions& o) {
  auto held = storage::held_divisions(store);
  if (!held.ok()) return held.status();
  std::vector<Row> rows;
  if (!held->has_value()) return rows;
  for (const auto& [code, name] : (*held)->names)
    rows.push_back({text(o.node_code), text(code), text(name), text(level_key(level_of_code(code))),
                    unum((*held)->version)});
  return rows;
}

Status catalog_rows(const storage::Store& store, const RowOptions& o, std::vector<Row>& catalogs,
                    std::vector<Row>& items) {
  auto held = store.notices(EventKind::catalog_published);
  if (!held.ok()) return held.status();
  std::set<uint64_t> versions;
  // Of one version published twice the last listed stands.
  for (auto it = held->rbegin(); it != held->rend(); ++it) {
    if (!versions.insert(it->number).second) continue;
    auto cat = storage::parse_catalog(it->document);
    if (!cat.ok()) continue;  // a newer format: not this node's to read
    catalogs.push_back({text(o.node_code), unum(it->number), text(it->origin), text(cat->title),
                        unum(cat->items.size()), unum(it->lsn)});
    for (const auto& item : cat->items)
      items.push_back({text(o.node_code), unum(it->number), text(item.code), text(item.name),
                       text(storage::handling_name(item.handling)),
                       text(storage::level_name(item.level)), unum(item.total_days())});
  }
  return Status();
}

}  // namespace liandong::node::pg
