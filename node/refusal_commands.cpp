// `liandong case reissue EVENT-ID --actor NAME`: re-issues (重新报送) an
// event of this node that a level above refused, once its cause is fixed
// (the clock set right, the key restored). The new event supersedes the
// refused one in the fold (storage/case_fold.h); the refused one stays in
// the log, marked. A write: it goes through the daemon when one runs.
#include <memory>

#include "node/commands.h"
#include "node/json_text.h"
#include "node/refusals.h"
#include "node/render.h"

namespace liandong::node {

namespace {

int cmd_reissue(const std::string& data, const std::string& id_text, const ActorOptions& actor,
                bool json) {
  auto node = open_node(data);
  const auto id = parse_id(id_text);
  if (!id)
    fail(Status::invalid("'" + id_text + "' is not an event number like 360723101007-000042"));
  const std::string& code = node.store->code();
  if (id->origin != code)
    fail(Status::invalid("事件 " + id_text + " 不是本机办理的，只能由 " + id->origin +
                         " 重新报送 (only the node that made an event re-issues it)"));
  auto refused = node.store->sync_get(refused_key(*id));
  if (!refused.ok()) fail(refused.status());
  if (!*refused)
    refuse(Status::invalid("事件 " + id_text +
                           " 没有被拒收的记录，无需重新报送 (no level refused this event)"));
  const auto r = decode_refusal(**refused);
  storage::LocalDraft draft;
  draft.supersedes = *id;
  draft.fill = [&](proto::Event::Builder ev) { fill_actor(ev.initActor(), actor, code); };
  auto stored = node.store->append_local(draft, node.identity.sign);
  if (!stored.ok()) refuse(stored.status());
  const Id case_id = stored->view.case_id();
  auto after = node.store->get_case(case_id);
  if (!after.ok() || !*after) fail(Status::internal("case vanished after a re-issue"));
  if (json) {
    print(json_text(Json{{"event", format_id(stored->view.id())},
                         {"supersedes", id_text},
                         {"case", format_id(case_id)},
                         {"status", status_label(**after)},
                         {"lsn", stored->lsn}}) +
          "\n");
  } else {
    print("已重新报送 " + id_text + (r ? "（原" + refusal_text(*r) + "）" : std::string()) +
          "\n新事件 " + format_id(stored->view.id()) + "  办件 " + format_id(case_id) + " 现为 " +
          status_label_zh(**after) + "\n");
  }
  return 0;
}

}  // namespace

void add_refusal_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto* c_case = app.get_subcommand("case");
  auto id = std::make_shared<std::string>();
  auto* c = c_case->add_subcommand(
      "reissue", "重新报送: redo an event a level above refused, once the cause is fixed");
  shared.add_data(c);
  shared.add_actor(c);
  c->add_option("event", *id, "the refused event's number, e.g. 360723101007-000003")->required();
  c->add_flag("--json", shared.json, "print JSON");
  out.push_back(
      {.app = c, .run = [id, &data = shared.data, &actor = shared.actor, &json = shared.json] {
         return cmd_reissue(data, *id, actor, json);
       }});
}

}  // namespace liandong::node
