#include "node/app/figures.h"

#include "node/input_checks.h"
#include "node/refusals.h"
#include "node/report_levels.h"
#include "storage/calendar.h"

namespace liandong::app {

namespace {

// A date given by a person; `what` names it in Chinese and as the option.
int64_t parse_day_or_fail(const std::string& text, const char* what_zh, const char* option) {
  auto d = node::parse_date(text);
  if (!d)
    fail(Status::invalid(std::string(what_zh) + "不是正确的日期，应如 2026-11-01 (" + option +
                         ": not a date like 2026-11-01)"));
  return *d;
}

// The period and home of a request, checked.
node::ReportOptions period_of(const ReportRequest& a) {
  node::ReportOptions o;
  if (!a.from.empty()) o.from = parse_day_or_fail(a.from, "起始日期", "--from");
  if (!a.to.empty()) o.to = parse_day_or_fail(a.to, "截止日期", "--to");
  if (o.from && o.to && *o.from > *o.to)
    fail(Status::invalid("起始日期晚于截止日期 (--from is after --to)"));
  if (!a.home.empty() && !node::plausible_code(a.home))
    fail(Status::invalid("区划代码不正确 (--home: not a division code)"));
  return o;
}

node::Report reported(const Context& ctx, const ReportRequest& a) {
  node::ReportOptions o = period_of(a);
  auto by = node::group_by_from_name(a.by);
  if (!by)
    fail(Status::invalid(
        "分组方式不正确，应为村、乡镇、事项、部门、层级、月份或人员 (--by: village, township, "
        "item, department, level, month or person)"));
  o.by = *by;
  o.as_of = a.as_of.empty() ? node::china_day(ctx.now())
                            : parse_day_or_fail(a.as_of, "统计截至日期", "--as-of");
  auto r = node::build_report_from_store(ctx.store, o, a.home);
  if (!r.ok()) fail(r.status());
  return std::move(r).value();
}

Ledger ledgered(const Context& ctx, const ReportRequest& a) {
  const node::ReportOptions o = period_of(a);
  const auto places = node::places_here(ctx.store);
  auto lines =
      node::ledger_from_store(ctx.store, o.from, o.to, a.home, places ? &*places : nullptr);
  if (!lines.ok()) fail(lines.status());
  return Ledger{ctx.store.code(), o.from, o.to, std::move(lines).value()};
}

node::StatusReport status_of(const Context& ctx, const StatusRequest& req,
                             const node::StatusReport* live) {
  const std::string& as_of = req.as_of;
  uint64_t now = ctx.now();
  if (!as_of.empty()) {
    auto d = storage::parse_date(as_of);
    if (!d) fail(Status::invalid("--as-of '" + as_of + "' is not a date YYYY-MM-DD"));
    now = static_cast<uint64_t>(storage::days_from_date(*d) + 1) * 86'400'000 - 8 * 3'600'000 - 1;
  }
  node::StatusReport r;
  if (live != nullptr) {
    r = *live;
  } else {
    // No daemon: what the store alone can tell.
    auto st = ctx.store.stats();
    if (!st.ok()) fail(st.status());
    r.code = ctx.store.code();
    r.store_id = ctx.store.store_id();
    r.events = st->events;
    r.cases = st->cases;
    r.last_lsn = st->last_lsn;
    r.next_seq = st->next_seq;
    r.store_full_since_ms = ctx.store.full_since_ms();
  }
  // Deadlines of the cases held, the same inside the daemon (its store) and
  // without one.
  {
    auto counts = node::count_deadlines(ctx.store, now);
    if (!counts.ok()) fail(counts.status());
    r.overdue = counts->overdue;
    r.warning = counts->warning;
    auto held = ctx.store.quarantined();
    if (!held.ok()) fail(held.status());
    r.quarantined = held->size();
    auto own = node::own_refusals(ctx.store);
    if (!own.ok()) fail(own.status());
    for (const auto& o : *own) {
      r.refused.push_back({format_id(o.refusal.id), o.case_id.empty() ? "" : format_id(o.case_id),
                           node::refusal_text(o.refusal), o.refusal.reason, o.refusal.by,
                           node::cause_name(o.refusal.cause), o.open,
                           o.reissued_as ? format_id(*o.reissued_as) : ""});
    }
  }
  return r;
}

}  // namespace

AppResult<node::Report> report(const Context& ctx, const ReportRequest& req) {
  try {
    return reported(ctx, req);
  } catch (AppError& e) {
    return std::move(e);
  }
}

bool may_see_person_figures(proto::Role role, const std::string& node_code) {
  return (role == proto::Role::OFFICER || role == proto::Role::DIRECTOR) &&
         node::level_of_code(node_code) != storage::Level::village;
}

AppResult<Ledger> ledger(const Context& ctx, const ReportRequest& req) {
  try {
    return ledgered(ctx, req);
  } catch (AppError& e) {
    return std::move(e);
  }
}

AppResult<node::StatusReport> status(const Context& ctx, const StatusRequest& req,
                                     const node::StatusReport* live) {
  try {
    return status_of(ctx, req, live);
  } catch (AppError& e) {
    return std::move(e);
  }
}

}  // namespace liandong::app
