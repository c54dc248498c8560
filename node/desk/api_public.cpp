// The desk API's public routes (办事结果公开, docs/DESK.md "The public
// page"): read-only, no login, no personal data. The JSON is built here
// field by field from app::PublicCase (an allow-list) and from the 八公开
// fields of a catalog item, every string through app::public_text; no case
// or item JSON is passed on.

#include <sodium.h>

#include <string>

#include "node/app/public_results.h"
#include "node/desk/api.h"
#include "node/desk/api_parts.h"
#include "node/desk/public_board.h"
#include "node/render.h"
#include "storage/catalog.h"

namespace liandong::desk {

using node::Json;
using namespace api_parts;

PublicBoard::PublicBoard() {
  std::string key(32, '\0');
  randombytes_buf(key.data(), key.size());
  key_ = std::move(key);
}

Result<std::shared_ptr<const PublicBoard::Rows>> PublicBoard::rows(const storage::Store& store,
                                                                   uint64_t now_ms) {
  std::lock_guard lock(mu_);
  auto stats = store.stats();
  if (!stats.ok()) return stats.status();
  const bool fresh = rows_ && (stats->last_lsn == lsn_ || now_ms < rows_->made_ms + kRefreshMs);
  if (fresh) return rows_;
  const auto places = node::places_here(store);
  auto catalog = storage::held_catalog(store);
  if (!catalog.ok()) return catalog.status();
  const storage::Catalog* held = *catalog ? &**catalog : nullptr;
  auto list = app::list_public_cases(store, places ? &*places : nullptr, held, key_);
  if (!list.ok()) return list.status();
  auto made = std::make_shared<Rows>();
  made->cases = std::move(*list);
  made->node_name = node::place_name(places ? &*places : nullptr, store.code());
  made->catalog = std::move(*catalog);
  made->made_ms = now_ms;
  rows_ = std::move(made);
  lsn_ = stats->last_lsn;
  return rows_;
}

namespace {

using app::public_text;

// The node as the public page names it.
Json node_json(const std::string& code, const PublicBoard::Rows& rows) {
  return Json{{"node", code},
              {"node_name", public_text(rows.node_name)},
              {"level", code.size() == 12  ? "village"
                        : code.size() == 9 ? "township"
                                           : "county"}};
}

Json case_json(const app::PublicCase& c) {
  Json on_time = nullptr;
  if (c.on_time) on_time = *c.on_time;
  return Json{{"applicant", public_text(c.applicant)},
              {"item_code", public_text(c.item_code)},
              {"item_name", public_text(c.item_name)},
              {"home_label", public_text(c.home_label)},
              {"home_name", public_text(c.home_name)},
              {"accepted_date", public_text(c.accepted_date)},
              {"decided_date", public_text(c.decided_date)},
              {"outcome", app::outcome_name(c.outcome)},
              {"outcome_zh", public_text(app::outcome_name_zh(c.outcome))},
              {"on_time", on_time}};
}

// An item of the list on the public page: enough to find it.
Json item_row_json(const storage::CatalogItem& it) {
  return Json{{"code", public_text(it.code)},
              {"name", public_text(it.name)},
              {"category", public_text(it.category)},
              {"level_zh", public_text(storage::level_name_zh(it.level))},
              {"handling_zh", public_text(storage::handling_name_zh(it.handling))},
              {"limit_days", it.total_days()},
              {"fee_fen", it.fee_fen},
              {"fee_note", public_text(it.fee_note)}};
}

// An item's 服务告知单 (八公开): these fields only.
Json item_sheet_json(const storage::CatalogItem& it) {
  Json materials = Json::array();
  for (const auto& m : it.materials)
    materials.push_back(Json{{"name", public_text(m.name)},
                             {"form", m.original ? "original" : "copy"},
                             {"copies", m.count},
                             {"later_ok", m.later_ok},
                             {"note", public_text(m.note)}});
  Json procedure = Json::array();
  for (const auto& p : it.procedure)
    procedure.push_back(public_text(p));
  Json j = item_row_json(it);
  j["limits"] = Json{{"village_forward", it.limits.village_forward},
                     {"township_handle", it.limits.township_handle},
                     {"county_decide", it.limits.county_decide},
                     {"township_reply", it.limits.township_reply},
                     {"village_notify", it.limits.village_notify}};
  j["legal_basis"] = public_text(it.legal_basis);
  j["conditions"] = public_text(it.conditions);
  j["procedure"] = std::move(procedure);
  j["materials"] = std::move(materials);
  j["staff"] = public_text(it.staff);
  j["complaint_phone"] = public_text(it.complaint_phone);
  return j;
}

// `limit`: 1..kMaxPublicPage digits, else nullopt.
std::optional<std::size_t> page_size(const std::string& text) {
  if (text.empty()) return app::kDefaultPublicPage;
  if (text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const std::size_t n = std::stoul(text);
  if (n < 1 || n > app::kMaxPublicPage) return std::nullopt;
  return n;
}

}  // namespace

void Api::public_results(const Req& req, Res& res) {
  for (const auto& [name, value] : req.params) {
    if (name != "limit" && name != "before")
      return fail(res, 400, "不支持的查询参数：" + public_text(name.substr(0, 32)));
    if (req.get_param_value_count(name) > 1)
      return fail(res, 400, "查询参数重复：" + public_text(name), name);
  }
  const auto limit = page_size(req.get_param_value("limit"));
  if (!limit)
    return fail(res, 400,
                "每页件数应为 1 到 " + std::to_string(app::kMaxPublicPage) + " 之间的整数",
                "limit");
  std::optional<app::PublicCursor> before;
  if (req.has_param("before")) {
    before = app::parse_public_cursor(req.get_param_value("before"));
    if (!before) return fail(res, 400, "翻页位置不正确，请回到第一页重新查看", "before");
  }
  const uint64_t now = o_.now();
  auto rows = public_.rows(store_, now);
  if (!rows.ok()) return fail(res, 500, "暂时无法读取办件，请稍后再试");
  const auto& all = (*rows)->cases;
  const app::PublicPage page = app::public_page(all, before, *limit);

  Json j = node_json(o_.code, **rows);
  j["as_of"] = node::format_time((*rows)->made_ms).substr(0, 16);
  j["today"] = node::format_time(now).substr(0, 10);
  // Figures over the whole list, for the line above it.
  uint64_t approved = 0, refused = 0, answered = 0, not_accepted = 0, judged = 0, on_time = 0;
  for (const auto& c : all) {
    approved += c.outcome == app::PublicOutcome::approved ? 1 : 0;
    refused += c.outcome == app::PublicOutcome::refused ? 1 : 0;
    answered += c.outcome == app::PublicOutcome::answered ? 1 : 0;
    not_accepted += c.outcome == app::PublicOutcome::not_accepted ? 1 : 0;
    judged += c.on_time ? 1 : 0;
    on_time += c.on_time && *c.on_time ? 1 : 0;
  }
  j["total"] = all.size();
  j["figures"] =
      Json{{"approved", approved},         {"refused", refused},       {"answered", answered},
           {"not_accepted", not_accepted}, {"judged_on_time", judged}, {"on_time", on_time}};
  Json cases = Json::array();
  for (const auto& c : page.rows)
    cases.push_back(case_json(c));
  j["cases"] = std::move(cases);
  j["next"] = page.more && !page.rows.empty() ? Json(app::public_cursor(page.rows.back())) : Json();
  // The catalog's items with the first page.
  if (!before) {
    Json items = Json::array();
    if ((*rows)->catalog) {
      for (const auto& it : (*rows)->catalog->items)
        items.push_back(item_row_json(it));
    }
    j["items"] = std::move(items);
  }
  reply(res, 200, j);
}

void Api::public_item(const Req& req, Res& res) {
  if (!req.params.empty()) return fail(res, 400, "此地址不接受查询参数");
  auto rows = public_.rows(store_, o_.now());
  if (!rows.ok()) return fail(res, 500, "暂时无法读取事项目录，请稍后再试");
  const auto& held = (*rows)->catalog;
  if (!held) return fail(res, 404, "本机尚未收到事项目录");
  const storage::CatalogItem* it = held->find(std::string(req.matches[1]));
  if (it == nullptr) return fail(res, 404, "事项目录中没有这个事项", "item");
  Json j = node_json(o_.code, **rows);
  j["item"] = item_sheet_json(*it);
  reply(res, 200, j);
}

}  // namespace liandong::desk
