// The desk API's work lists: the 工作台 (cases waiting here, today's
// counts), the changes since a moment, and case search.

#include "node/desk/api.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "node/app/cases.h"
#include "node/app/supervision_view.h"
#include "node/desk/api_parts.h"
#include "node/render.h"
#include "protocol/ids.h"
#include "storage/calendar.h"
#include "storage/case_index.h"
#include "storage/case_query.h"

namespace liandong::desk {

using node::Json;
using node::json_text;
using namespace api_parts;

namespace {

// Today's counts of this node's own actions, from the newest events (at
// most 5,000 looked at).
Json today_counts(const storage::Store& store, const std::string& code, uint64_t last_lsn,
                  uint64_t now) {
  const storage::Date today = storage::china_date(now);
  uint64_t submitted = 0, accepted = 0, decided = 0, delivered = 0;
  for (uint64_t lsn = last_lsn, seen = 0; lsn > 0 && seen < 5000; --lsn, ++seen) {
    auto bytes = store.read_log(lsn);
    if (!bytes.ok() || !*bytes) continue;
    auto v = EventView::parse(**bytes);
    if (!v.ok()) continue;
    if (storage::china_date(hlc_ms(v->hlc())) < today) {
      // Events arrive roughly in time order: a run of older ones ends it.
      if (seen > 200) break;
      continue;
    }
    if (v->id().origin != code) continue;
    switch (v->kind()) {
      case EventKind::submitted:
        ++submitted;
        break;
      case EventKind::accepted:
        ++accepted;
        break;
      case EventKind::decided:
      case EventKind::replied:
        ++decided;
        break;
      case EventKind::delivered:
        ++delivered;
        break;
      default:
        break;
    }
  }
  return Json{{"submitted", submitted},
              {"accepted", accepted},
              {"decided", decided},
              {"delivered", delivered}};
}

}  // namespace

void Api::desk(const Req& req, Res& res) {
  if (!session(req, res)) return;
  const uint64_t now = o_.now();
  auto stats = store_.stats();
  if (!stats.ok()) return fail(res, 500, node::error_text_zh(stats.status()));
  auto cal = storage::held_calendar(store_);
  const storage::Calendar calendar = cal.ok() ? *cal : storage::Calendar();
  const storage::Date today = storage::china_date(now);
  struct Row {
    storage::CaseState st;
    const char* waiting;
  };
  std::vector<Row> rows;
  for (auto status : app::waiting_statuses()) {
    storage::CaseFilter f;
    f.status = status;
    // The result waits at the case's home: only cases homed under here.
    if (status == storage::CaseStatus::decided || status == storage::CaseStatus::delivered)
      f.home_prefix = o_.code;
    auto cases = store_.list_cases(f);
    if (!cases.ok()) return fail(res, 500, node::error_text_zh(cases.status()));
    for (auto& st : *cases) {
      if (const char* w = app::waiting_here(st, o_.code)) rows.push_back(Row{std::move(st), w});
    }
  }
  // Flag and order the states first; JSON only for the rows shown.
  struct Ranked {
    int rank;  // 0 overdue, 1 warning, 2 ok
    std::string due;
    uint64_t submitted;
    std::optional<int64_t> days_left;
    const Row* row;
  };
  uint64_t warning = 0, overdue = 0;
  std::vector<Ranked> ranked;
  ranked.reserve(rows.size());
  for (const auto& r : rows) {
    Ranked k{2, r.st.due_date.empty() ? "9999-99-99" : r.st.due_date, r.st.submitted_hlc,
             std::nullopt, &r};
    if (const auto d = storage::parse_date(r.st.due_date)) {
      k.days_left = calendar.working_days_between(today, *d);
      k.rank = *k.days_left < 0 ? 0 : *k.days_left <= 1 ? 1 : 2;
    }
    overdue += k.rank == 0 ? 1 : 0;
    warning += k.rank == 1 ? 1 : 0;
    ranked.push_back(std::move(k));
  }
  const std::size_t shown = std::min<std::size_t>(ranked.size(), 200);
  auto order = [](const Ranked& a, const Ranked& b) {
    return std::tie(a.rank, a.due, a.submitted) < std::tie(b.rank, b.due, b.submitted);
  };
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(shown),
                    ranked.end(), order);
  Json work = Json::array();
  for (std::size_t i = 0; i < shown; ++i) {
    const Ranked& k = ranked[i];
    Json row = case_row(k.row->st);
    row["waiting_for"] = k.row->waiting;
    static const char* const kFlag[] = {"overdue", "warning", "ok"};
    static const char* const kFlagZh[] = {"红牌超期", "黄牌预警", "正常"};
    row["flag"] = kFlag[k.rank];
    row["flag_zh"] = kFlagZh[k.rank];
    row["days_left"] = k.days_left ? Json(*k.days_left) : Json();
    work.push_back(std::move(row));
  }

