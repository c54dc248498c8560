// The `liandong catalog` commands (see node/commands.h): the county
// publishes the service catalog (事项目录) to its whole subtree; every node
// lists it and shows an item's eight public items (八公开).
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "node/commands.h"
#include "node/input_files.h"
#include "node/json_text.h"
#include "storage/catalog.h"

namespace liandong::node {

namespace {

using storage::Catalog;
using storage::CatalogItem;

std::string yuan(int64_t fen) {
  return fmt::format("{}.{:02}", fen / 100, fen % 100);
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string fee_text(const CatalogItem& item) {
  std::string s = item.fee_fen == 0 ? "免费" : yuan(item.fee_fen) + " 元";
  if (!item.fee_note.empty()) s += "（" + item.fee_note + "）";
  return s;
}

std::string limits_text(const CatalogItem& item) {
  const auto& l = item.limits;
  std::string steps;
  auto step = [&](const char* name, uint32_t days) {
    if (days == 0) return;
    if (!steps.empty()) steps += "，";
    steps += fmt::format("{} {}", name, days);
  };
  step("村代理点转交", l.village_forward);
  step("乡镇办理", l.township_handle);
  step("县审批", l.county_decide);
  step("结果回传", l.township_reply);
  step("村告知申请人", l.village_notify);
  return fmt::format("{} 个工作日（{}）", item.total_days(), steps);
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "—" : s;
}

// The held catalog, or a not_found failure (exit 1) telling how to get one.
Catalog must_hold(const storage::Store& store) {
  auto cat = storage::held_catalog(store);
  if (!cat.ok()) fail(cat.status());
  if (!*cat)
    fail(
        Status::not_found("no service catalog (事项目录) held here yet: the county publishes it "
                          "with `liandong catalog publish`"));
  return std::move(**cat);
}

Json limits_json(const storage::StepLimits& l) {
  return Json{{"village_forward", l.village_forward},
              {"township_handle", l.township_handle},
              {"county_decide", l.county_decide},
              {"township_reply", l.township_reply},
              {"village_notify", l.village_notify}};
}

Json item_json(const CatalogItem& item, bool full) {
  Json j = Json::object();
  j["code"] = item.code;
  j["name"] = item.name;
  j["category"] = item.category;
  j["level"] = storage::level_name(item.level);
  j["handling"] = storage::handling_name(item.handling);
  j["departments"] = Json(item.departments);
  j["time_limit_days"] = item.total_days();
  j["fee_fen"] = item.fee_fen;
  if (full) {
    j["legal_basis"] = item.legal_basis;
    j["conditions"] = item.conditions;
    j["procedure"] = Json(item.procedure);
    Json materials = Json::array();
    for (const auto& m : item.materials) {
      materials.push_back(Json{{"name", m.name},
                               {"form", m.original ? "original" : "copy"},
                               {"count", m.count},
                               {"later_ok", m.later_ok},
                               {"note", m.note}});
    }
    j["materials"] = std::move(materials);
    j["limits"] = limits_json(item.limits);
    j["fee_note"] = item.fee_note;
    j["staff"] = item.staff;
    j["complaint_phone"] = item.complaint_phone;
    j["note"] = item.note;
  }
  return j;
}

// ---- catalog publish --------------------------------------------------------

int cmd_publish(const CliShared& shared, const std::string& file) {
  auto node = open_node(shared.data);
  const std::string code = node.store->code();
  check_actor_level(shared.actor, code);
  if (code.size() != 6)
    refuse(
        Status::invalid("only a county (6-digit code) publishes the service catalog; this node "
                        "is " +
                        code));
  const std::string doc = read_file(file, kMaxNoticeFileBytes);
  auto parsed = storage::parse_catalog(doc, file);
  if (!parsed.ok()) fail(parsed.status());
  auto held = node.store->notices(EventKind::catalog_published);
  if (!held.ok()) fail(held.status());
  uint64_t newest = 0;
  for (const auto& n : *held) {
    if (n.origin == code) newest = std::max(newest, n.number);
  }
  if (parsed->version <= newest)
    refuse(
        Status::invalid(fmt::format("{}: version {} is not higher than the catalog held here "
                                    "(version {}); raise `version`",
                                    file, parsed->version, newest)));
  const auto stored = store_publication(
      node, shared.actor, doc, [&](proto::Event::Body::Builder body, capnp::Data::Reader bytes) {
        auto c = body.initCatalogPublished();
        c.setVersion(parsed->version);
        c.setDocument(bytes);
      });
  if (shared.json) {
    print(json_text(Json{{"event", format_id(stored.view.id())},
                         {"lsn", stored.lsn},
                         {"version", parsed->version},
                         {"items", static_cast<uint64_t>(parsed->items.size())}}) +
          "\n");
  } else {
    print(fmt::format("已发布 事项目录 第{}版（{} 项） {}，下发至 {} 辖区全部节点\n",
                      parsed->version, parsed->items.size(), format_id(stored.view.id()), code));
  }
  return 0;
}

// ---- catalog list / show ----------------------------------------------------

int cmd_list(const CliShared& shared) {
  auto node = open_node(shared.data);
  const Catalog cat = must_hold(*node.store);
  if (shared.json) {
    Json items = Json::array();
    for (const auto& item : cat.items)
      items.push_back(item_json(item, false));
    print(json_text(
              Json{{"version", cat.version}, {"title", cat.title}, {"items", std::move(items)}}) +
          "\n");
    return 0;
  }
  std::string out =
      fmt::format("{}  第{}版，共 {} 项\n", cat.title.empty() ? "事项目录" : cat.title, cat.version,
                  cat.items.size());
  out += "编码      办件类型  决定层级  时限(工作日)  收费      名称（承办部门）\n";
  for (const auto& item : cat.items) {
    out += fmt::format("{:<9} {}    {:<4}  {:>4}          {:<9} {}（{}）\n", item.code,
                       storage::handling_name_zh(item.handling), storage::level_name_zh(item.level),
                       item.total_days(), item.fee_fen == 0 ? "免费" : yuan(item.fee_fen),
                       item.name, joined(item.departments, "、"));
  }
  print(out);
  return 0;
}

int cmd_show(const CliShared& shared, const std::string& code) {
  auto node = open_node(shared.data);
  const Catalog cat = must_hold(*node.store);
  const CatalogItem* item = cat.find(code);
  if (item == nullptr)
    fail(Status::not_found(
        fmt::format("item '{}' is not in the service catalog (version {})", code, cat.version)));
  if (shared.json) {
    print(json_text(Json{{"version", cat.version}, {"item", item_json(*item, true)}}) + "\n");
    return 0;
  }
  std::string out =
      fmt::format("事项 {} {}（事项目录 第{}版）\n", item->code, item->name, cat.version);
  out += fmt::format("类别：{}    办件类型：{}    决定层级：{}    承办部门：{}\n", item->category,
                     storage::handling_name_zh(item->handling), storage::level_name_zh(item->level),
                     joined(item->departments, "、"));
  out += "办事依据：" + item->legal_basis + "\n";
  out += "办事条件：" + or_dash(item->conditions) + "\n";
  out += "办事程序：";
  if (item->procedure.empty()) out += "—";
  for (std::size_t i = 0; i < item->procedure.size(); ++i)
    out += fmt::format("{}{}. {}", i == 0 ? "" : " → ", i + 1, item->procedure[i]);
  out += "\n申报材料：";
  if (item->materials.empty()) out += "无";
  out += "\n";
  for (std::size_t i = 0; i < item->materials.size(); ++i) {
    const auto& m = item->materials[i];
    out += fmt::format("  {}. {}  {} {} 份{}{}\n", i + 1, m.name, m.original ? "原件" : "复印件",
                       m.count, m.later_ok ? "  （容缺，可后补）" : "",
                       m.note.empty() ? "" : "  " + m.note);
  }
  out += "承诺时限：" + limits_text(*item) + "\n";
  out += "收费标准：" + fee_text(*item) + "\n";
  out += "经办人员：" + or_dash(item->staff) + "\n";
  out += "监督电话：" + or_dash(item->complaint_phone) + "\n";
  if (!item->note.empty()) out += "备注：" + item->note + "\n";
  print(out);
  return 0;
}

}  // namespace

void add_catalog_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto* c_catalog = app.add_subcommand("catalog", "the service catalog (事项目录)");
  c_catalog->require_subcommand(1);

