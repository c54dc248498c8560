// GET /api/supervision: 电子监察 at this node (node/app/supervision_view.h),
// for the supervision page of a township or the county.
#include <httplib.h>

#include <string>

#include "node/app/supervision_view.h"
#include "node/desk/api.h"
#include "node/desk/api_parts.h"
#include "node/render.h"

namespace liandong::desk {

using node::Json;
using namespace api_parts;

void Api::supervision(const Req& req, Res& res) {
  if (!session(req, res)) return;
  if (o_.code.size() == 12)
    return fail(res, 403, "电子监察在乡镇便民服务中心和县行政服务中心查看；本点的督办见工作台");
  app::SupervisionOptions o;
  o.now_ms = o_.now();
  const std::string days = req.get_param_value("answered_days");
  if (!days.empty()) {
    if (days.size() > 4 || days.find_first_not_of("0123456789") != std::string::npos)
      return fail(res, 400, "answered_days 应为 0 到 3650 的天数", "answered_days");
    o.answered_days = std::stoll(days);
    if (o.answered_days > 3650)
      return fail(res, 400, "answered_days 应为 0 到 3650 的天数", "answered_days");
  }
  auto v = app::build_supervision(store_, o);
  if (!v.ok()) return fail(res, 500, node::error_text_zh(v.status()));
  const auto places = node::places_here(store_);
  Json j = app::supervision_json(*v, places ? &*places : nullptr);
  j["node"] = o_.code;
  j["node_name"] = node::place_zh(places ? &*places : nullptr, o_.code);
  reply(res, 200, j);
}

}  // namespace liandong::desk
