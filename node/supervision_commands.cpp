// The `liandong supervision` command (see node/commands.h): 电子监察 at
// this node — yellow and red cards, 督办 orders, complaints, 整改 and the
// cases offered for 回访 (node/app/supervision_view.h).
#include <memory>

#include "node/app/supervision_view.h"
#include "node/commands.h"
#include "node/render.h"
#include "protocol/hlc.h"

namespace liandong::node {

namespace {

int cmd_supervision(const std::string& data, int answered_days, bool json) {
  auto node = open_node(data);
  app::SupervisionOptions o;
  o.now_ms = wall_clock_ms();
  o.answered_days = answered_days;
  auto v = app::build_supervision(*node.store, o);
  if (!v.ok()) fail(v.status());
  const auto places = places_here(*node.store);
  const storage::Divisions* names = places ? &*places : nullptr;
  print(json ? json_text(app::supervision_json(*v, names)) + "\n"
             : app::render_supervision(*v, names));
  return 0;
}

}  // namespace

void add_supervision_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto days = std::make_shared<int>(30);
  auto* c = app.add_subcommand(
      "supervision", "电子监察: yellow and red cards, 督办 orders, complaints, 整改, 回访");
  shared.add_data(c);
  c->add_option("--answered-days", *days, "show answered items of the last N days (default 30)")
      ->check(CLI::Range(0, 3650));
  c->add_flag("--json", shared.json, "print JSON");
  std::string& data = shared.data;
  bool& json = shared.json;
  out.push_back(
      {.app = c, .run = [days, &data, &json] { return cmd_supervision(data, *days, json); }});
}

}  // namespace liandong::node