  // Owned by the closures below, which outlive this call.
  auto file = std::make_shared<std::string>();
  auto item = std::make_shared<std::string>();

  auto* c_publish = c_catalog->add_subcommand(
      "publish", "county only: check a catalog file and publish it to the whole county");
  shared.files.push_back(file.get());
  c_publish->add_option("file", *file, "the catalog (TOML), see config/catalog-example.toml")
      ->required();
  shared.add_data(c_publish);
  shared.add_actor(c_publish);
  c_publish->add_flag("--json", shared.json, "print JSON");
  out.push_back(CommandSpec{c_publish, [&shared, file] { return cmd_publish(shared, *file); }});

  auto* c_list = c_catalog->add_subcommand("list", "the items of the catalog held here");
  shared.add_data(c_list);
  c_list->add_flag("--json", shared.json, "print JSON");
  out.push_back(CommandSpec{c_list, [&shared] { return cmd_list(shared); }});

  auto* c_show = c_catalog->add_subcommand("show", "one item with its eight public items (八公开)");
  shared.add_data(c_show);
  c_show->add_option("code", *item, "item code, e.g. LY-001")->required();
  c_show->add_flag("--json", shared.json, "print JSON");
  out.push_back(CommandSpec{c_show, [&shared, item] { return cmd_show(shared, *item); }});
}

}  // namespace liandong::node
