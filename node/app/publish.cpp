#include "node/app/publish.h"

#include <fmt/format.h>

#include "node/render.h"
#include "storage/calendar.h"
#include "storage/catalog.h"

namespace liandong::app {

namespace {

PublishResult published(const Context& ctx, const PublishRequest& r) {
  const std::string& what = r.what;
  const uint32_t number = r.number;
  const std::string& file = r.file_name;
  const std::string& doc = r.document;
  // The document must be what it claims, with the number it claims: the
  // same checks as `catalog publish` and `calendar publish`.
  if (what == "calendar") {
    auto cal = storage::parse_calendar(doc, file);
    if (!cal.ok()) fail(cal.status());
    if (static_cast<uint32_t>(cal->year) != number)
      fail(Status::invalid(
          fmt::format("{} is the calendar of {}, not --year {}", file, cal->year, number)));
  } else if (what == "catalog") {
    auto cat = storage::parse_catalog(doc, file);
    if (!cat.ok()) fail(cat.status());
    if (cat->version != number)
      fail(Status::invalid(
          fmt::format("{} says version {}, not --version {}", file, cat->version, number)));
  } else {
    fail(Status::invalid("publish: '" + what + "' is neither calendar nor catalog"));
  }
  const std::string code = ctx.store.code();
  if (auto level = check_level(r.actor, code); !level.ok()) throw level.error();
  if (code.size() != 6)
    refuse(Status::invalid(
        fmt::format("只有县级节点发布{}，本节点是{} {} (only the county publishes "
                    "the {})",
                    what == "calendar" ? "工作日历" : "事项目录", level_name_zh(code), code,
                    what == "calendar" ? "working-day calendar" : "catalog")));
  if (what == "catalog") {
    auto held = ctx.store.notices(EventKind::catalog_published);
    if (!held.ok()) fail(held.status());
    for (const auto& n : *held) {
      if (n.origin == code && n.number >= number)
        refuse(
            Status::invalid(fmt::format("catalog version {} is not higher than the one held "
                                        "here (version {}); raise the version",
                                        number, n.number)));
    }
  }
  storage::LocalDraft draft;
  draft.fill = [&](proto::Event::Builder ev) {
    fill_actor(ev.initActor(), r.actor, code);
    const capnp::Data::Reader bytes(reinterpret_cast<const capnp::byte*>(doc.data()), doc.size());
    if (what == "calendar") {
      auto c = ev.getBody().initCalendarPublished();
      c.setYear(static_cast<uint16_t>(number));
      c.setDocument(bytes);
    } else {
      auto c = ev.getBody().initCatalogPublished();
      c.setVersion(number);
      c.setDocument(bytes);
    }
  };
  auto stored = ctx.store.append_local(draft, ctx.signer);
  if (!stored.ok()) fail(stored.status());
  return PublishResult{stored->view.id(), stored->view.kind(), stored->lsn, code};
}

}  // namespace

AppResult<PublishResult> publish(const Context& ctx, const PublishRequest& req) {
  try {
    return published(ctx, req);
  } catch (AppError& e) {
    return std::move(e);
  }
}

}  // namespace liandong::app
