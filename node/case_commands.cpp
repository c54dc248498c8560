// The case commands: `submit` (申请登记), `case list`, `case show` and
// `act ACTION` (the workflow's actions on a case). They parse and print;
// the rules are the application layer's (node/app/). Writes go through the
// daemon when one runs (node/command_table.h).
#include <memory>
#include <string>

#include "node/app/act.h"
#include "node/app/case_files.h"
#include "node/app/cases.h"
#include "node/app/submit.h"
#include "node/case_list_command.h"
#include "node/commands.h"
#include "node/input_checks.h"
#include "node/input_files.h"
#include "node/json_text.h"
#include "node/render.h"
#include "storage/intake.h"

namespace liandong::node {

namespace fs = std::filesystem;

// Lists the cases matching `filter` whose open steps are overdue (超期) or at
// warning (预警); in node/deadline_commands.cpp.
int list_by_deadline(const std::string& data, const storage::CaseFilter& filter, bool overdue,
                     bool warning, const std::string& as_of, bool json);

namespace {

// The options of `submit`: the request (node/app/submit.h), or --json FILE.
struct SubmitArgs : app::SubmitRequest {
  std::string json_file;
  std::vector<std::string> attach;  // --attach MATERIAL=FILE
  std::string config_file;          // --config: its [attachments]
};

// The node and context of a command that may attach files: with --attach
// or --config, the store is opened with [attachments]' limit and the
// context carries its settings.
struct AttachingNode {
  Opened node;
  config::AttachmentSettings settings;
  // The context on `node`, carrying `settings` (valid while this lives).
  app::Context ctx() const {
    auto c = app_context(node);
    c.attachments = settings;
    return c;
  }
};
AttachingNode open_attaching(const fs::path& data_dir, const std::vector<std::string>& attach,
                             const std::string& config_file) {
  std::string data = data_dir.string();
  AttachConfig ac;
  if (!attach.empty() || !config_file.empty()) ac = load_attach_config(config_file, data);
  return AttachingNode{open_node(data, ac.settings.max_store_bytes()), ac.settings};
}

int cmd_submit(const fs::path& data, const SubmitArgs& a, const ActorOptions& given_actor,
               bool json) {
  auto opened = open_attaching(data, a.attach, a.config_file);
  app::SubmitRequest req = a;
  req.actor = given_actor;
  req.files = read_attachments(a.attach);
  if (!a.json_file.empty()) {
    req.json_name = a.json_file;
    req.json_text = read_file(a.json_file, kMaxSubmissionFileBytes);
  }
  auto done = app::submit(opened.ctx(), req);
  if (!done.ok()) fail_with(done.error());
  const std::string files = done->files == 0 ? "" : "，附件 " + std::to_string(done->files) + " 个";
  if (json) {
    print(json_text(Json{{"case", format_id(done->case_id)},
                         {"lsn", done->lsn},
                         {"supplement_case", done->supplement_case()},
                         {"missing", done->missing},
                         {"files", done->files}}) +
          "\n");
  } else if (done->supplement_case()) {
    print("已登记 补办件 " + format_id(done->case_id) + "（待补正）" + files +
          "\n一次性告知：请补齐以下 " + std::to_string(done->missing.size()) + " 项材料：" +
          storage::join_names(done->missing) + "\n");
  } else {
    print("已登记 办件 " + format_id(done->case_id) + files + "\n");
  }
  return 0;
}

// The options of `case list`.
struct ListArgs : app::ListRequest {
  bool overdue = false, warning = false;  // 超期 / 预警 (node/deadline_commands.cpp)
  std::string as_of;                      // judge deadlines as of this date
  CaseListArgs find;                      // search and paging (node/case_list_command.h)
};

int cmd_list(const fs::path& data, const ListArgs& a, bool json) {
  if (a.overdue || a.warning) {
    auto f = app::case_filter(a);
    if (!f.ok()) fail_with(f.error());
    return list_by_deadline(data.string(), *f, a.overdue, a.warning, a.as_of, json);
  }
  if (!a.as_of.empty()) fail(Status::invalid("--as-of goes with --overdue or --warning"));
  // Search and paging run on the store's indexes (storage/case_query.h),
  // one page at a time (node/case_list_command.h).
  auto f = app::case_filter(a);
  if (!f.ok()) fail_with(f.error());
  CaseListArgs find = a.find;
  find.status = f->status;
  find.conflict_only = f->conflict_only;
  return list_cases_found(data.string(), find, json);
}

int cmd_show(const fs::path& data, const std::string& id_text, bool json) {
  auto node = open_node(data);
  auto shown = app::show_case(app_context(node), id_text);
  if (!shown.ok()) fail_with(shown.error());
  const std::string& code = node.store->code();
  const app::CaseView& v = *shown;
  const auto places = places_here(*node.store);
  auto files = app::case_files(app_context(node), id_text);
  if (!files.ok()) fail_with(files.error());
  if (json) {
    Json j = Json::parse(render_case_json(v.state, v.events, &v.custody, code, v.consult));
    Json list = Json::array();
    for (const auto& f : *files)
      list.push_back(Json{{"sha256", app::hex_of(f.sha256)},
                          {"name", f.name},
                          {"material", f.material},
                          {"size", f.size},
                          {"whole", f.whole},
                          {"held_at", app::held_at(f)}});
    j["files"] = list;
    print(json_text(j) + "\n");
    return 0;
  }
  std::string text =
      render_case(v.state, v.events, &v.custody, code, v.consult, places ? &*places : nullptr);
  if (!files->empty()) {
    text += "附件（" + std::to_string(files->size()) + " 个）：\n";
    for (const auto& f : *files)
      text += "  " + f.name + "（" + f.material + "，" + app::file_event_zh(f.kind) + "）  " +
              app::custody_zh(f) + "\n";
  }
  print(text);
  return 0;
}

// ---- act ------------------------------------------------------------------

struct ActArgs : app::ActRequest {
  std::vector<std::string> attach;  // --attach MATERIAL=FILE (supplement, decide)
  std::string config_file;          // --config: its [attachments]
};

int cmd_act(const fs::path& data, const std::string& action, const ActArgs& a,
            const ActorOptions& given_actor, bool json) {
  auto opened = open_attaching(data, a.attach, a.config_file);
  app::ActRequest req = a;
  req.action = action;
  req.actor = given_actor;
  req.files = read_attachments(a.attach);
  auto done = app::act(opened.ctx(), req);
  if (!done.ok()) fail_with(done.error());
  if (json) {
    print(json_text(Json{{"event", format_id(done->event)},
                         {"case", a.case_id},
                         {"status", status_label(done->after)},
                         {"lsn", done->lsn}}) +
          "\n");
  } else {
    print(std::string("已记录 ") + kind_name_zh(done->kind) + " " + format_id(done->event) +
          "  办件 " + a.case_id + " 现为 " + status_label_zh(done->after) + "\n");
  }
  return 0;
}

// What the case commands parse into; shared by their CLI11 options and runs.
struct CaseArgs {
  SubmitArgs sub;
  ListArgs list;
  std::string show_id;
  ActArgs act;
  std::string action;  // the `act` subcommand parsed
};

}  // namespace

void add_case_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto args = std::make_shared<CaseArgs>();
  SubmitArgs& sub = args->sub;
  ListArgs& list = args->list;
  std::string& show_id = args->show_id;
  ActArgs& act = args->act;
  std::string& action = args->action;
  bool& json = shared.json;
  const auto& add_data = shared.add_data;
  const auto& add_actor = shared.add_actor;

