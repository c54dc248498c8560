// The staff roster (人员名册, storage/roster.h):
//
//   liandong roster publish --version N --file F --actor NAME   (county only)
//   liandong roster show [--json]                               the roster in force here
#include <fmt/format.h>

#include <memory>

#include "node/commands.h"
#include "node/input_files.h"
#include "node/json_text.h"
#include "node/render.h"
#include "protocol/ids.h"
#include "storage/roster.h"

namespace liandong::node {

namespace {

int cmd_roster_publish(const std::string& data, uint32_t version, const std::string& file,
                       const ActorOptions& actor, bool json) {
  if (actor.name.empty())
    fail(Status::invalid("publishing the roster names the person who does it: give --actor NAME"));
  const std::string doc = read_file(file, kMaxNoticeFileBytes);
  auto roster = storage::parse_roster(doc, file);
  if (!roster.ok()) fail(roster.status());
  if (roster->version != version)
    fail(Status::invalid(file + " says version " + std::to_string(roster->version) +
                         ", not --version " + std::to_string(version)));
  auto node = open_node(data);
  const std::string code = node.store->code();
  check_actor_level(actor, code);
  if (code.size() > 6)
    refuse(
        Status::invalid("只有县级节点发布人员名册 (only the county publishes the staff roster; " +
                        code + " is not a county)"));
  for (const auto& e : roster->staff) {
    if (!within(e.node, code))
      fail(Status::invalid(file + ": " + e.name + " works at " + e.node + ", outside " + code));
  }
  auto held = storage::held_roster(*node.store);
  if (!held.ok()) fail(held.status());
  if (*held && (*held)->version >= version)
    fail(Status::invalid("roster version " + std::to_string((*held)->version) +
                         " is already held here: publish a higher --version"));
  const auto stored = store_publication(
      node, actor, doc, [&](proto::Event::Body::Builder body, capnp::Data::Reader bytes) {
        auto r = body.initRosterPublished();
        r.setVersion(version);
        r.setDocument(bytes);
      });
  if (json) {
    print(json_text(Json{{"event", format_id(stored.view.id())},
                         {"version", static_cast<uint64_t>(version)},
                         {"staff", static_cast<uint64_t>(roster->staff.size())}}) +
          "\n");
  } else {
    print(fmt::format("已发布人员名册 v{}（{} 人）{}，下发至 {} 辖区全部节点\n", version,
                      roster->staff.size(), format_id(stored.view.id()), code));
  }
  return 0;
}

int cmd_roster_show(const std::string& data, bool json) {
  auto node = open_node(data);
  auto held = storage::held_roster(*node.store);
  if (!held.ok()) fail(held.status());
  if (json) {
    Json j;
    j["version"] = *held ? Json(static_cast<uint64_t>((*held)->version)) : Json(nullptr);
    j["staff"] = Json::array();
    if (*held) {
      for (const auto& e : (*held)->staff)
        j["staff"].push_back(Json{{"name", e.name},
                                  {"staff_id", e.staff_id},
                                  {"role", role_name(e.role)},
                                  {"node", e.node}});
    }
    print(json_text(j) + "\n");
    return 0;
  }
  if (!*held) {
    print("本节点未收到人员名册：只按层级核对角色 (no staff roster held here)\n");
    return 0;
  }
  std::string text =
      fmt::format("人员名册 v{}（{} 人）\n", (*held)->version, (*held)->staff.size());
  text += pad("姓名", 12) + "  " + pad("工号", 10) + "  " + pad("角色", 10) + "  节点\n";
  for (const auto& e : (*held)->staff)
    text += pad(e.name, 12) + "  " + pad(e.staff_id.empty() ? "-" : e.staff_id, 10) + "  " +
            pad(role_name_zh(e.role), 10) + "  " + e.node + "\n";
  print(text);
  return 0;
}

}  // namespace

void add_roster_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  std::string& data = shared.data;
  bool& json = shared.json;
  ActorOptions& actor = shared.actor;
  auto* c_roster = app.add_subcommand("roster", "the staff roster the county publishes (人员名册)");
  c_roster->require_subcommand(1);

  struct PublishArgs {
    uint32_t version = 0;
    std::string file;
  };
  auto pa = std::make_shared<PublishArgs>();
  auto* c_publish =
      c_roster->add_subcommand("publish", "publish a roster to the county (county only)");
  shared.add_data(c_publish);
  shared.add_actor(c_publish);
  c_publish->add_option("--version", pa->version, "roster version (as in the file)")->required();
  c_publish->add_option("--file", pa->file, "the roster (TOML)")->required();
  c_publish->add_flag("--json", json, "print JSON");
  shared.files.push_back(&pa->file);
  out.push_back({.app = c_publish, .run = [pa, &data, &actor, &json] {
                   return cmd_roster_publish(data, pa->version, pa->file, actor, json);
                 }});

  auto* c_show = c_roster->add_subcommand("show", "the roster in force here");
  shared.add_data(c_show);
  c_show->add_flag("--json", json, "print JSON");
  out.push_back({.app = c_show, .run = [&data, &json] { return cmd_roster_show(data, json); }});
}

}  // namespace liandong::node
