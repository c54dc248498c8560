#include "node/app/cases.h"

#include "node/refusals.h"
#include "storage/catalog.h"

namespace liandong::app {

AppResult<CaseView> show_case(const Context& ctx, const std::string& id_text) {
  auto parsed = parse_id(id_text);
  if (!parsed)
    return AppError{Status::invalid(
        "'" + id_text + "' 不是办件编号，应形如 360723101007-000042 (not a case number)")};
  const Id id = *parsed;
  auto st = ctx.store.get_case(id);
  if (!st.ok()) return AppError{st.status()};
  if (!*st)
    return AppError{
        Status::not_found("本机没有办件 " + id_text + " (no case " + id_text + " here)")};
  auto events = ctx.store.case_events(id);
  if (!events.ok()) return AppError{events.status()};
  auto custody = node::read_custody(ctx.store);
  if (!custody.ok()) return AppError{custody.status()};
  // A 咨询 (consult) item shows its question: the catalog version the case
  // was submitted with says, else the newest held; none held, not a consult.
  bool consult = false;
  {
    uint32_t version = 0;
    for (const auto& e : *events) {
      if (e.view.kind() == EventKind::submitted)
        version = e.view.event().getBody().getSubmitted().getCatalogVersion();
    }
    auto held = storage::held_catalog(ctx.store, version);
    if (!held.ok() || !*held) held = storage::held_catalog(ctx.store);
    if (held.ok() && *held) {
      const storage::CatalogItem* item = (*held)->find((*st)->item_code);
      consult = item != nullptr && item->handling == storage::Handling::consult;
    }
  }
  return CaseView{std::move(**st), std::move(events).value(), std::move(custody).value(), consult};
}

AppResult<storage::CaseFilter> case_filter(const ListRequest& a) {
  const std::string& status = a.status;
  storage::CaseFilter f;
  if (status == "conflict" || status == "冲突待处理") {
    f.conflict_only = true;
  } else if (!status.empty()) {
    f.status = storage::status_from_name(status);
    if (!f.status) return AppError{Status::invalid("unknown status '" + status + "'")};
  }
  if (a.conflict) f.conflict_only = true;
  return f;
}

AppResult<CaseList> list_cases(const Context& ctx, const ListRequest& req) {
  auto f = case_filter(req);
  if (!f.ok()) return f.error();
  auto cases = ctx.store.list_cases(*f);
  if (!cases.ok()) return AppError{cases.status()};
  auto own = node::own_refusals(ctx.store);
  if (!own.ok()) return AppError{own.status()};
  CaseList out;
  out.cases = std::move(cases).value();
  for (const auto& o : *own) {
    if (!o.open || o.case_id.empty()) continue;
    std::string& line = out.refused[o.case_id];
    if (!line.empty()) line += "；";
    line += format_id(o.refusal.id) + " " + node::refusal_text(o.refusal);
  }
  return out;
}

const char* waiting_here(const storage::CaseState& st, std::string_view node) {
  using S = storage::CaseStatus;
  const bool holds = st.handler == node;
  const bool home = st.home == node;
  if (st.conflict && (holds || home)) return "冲突待处理";
  switch (st.status) {
    case S::submitted:
      return holds ? "待受理" : nullptr;
    case S::supplement_requested:
      return holds ? "待补正" : nullptr;
    case S::accepted:
      if (!holds) return nullptr;
      return node.size() == 12 ? "待转报乡镇" : "待办理";
    case S::escalated:
      return holds ? "待办理" : nullptr;
    case S::assigned:
      return holds ? "待决定" : nullptr;
    case S::decided:
      return home ? "待送达" : nullptr;
    case S::delivered:
      return home ? "待评价销号" : nullptr;
    default:
      return nullptr;
  }
}

const std::vector<storage::CaseStatus>& waiting_statuses() {
  using S = storage::CaseStatus;
  static const std::vector<S> kStatuses = {
      S::submitted, S::supplement_requested, S::accepted, S::escalated, S::assigned, S::decided,
      S::delivered};
  return kStatuses;
}

}  // namespace liandong::app