  auto* c_submit = app.add_subcommand("submit", "register an application (申请登记)");
  add_data(c_submit);
  add_actor(c_submit);
  c_submit->add_option("--json", sub.json_file, "read the application from a JSON file");
  c_submit->add_option("--item", sub.item, "catalog item code");
  c_submit->add_option("--item-name", sub.item_name, "item name, e.g. 农村宅基地建房");
  c_submit->add_option("--applicant", sub.applicant, "applicant's name");
  c_submit->add_option("--id-number", sub.id_number, "applicant's ID card number");
  c_submit->add_option("--phone", sub.phone, "applicant's phone");
  c_submit->add_option("--address", sub.address, "applicant's address");
  c_submit->add_option("--home", sub.home, "home code of the case (default: this node)");
  c_submit->add_option("--field", sub.fields, "form field NAME=VALUE (repeatable)");
  c_submit->add_option("--material", sub.materials,
                       "material NAME[:provided|missing|later[:original|copy]] (repeatable)");
  c_submit->add_option("--fee-due", sub.fee_due, "fee due in yuan");
  c_submit->add_option("--summary", sub.summary, "one-line summary");
  c_submit->add_option("--catalog-version", sub.catalog_version, "catalog version checked against");
  c_submit->add_flag("--json-out", json, "print the result as JSON");
  c_submit->add_option("--attach", sub.attach,
                       "attach a photo or scan: MATERIAL=FILE (JPG, PNG, HEIC or PDF; repeatable)");

