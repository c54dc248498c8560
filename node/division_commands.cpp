// The division table (行政区划表, storage/divisions.h):
//
//   liandong publish divisions --version N --file F --actor NAME   (county only)
//   liandong divisions show [--json]                 the table in force here
#include <fmt/format.h>

#include <memory>

#include "node/commands.h"
#include "node/input_files.h"
#include "node/json_text.h"
#include "node/render.h"
#include "node/text_escape.h"
#include "protocol/ids.h"
#include "storage/divisions.h"

namespace liandong::node {

namespace {

int cmd_divisions_publish(const std::string& data, uint32_t version, const std::string& file,
                          const ActorOptions& actor, bool json) {
  const std::string doc = read_file(file, kMaxNoticeFileBytes);
  auto table = storage::parse_divisions(doc, file);
  if (!table.ok()) fail(table.status());
  if (table->version != version)
    fail(Status::invalid(fmt::format("{} 的版本号是 {}，与 --version {} 不符 ({} says version {})",
                                     file, table->version, version, file, table->version)));
  auto node = open_node(data);
  const std::string code = node.store->code();
  check_actor_level(actor, code);
  if (code.size() != 6)
    refuse(Status::invalid(fmt::format(
        "只有县级节点发布行政区划表，本节点是{}（{}） (only the county publishes the division "
        "table)",
        level_name_zh(code), code)));
  for (const auto& [c, name] : table->names) {
    if (!within(c, code))
      fail(Status::invalid(fmt::format("{}：{}（{}）不在本县 {} 辖区内 ({} is outside {})", file,
                                       name, c, code, c, code)));
  }
  auto held = storage::held_divisions(*node.store);
  if (!held.ok()) fail(held.status());
  if (*held && (*held)->version >= version)
    refuse(Status::invalid(
        fmt::format("本节点已有行政区划表第 {} 版，请用更高的 --version 发布 (version {} is "
                    "already held here)",
                    (*held)->version, (*held)->version)));
  const auto stored = store_publication(
      node, actor, doc, [&](proto::Event::Body::Builder body, capnp::Data::Reader bytes) {
        auto r = body.initDivisionsPublished();
        r.setVersion(version);
        r.setDocument(bytes);
      });
  if (json) {
    Json j = Json::object();
    j["event"] = format_id(stored.view.id());
    j["lsn"] = stored.lsn;
    j["version"] = version;
    j["divisions"] = table->names.size();
    print(json_text(j) + "\n");
  } else {
    print(fmt::format("已发布行政区划表第 {} 版（{} 个区划）{}，下发至 {} 辖区全部节点\n", version,
                      table->names.size(), format_id(stored.view.id()), table->label(code)));
  }
  return 0;
}

int cmd_divisions_show(const std::string& data, bool json) {
  auto node = open_node(data);
  auto held = storage::held_divisions(*node.store);
  if (!held.ok()) fail(held.status());
  if (json) {
    Json j = Json::object();
    j["version"] = *held ? Json((*held)->version) : Json(nullptr);
    j["divisions"] = Json::array();
    if (*held) {
      for (const auto& [c, name] : (*held)->names)
        j["divisions"].push_back({{"code", c}, {"name", name}, {"level", level_name(c)}});
    }
    print(json_text(j) + "\n");
    return 0;
  }
  if (!*held) {
    print("本节点未收到行政区划表：地点按区划代码显示 (no division table held here)\n");
    return 0;
  }
  std::string text =
      fmt::format("行政区划表第 {} 版（{} 个区划）\n", (*held)->version, (*held)->names.size());
  text += pad("区划代码", 14) + "  " + pad("层级", 6) + "  名称\n";
  for (const auto& [c, name] : (*held)->names)
    text += pad(c, 14) + "  " + pad(level_name_zh(c), 6) + "  " + terminal_field(name) + "\n";
  print(text);
  return 0;
}

}  // namespace

void add_division_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  std::string& data = shared.data;
  bool& json = shared.json;
  ActorOptions& actor = shared.actor;

  struct PublishArgs {
    uint32_t version = 0;
    std::string file;
  };
  auto pa = std::make_shared<PublishArgs>();
  CLI::App* publish = nullptr;
  try {
    publish = app.get_subcommand("publish");
  } catch (const CLI::OptionNotFound&) {
    publish = app.add_subcommand("publish", "publish a notice to this node's whole subtree");
  }
  auto* c_publish =
      publish->add_subcommand("divisions", "the division table: names of codes (行政区划表)");
  shared.add_data(c_publish);
  shared.add_actor(c_publish);
  c_publish->add_option("--version", pa->version, "table version (as in the file)")->required();
  c_publish->add_option("--file", pa->file, "the division table (TOML)")->required();
  c_publish->add_flag("--json", json, "print JSON");
  shared.files.push_back(&pa->file);
  out.push_back({.app = c_publish, .run = [pa, &data, &actor, &json] {
                   return cmd_divisions_publish(data, pa->version, pa->file, actor, json);
                 }});

  auto* c_div = app.add_subcommand("divisions", "the division table held here (行政区划表)");
  c_div->require_subcommand(1);
  auto* c_show = c_div->add_subcommand("show", "codes and names of the table in force here");
  shared.add_data(c_show);
  c_show->add_flag("--json", json, "print JSON");
  out.push_back({.app = c_show, .run = [&data, &json] { return cmd_divisions_show(data, json); }});
}

}  // namespace liandong::node
