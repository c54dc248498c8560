// The desk API's reference and status routes: the catalog of items, the
// sync state, and QR codes for printouts.

#include "node/desk/api.h"

#include <optional>
#include <string>

#include "node/app/figures.h"
#include "node/desk/api_parts.h"
#include "node/desk/parts/pinyin.h"
#include "node/desk/parts/qr_svg.h"
#include "node/render.h"
#include "storage/catalog.h"

namespace liandong::desk {

using node::Json;
using node::json_text;
using namespace api_parts;

namespace {

Json item_json(const storage::CatalogItem& it) {
  Json materials = Json::array();
  for (const auto& m : it.materials)
    materials.push_back(Json{{"name", m.name},
                             {"form", m.original ? "original" : "copy"},
                             {"form_zh", m.original ? "原件" : "复印件"},
                             {"copies", m.count},
                             {"later_ok", m.later_ok},
                             {"note", m.note}});
  Json procedure = Json::array();
  for (const auto& p : it.procedure)
    procedure.push_back(p);
  Json departments = Json::array();
  for (const auto& d : it.departments)
    departments.push_back(d);
  return Json{{"code", it.code},
              {"name", it.name},
              {"initials", pinyin_initials(it.name)},
              {"category", it.category},
              {"level", storage::level_name(it.level)},
              {"level_zh", storage::level_name_zh(it.level)},
              {"handling", storage::handling_name(it.handling)},
              {"handling_zh", storage::handling_name_zh(it.handling)},
              {"departments", std::move(departments)},
              {"limit_days", it.total_days()},
              {"limits",
               {{"village_forward", it.limits.village_forward},
                {"township_handle", it.limits.township_handle},
                {"county_decide", it.limits.county_decide},
                {"township_reply", it.limits.township_reply},
                {"village_notify", it.limits.village_notify}}},
              {"fee_fen", it.fee_fen},
              {"fee_yuan", node::format_yuan(it.fee_fen)},
              {"fee_note", it.fee_note},
              {"legal_basis", it.legal_basis},
              {"conditions", it.conditions},
              {"procedure", std::move(procedure)},
              {"staff", it.staff},
              {"complaint_phone", it.complaint_phone},
              {"note", it.note},
              {"materials", std::move(materials)}};
}

}  // namespace

void Api::catalog(const Req& req, Res& res) {
  if (!session(req, res)) return;
  auto held = storage::held_catalog(store_);
  if (!held.ok()) return fail(res, 500, node::error_text_zh(held.status()));
  if (!*held) return fail(res, 404, "本机尚未收到事项目录");
  if (req.matches.size() > 1) {
    const storage::CatalogItem* it = (*held)->find(std::string(req.matches[1]));
    if (it == nullptr) return fail(res, 404, "事项目录中没有这个事项", "item");
    return reply(res, 200, item_json(*it));
  }
  Json items = Json::array();
  for (const auto& it : (*held)->items)
    items.push_back(item_json(it));
  reply(
      res, 200,
      Json{{"version", (*held)->version}, {"title", (*held)->title}, {"items", std::move(items)}});
}

void Api::sync(const Req& req, Res& res) {
  if (!session(req, res)) return;
  // The links from the loop; the store's figures read here, off the loop.
  node::StatusReport live;
  if (!on_loop([&](LoopServices& l) { live = l.status(); }, res)) return;
  app::Context ctx{store_, read_key(), o_.now};
  std::optional<app::AppResult<node::StatusReport>> report = app::status(ctx, {}, &live);
  if (!report || !report->ok()) return fail(res, 500, "无法读取同步状态");
  Json j = Json::parse(node::render_status_json(**report));
  const auto places = node::places_here(store_);
  j["sync"] = sync_words(**report, places ? &*places : nullptr, o_.now(),
                         pending_up(store_, o_.code, (*report)->last_lsn));
  reply(res, 200, j);
}

void Api::qr(const Req& req, Res& res) {
  if (!session(req, res)) return;
  auto svg = qr_svg(req.get_param_value("text"));
  if (!svg.ok()) return fail(res, 400, "二维码内容不正确（1 到 200 个字节）", "text");
  res.set_header("Cache-Control", "no-store");
  res.set_content(*svg, "image/svg+xml");
}

}  // namespace liandong::desk