  auto* c_case = app.add_subcommand("case", "list and show cases");
  c_case->require_subcommand(1);
  auto* c_list = c_case->add_subcommand("list", "list cases held here");
  add_data(c_list);
  c_list->add_option("--status", list.status, "only this status (e.g. accepted, 已受理, conflict)");
  c_list->add_flag("--conflict", list.conflict, "only cases in conflict");
  c_list->add_flag("--overdue", list.overdue, "only cases with a step past its due day (超期)");
  c_list->add_flag("--warning", list.warning,
                   "only cases with a step at one working day or less left (预警)");
  c_list->add_option("--as-of", list.as_of,
                     "with --overdue/--warning: judge as of the end of this day (YYYY-MM-DD)");
  c_list->add_option("--name", list.find.name, "申请人姓名 (the applicant's whole name)");
  c_list->add_option("--id-number", list.find.id_number, "申请人身份证号码");
  c_list->add_option("--phone", list.find.phone, "申请人联系电话");
  c_list->add_option("--case", list.find.case_number,
                     "办件编号, whole or its tail (000042, 007-000042)");
  c_list->add_option("--item", list.find.item, "事项编码 (item code)");
  c_list->add_option("--limit", list.find.limit, "每页件数 (page size, default 50)")
      ->check(CLI::Range(1, 10000));
  c_list->add_option("--after", list.find.after, "下一页: the cursor the previous page printed");
  c_list->add_flag("--json", json, "print JSON");
  auto* c_show = c_case->add_subcommand("show", "show one case with its full history");
  add_data(c_show);
  c_show->add_option("id", show_id, "case number, e.g. 360723101007-000001")->required();
  c_show->add_flag("--json", json, "print JSON");