  node::StatusReport live;
  if (!on_loop([&](LoopServices& s) { live = s.status(); }, res)) return;
  const auto places = node::places_here(store_);
  // 督办, complaints and 整改 this level answers: the top of the 工作台.
  auto due_here = app::answers_due_here(store_, now);
  if (!due_here.ok()) return fail(res, 500, node::error_text_zh(due_here.status()));
  Json answers = Json::array();
  for (const auto& e : *due_here)
    answers.push_back(app::entry_json(e, places ? &*places : nullptr));
  reply(res, 200,
        Json{{"answers", std::move(answers)},
             {"today", today_counts(store_, o_.code, stats->last_lsn, now)},
             {"counts", {{"waiting", rows.size()}, {"warning", warning}, {"overdue", overdue}}},
             {"work", std::move(work)},
             {"sync", sync_words(live, places ? &*places : nullptr, now,
                                 pending_up(store_, o_.code, stats->last_lsn))},
             {"lsn", stats->last_lsn}});
}

void Api::changes(const Req& req, Res& res) {
  if (!session(req, res)) return;
  auto stats = store_.stats();
  if (!stats.ok()) return fail(res, 500, node::error_text_zh(stats.status()));
  uint64_t since = 0;
  const std::string s = req.get_param_value("since");
  if (!s.empty() && s.size() < 20 && s.find_first_not_of("0123456789") == std::string::npos)
    since = std::stoull(s);
  reply(res, 200, Json{{"lsn", stats->last_lsn}, {"changed", stats->last_lsn != since}});
}

void Api::search(const Req& req, Res& res) {
  if (!session(req, res)) return;
  storage::CaseQuery q;
  q.name = req.get_param_value("name");
  q.id_number = storage::normalize_id_number(req.get_param_value("id_number"));
  q.phone = storage::normalize_phone(req.get_param_value("phone"));
  q.case_number = req.get_param_value("case_number");
  q.item_code = req.get_param_value("item");
  q.limit = 20;
  const std::string status = req.get_param_value("status");
  if (!status.empty()) {
    auto f = app::case_filter(app::ListRequest{status, false});
    if (!f.ok()) return fail(res, 400, "没有这个办件状态: " + status, "status");
    q.status = f->status;
    q.conflict_only = f->conflict_only;
  }
  const std::string limit = req.get_param_value("limit");
  if (!limit.empty()) {
    if (limit.size() > 3 || limit.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(limit) < 1 || std::stoul(limit) > 200)
      return fail(res, 400, "每页件数应为 1 到 200", "limit");
    q.limit = std::stoul(limit);
  }
  const std::string after = req.get_param_value("after");
  if (!after.empty()) {
    auto id = parse_id(after);
    if (!id) return fail(res, 400, "翻页位置不正确", "after");
    q.after = *id;
  }
  // Registered between two days (inclusive), China time.
  const std::string from = req.get_param_value("from"), to = req.get_param_value("to");
  std::optional<storage::Date> from_d, to_d;
  if (!from.empty() && !(from_d = storage::parse_date(from)))
    return fail(res, 400, "起始日期应为 YYYY-MM-DD", "from");
  if (!to.empty() && !(to_d = storage::parse_date(to)))
    return fail(res, 400, "截止日期应为 YYYY-MM-DD", "to");
  Json cases = Json::array();
  std::optional<Id> next;
  // With a date range a page is filled from at most 20 pages of the index.
  for (int round = 0; round < 20; ++round) {
    auto page = storage::find_cases(store_, q);
    if (!page.ok()) return fail(res, 400, node::error_text_zh(page.status()));
    for (const auto& st : page->cases) {
      const auto day = storage::china_date(hlc_ms(st.submitted_hlc));
      if ((from_d && day < *from_d) || (to_d && day > *to_d)) continue;
      cases.push_back(case_row(st));
    }
    next = page->next;
    if (!next || (!from_d && !to_d) || cases.size() >= q.limit) break;
    q.after = next;
  }
  reply(res, 200,
        Json{{"cases", std::move(cases)}, {"next", next ? Json(format_id(*next)) : Json()}});
}

}  // namespace liandong::desk