  auto* c_act = app.add_subcommand("act", "take a workflow action on a case");
  c_act->add_option("id", act.case_id, "case number")->required();
  c_act->require_subcommand(1);
  struct ActionSpec {
    const char* name;
    const char* help;
  };
  const ActionSpec actions[] = {
      {"accept", "受理: accept the application"},
      {"request-supplement", "补正: list every missing material at once"},
      {"supplement", "补正材料: the applicant supplied materials"},
      {"escalate", "转报乡镇 (村) / 上报 (乡镇): pass to the level above"},
      {"assign", "分派: assign departments (several = joint handling)"},
      {"opinion", "部门意见: one department's opinion on a joint case"},
      {"decide", "办结: approve or refuse with reason and legal basis"},
      {"reply", "答复: answer a consultation"},
      {"deliver", "结果送达: the result was handed to the applicant"},
      {"rate", "一事一评: the applicant's rating, 1-5"},
      {"collect-fee", "代收费: fee collected with receipt number"},
      {"close", "销号: close and archive"},
      {"withdraw", "撤回: the applicant withdraws"},
      {"comment", "备注: a note on the case"},
      {"complain", "效能投诉: a complaint, handled by the level above the one complained about"},
      {"supervise", "督办: order the level holding the case to handle it by a date (director)"},
      {"answer", "答复: answer a 督办 order, a complaint, a poor rating (整改) or record a 回访"},
      {"not-accept", "不予受理: refuse the application at intake, with reason and legal basis"},
  };
  for (const auto& spec : actions) {
    auto* c = c_act->add_subcommand(spec.name, spec.help);
    add_data(c);
    add_actor(c);
    c->add_flag("--settle", act.settle, "settle the case's conflict with this action");
    c->add_flag("--json", json, "print JSON");
    c->callback([&action, name = spec.name] { action = name; });
    const std::string n = spec.name;
    if (n == "accept") {
      c->add_option("--due", act.due,
                    "承诺办结日期 YYYY-MM-DD (default: the catalog's limit in working days)");
      c->add_option("--extend-reason", act.extend_reason,
                    "why the date is later than the catalog's limit (延期理由)");
    }
    if (n == "request-supplement")
      c->add_option("--missing", act.missing, "missing material (repeatable)")->required();
    if (n == "supplement")
      c->add_option("--provided", act.provided, "material supplied (repeatable)")->required();
    if (n == "escalate") c->add_option("--to", act.to, "code of the level above (default: parent)");
    if (n == "assign")
      c->add_option("--dept", act.departments, "department (repeatable)")->required();
    if (n == "opinion") c->add_option("--dept", act.department, "the department")->required();
    if (n == "opinion" || n == "decide") {
      c->add_flag("--approve", act.approve, "approve");
      c->add_flag("--reject", act.reject, "refuse");
    }
    if (n == "supplement" || n == "decide") {
      c->add_option(
          "--attach", act.attach,
          n == "supplement"
              ? "attach a photo or scan of a supplied material: MATERIAL=FILE (repeatable)"
              : "attach the decision's papers: NAME=FILE, e.g. 批复文书=pf.pdf "
                "(repeatable)");
    }
    if (n == "decide") {
      c->add_option("--reason", act.reason, "reason (required for a refusal)");
      c->add_option("--basis", act.basis, "legal basis (办事依据)");
      c->add_option("--certificate", act.certificate, "certificate number");
    }
    if (n == "withdraw") c->add_option("--reason", act.reason, "why");
    if (n == "not-accept") {
      c->add_option("--reason", act.reason, "reason (不予受理理由)")->required();
      c->add_option("--basis", act.basis, "legal basis (法律依据)");
    }
    if (n == "reply" || n == "comment" || n == "complain" || n == "opinion")
      c->add_option("--text", act.text, "text");
    if (n == "complain") {
      c->add_option("--against", act.against,
                    "code of the level complained about (default: the level holding the case)");
      c->add_option("--dept", act.department, "the department complained about");
      c->add_option("--person", act.person, "the person complained about");
      c->add_option("--channel", act.channel, "how it came: phone, window, letter, desk");
      c->add_option("--complainant", act.complainant, "who complains (投诉人)");
      c->add_option("--phone", act.phone, "the complainant's phone, for the reply");
      c->add_option("--due", act.due, "answer by YYYY-MM-DD (default: 5 working days)");
    }
    if (n == "supervise") {
      c->add_option("--note", act.note, "what is ordered (督办事项)")->required();
      c->add_option("--due", act.due, "the new deadline, YYYY-MM-DD (督办时限)")->required();
    }
    if (n == "answer") {
      c->add_option("--to", act.answer_to,
                    "order (督办), complaint, rectification (整改), revisit (回访)");
      c->add_option("--about", act.about,
                    "the event answered, e.g. 360723-000042 (default: the oldest open one)");
      c->add_option("--text", act.text, "办理情况说明 / 处理结果 / 整改情况 / 回访记录")
          ->required();
      c->add_flag("--upheld", act.upheld, "complaint: 成立 (default: 不成立)");
      c->add_option("--score", act.score, "revisit: 1-5 as rate, 0 not reached");
    }
    if (n == "deliver") c->add_option("--method", act.method, "how: in person, phone, ...");
    if (n == "rate") {
      c->add_option("--score", act.score, "5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
          ->required();
      c->add_option("--comment", act.comment, "the applicant's words");
      c->add_option("--reason-item", act.reasons,
                    "why (required for 不满意 and 非常不满意; repeatable)");
      c->add_option("--channel", act.channel, "evaluator (评价器) or agent");
    }
    if (n == "collect-fee") {
      c->add_option("--amount", act.amount, "amount in yuan")->required();
      c->add_option("--receipt", act.receipt, "receipt number")->required();
      c->add_option("--reason", act.reason, "why the amount differs from the fee due");
    }
    if (n == "accept" || n == "request-supplement" || n == "supplement" || n == "escalate" ||
        n == "assign" || n == "deliver" || n == "close")
      c->add_option("--note", act.note, "note");
  }

  shared.files.push_back(&sub.json_file);
  shared.run_here.push_back(
      [args] { return !args->sub.attach.empty() || !args->act.attach.empty(); });
  auto& data = shared.data;
  auto& actor = shared.actor;
  // --config (CliShared::config): the node's config, whose [attachments]
  // limits apply to --attach (default: the defaults).
  const std::string* config = shared.config;
  out.push_back({.app = c_submit, .run = [args, &data, &actor, &json, config] {
                   if (config != nullptr) args->sub.config_file = *config;
                   return cmd_submit(data, args->sub, actor, json);
                 }});
  out.push_back(
      {.app = c_list, .run = [args, &data, &json] { return cmd_list(data, args->list, json); }});
  out.push_back(
      {.app = c_show, .run = [args, &data, &json] { return cmd_show(data, args->show_id, json); }});
  out.push_back({.app = c_act, .run = [args, &data, &actor, &json, config] {
                   if (config != nullptr) args->act.config_file = *config;
                   return cmd_act(data, args->action, args->act, actor, json);
                 }});
}

}  // namespace liandong::node
