#include "node/cli.h"

#include <capnp/message.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "config/input_file.h"
#include "config/node_config.h"
#include "node/app/act.h"
#include "node/app/cases.h"
#include "node/app/figures.h"
#include "node/app/publish.h"
#include "node/app/submit.h"
#include "node/case_list_command.h"
#include "node/command_table.h"
#include "node/commands.h"
#include "node/control.h"
#include "node/daemon.h"
#include "node/input_checks.h"
#include "node/input_files.h"
#include "node/json_text.h"
#include "node/refusals.h"
#include "node/render.h"
#include "node/report.h"
#include "node/sync_state.h"
#include "node/text_escape.h"
#include "protocol/hlc.h"
#include "protocol/resident_id.h"
#include "protocol/submission_json.h"
#include "protocol/sync_codec.h"
#include "storage/authority.h"
#include "storage/calendar.h"
#include "storage/catalog.h"
#include "storage/fees.h"
#include "storage/intake.h"
#include "storage/roster.h"

namespace liandong::node {

namespace fs = std::filesystem;

int exit_code(const Status& s) {
  return s.code() == Code::invalid ? 2 : 1;
}

namespace {
// Set while a command runs inside the daemon (run_cli_in_daemon).
thread_local DaemonContext* t_ctx = nullptr;
thread_local std::string* t_out = nullptr;
thread_local std::string* t_err = nullptr;
// The files sent with the command (protocol/control.capnp), by name.
thread_local const std::map<std::string, std::string>* t_files = nullptr;
}  // namespace

Opened open_node(const fs::path& data) {
  if (t_ctx != nullptr)
    return Opened{nullptr, t_ctx->store, *t_ctx->identity, t_ctx->data, t_ctx->identity};
  if (data.empty()) throw CommandError{Status::invalid("no data directory: give --data DIR")};
  auto store = storage::Store::open(storage::StoreOptions{store_dir(data)});
  if (!store.ok()) throw CommandError{store.status()};
  settle_rotation(data, **store);
  auto id = load_identity(data);
  if (!id.ok()) throw CommandError{id.status()};
  Opened o;
  o.owned = std::move(store).value();
  o.store = o.owned.get();
  o.identity = std::move(id).value();
  o.data_dir = data;
  return o;
}

void check_actor_level(const ActorOptions& a, const std::string& node_code) {
  auto checked = app::check_level(a, node_code);
  if (!checked.ok()) throw CommandError{checked.error().status, checked.error().refused};
}

[[noreturn]] void fail(Status s) {
  throw CommandError{std::move(s)};
}
[[noreturn]] void refuse(Status s) {
  throw CommandError{std::move(s), true};
}

bool in_daemon() {
  return t_ctx != nullptr;
}

const DaemonContext* daemon_context() {
  return t_ctx;
}

// What reaches the terminal passes terminal_text (node/text_escape.h): text
// from outside never acts as a control sequence, wherever a command prints
// it. Inside the daemon the text goes back to the CLI, which prints it so.
void print(const std::string& s) {
  if (t_out != nullptr) {
    t_out->append(s);
  } else {
    const std::string safe = terminal_text(s);
    std::fwrite(safe.data(), 1, safe.size(), stdout);
  }
}

void print_error(const std::string& message) {
  const std::string line = "错误：" + message + "\n";
  if (t_err != nullptr) {
    t_err->append(line);
  } else {
    const std::string safe = terminal_text(line);
    std::fwrite(safe.data(), 1, safe.size(), stderr);
  }
}

namespace {

// ---- init -----------------------------------------------------------------

struct InitArgs {
  std::string data, code;
  bool force = false;
  bool keep_keys = false;
};

int cmd_init(const InitArgs& a) {
  if (!plausible_code(a.code))
    fail(Status::invalid("'" + a.code +
                         "' is not a division code (2, 4, 6, 9 or 12 digits, no part all zeros)"));
  const fs::path data(a.data);
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec || ::access(data.c_str(), W_OK) != 0)
    fail(Status::invalid("cannot write to data directory " + data.string()));
  const bool exists =
      fs::exists(store_dir(data) / "data.mdb", ec) || fs::exists(keys_dir(data) / "sign.key", ec);
  if (exists && !a.force)
    fail(Status::invalid("a store already exists in " + data.string() +
                         " (use --force to replace it, losing its data)"));
  if (find_daemon(data))
    fail(Status::invalid("a daemon runs on " + data.string() + "; stop it first"));
  std::optional<Identity> kept;
  if (a.keep_keys) {
    auto old = load_identity(data);
    if (!old.ok()) fail(Status::invalid("--keep-keys: " + old.status().message()));
    kept = std::move(old).value();
  }
  if (exists) {
    fs::remove_all(store_dir(data), ec);
    if (!kept) fs::remove_all(keys_dir(data), ec);
    // Sync state of the old store means nothing to the new one.
    fs::remove(data / "daemon.lock", ec);
  }
  ::chmod(data.c_str(), 0700);
  auto store = storage::Store::create(storage::StoreOptions{store_dir(data)}, a.code);
  if (!store.ok()) fail(store.status());
  auto id = kept ? Result<Identity>(std::move(*kept)) : create_identity(data);
  if (!id.ok()) {
    store = Status::internal("closed");
    fs::remove_all(store_dir(data), ec);
    fail(id.status());
  }
  if (auto s = (*store)->put_key(a.code, id->sign.pub); !s) fail(s);
  // The desk's certificate, for when it is opened to the office LAN.
  if (auto s = make_desk_certificate(data, a.code); !s)
    print(fmt::format("注意：办事台证书未能生成（{}），可稍后运行 liandong desk cert\n",
                      s.message()));
  print(fmt::format("已初始化节点 {} ({}) 于 {}\n", a.code, level_name_zh(a.code),
                    fs::absolute(data).string()));
  print(fmt::format("store id:                 {}\n", (*store)->store_id()));
  print(fmt::format("signing key (Ed25519):    {}\n", to_hex(id->sign.pub)));
  print(fmt::format(
      "link key (CurveZMQ, Z85): {}\n",
      to_z85(std::string_view(reinterpret_cast<const char*>(id->curve.pub.data()), 32))));
  return 0;
}

// ---- submit ---------------------------------------------------------------

// The options of `submit`: the request (node/app/submit.h), or --json FILE.
struct SubmitArgs : app::SubmitRequest {
  std::string json_file;
};

}  // namespace

std::string read_file(const std::string& path, std::size_t max_bytes) {
  if (t_files != nullptr) {
    // Inside the daemon: only the bytes the CLI sent with the command.
    auto it = t_files->find(path);
    if (it == t_files->end())
      fail(Status::invalid("cannot read " + path +
                           ": the command came without the file's contents (a liandong of "
                           "another version?); the daemon does not open files itself"));
    if (it->second.size() > max_bytes)
      fail(Status::invalid("cannot read " + path + ": is larger than " + std::to_string(max_bytes) +
                           " bytes, the most this file may hold"));
    return it->second;
  }
  auto f = config::read_input_file(path, max_bytes);
  if (!f.ok) fail(Status::invalid("cannot read " + path + ": " + f.error));
  return std::move(f.bytes);
}

namespace {

// Fails the command with an operation's error (node/app/result.h).
[[noreturn]] void fail_with(const app::AppError& e) {
  throw CommandError{e.status, e.refused};
}

app::Context app_context(const Opened& node) {
  return app::Context{*node.store, node.identity.sign};
}

int cmd_submit(const fs::path& data, const SubmitArgs& a, const ActorOptions& given_actor,
               bool json) {
  auto node = open_node(data);
  app::SubmitRequest req = a;
  req.actor = given_actor;
  if (!a.json_file.empty()) {
    req.json_name = a.json_file;
    req.json_text = read_file(a.json_file, kMaxSubmissionFileBytes);
  }
  auto done = app::submit(app_context(node), req);
  if (!done.ok()) fail_with(done.error());
  if (json) {
    print(json_text(Json{{"case", format_id(done->case_id)},
                         {"lsn", done->lsn},
                         {"supplement_case", done->supplement_case()},
                         {"missing", done->missing}}) +
          "\n");
  } else if (done->supplement_case()) {
    print("已登记 补办件 " + format_id(done->case_id) + "（待补正）\n一次性告知：请补齐以下 " +
          std::to_string(done->missing.size()) + " 项材料：" + storage::join_names(done->missing) +
          "\n");
  } else {
    print("已登记 办件 " + format_id(done->case_id) + "\n");
  }
  return 0;
}

// ---- case list / show -----------------------------------------------------

}  // namespace

// Lists the cases matching `filter` whose open steps are overdue (超期) or at
// warning (预警); in node/deadline_commands.cpp.
int list_by_deadline(const std::string& data, const storage::CaseFilter& filter, bool overdue,
                     bool warning, const std::string& as_of, bool json);

namespace {

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
  print(json ? render_case_json(v.state, v.events, &v.custody, code, v.consult)
             : render_case(v.state, v.events, &v.custody, code, v.consult,
                           places ? &*places : nullptr));
  return 0;
}

// ---- act ------------------------------------------------------------------

using ActArgs = app::ActRequest;

int cmd_act(const fs::path& data, const std::string& action, const ActArgs& a,
            const ActorOptions& given_actor, bool json) {
  auto node = open_node(data);
  app::ActRequest req = a;
  req.action = action;
  req.actor = given_actor;
  auto done = app::act(app_context(node), req);
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

// ---- store / keys -----------------------------------------------------------

int cmd_keys_trust(const fs::path& data, const std::string& code, const std::string& hex) {
  auto node = open_node(data);
  if (!plausible_code(code)) fail(Status::invalid("'" + code + "' is not a division code"));
  auto key = public_key_from_hex(hex);
  if (!key) fail(Status::invalid("'" + hex + "' is not a 64-digit hex Ed25519 public key"));
  if (auto s = node.store->put_key(code, *key); !s) fail(s);
  print(fmt::format("trusted {} for origin {}\n", hex, code));
  return 0;
}

int cmd_keys_show(const fs::path& data, bool json) {
  auto node = open_node(data);
  const std::string sign = to_hex(node.identity.sign.pub);
  const std::string curve =
      to_z85(std::string_view(reinterpret_cast<const char*>(node.identity.curve.pub.data()), 32));
  if (json) {
    print(json_text(Json{{"code", node.store->code()},
                         {"sign_key", sign},
                         {"curve_key", curve},
                         {"store_id", node.store->store_id()}}) +
          "\n");
    return 0;
  }
  print(fmt::format("code:                     {}\n", node.store->code()));
  print(fmt::format("signing key (Ed25519):    {}\n", sign));
  print(fmt::format("link key (CurveZMQ, Z85): {}\n", curve));
  return 0;
}

// Every event held here, in log order (for audits and the sync tests).
int cmd_store_events(const fs::path& data, bool json) {
  auto node = open_node(data);
  auto custody = read_custody(*node.store);
  if (!custody.ok()) fail(custody.status());
  std::map<Id, std::vector<Id>> superseded_in;  // case -> its superseded events
  Json rows = Json::array();
  std::string text;
  Status bad = Status::ok();
  auto s = node.store->scan_log(0, ~std::size_t{0}, [&](uint64_t lsn, std::string_view v) {
    auto ev = EventView::parse(v);
    if (!ev.ok()) {
      bad = Status::corruption("log entry " + std::to_string(lsn) + ": " + ev.status().message());
      return false;
    }
    const std::string home(ev->event().getHome().begin(), ev->event().getHome().size());
    const bool broadcast = is_broadcast(ev->kind());
    const std::string case_id = names_case(ev->kind()) ? format_id(ev->case_id()) : "";
    if (json) {
      Json row;
      row["lsn"] = lsn;
      row["id"] = format_id(ev->id());
      row["case"] = case_id;
      row["kind"] = kind_name(ev->kind());
      row["origin"] = ev->id().origin;
      row["home"] = home;
      row["broadcast"] = broadcast;
      row["lineage"] = is_lineage(ev->kind());
      bool superseded = false;
      if (names_case(ev->kind())) {
        auto it = superseded_in.find(ev->case_id());
        if (it == superseded_in.end()) {
          auto st = node.store->get_case(ev->case_id());
          it = superseded_in
                   .emplace(ev->case_id(), st.ok() && *st ? (*st)->superseded : std::vector<Id>{})
                   .first;
        }
        superseded = std::binary_search(it->second.begin(), it->second.end(), ev->id());
      }
      row["superseded"] = superseded;
      const Refusal* r = custody->refusal_of(ev->id());
      row["refused_by"] = r != nullptr ? r->by : std::string();
      rows.push_back(std::move(row));
    } else {
      text += fmt::format("{:>8}  {:<22} {:<22} {:<12} {}\n", lsn, format_id(ev->id()),
                          broadcast ? "(通知)" : case_id, home, kind_name_zh(ev->kind()));
    }
    return true;
  });
  if (!s) fail(s);
  if (!bad) fail(bad);
  print(json ? json_text(rows) + "\n" : text);
  return 0;
}

// ---- publish (broadcast to the subtree) ---------------------------------------

int cmd_publish(const fs::path& data, const std::string& what, uint32_t number,
                const std::string& file, const ActorOptions& actor, bool json) {
  app::PublishRequest req;
  req.what = what;
  req.number = number;
  req.file_name = file;
  req.document = read_file(file, kMaxNoticeFileBytes);
  req.actor = actor;
  auto node = open_node(data);
  auto done = app::publish(app_context(node), req);
  if (!done.ok()) fail_with(done.error());
  if (json) {
    print(json_text(Json{{"event", format_id(done->event)}, {"lsn", done->lsn}}) + "\n");
  } else {
    print(std::string("已发布 ") + kind_name_zh(done->kind) + " " + format_id(done->event) +
          "，下发至 " + done->code + " 辖区全部节点\n");
  }
  return 0;
}

// ---- status -------------------------------------------------------------------

// `as_of`: judge deadlines as of the end of that China day (empty: now).
int cmd_status(const fs::path& data, bool json, const std::string& as_of) {
  auto node = open_node(data);
  std::optional<StatusReport> live;
  if (t_ctx != nullptr) live = t_ctx->status();
  auto r = app::status(app_context(node), app::StatusRequest{as_of}, live ? &*live : nullptr);
  if (!r.ok()) fail_with(r.error());
  const auto places = places_here(*node.store);
  print(json ? render_status_json(*r) : render_status(*r, places ? &*places : nullptr));
  return 0;
}

int cmd_config_check(const std::string& file) {
  auto cfg = config::load_config(file);
  if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
  print(config::describe(std::get<config::NodeConfig>(cfg)));
  print("config ok: " + file + "\n");
  return 0;
}

}  // namespace

namespace {

// The command as the daemon gets it: the arguments as given, and the bytes
// of every file the command names, read here (bounded) and not by the
// daemon (protocol/control.capnp).
ControlRequest forwarded_request(int argc, char** argv, const std::vector<std::string>& files) {
  ControlRequest r;
  for (int i = 1; i < argc; ++i)
    r.args.emplace_back(argv[i]);
  for (const auto& f : files) {
    if (f.empty() || r.files.count(f) != 0) continue;
    r.files.emplace(f, read_file(f, kMaxForwardedFileBytes));
  }
  return r;
}

// The name path of the command CLI11 parsed: "case list", "act accept".
std::string parsed_path(const CLI::App& app) {
  std::string path;
  const CLI::App* at = &app;
  for (;;) {
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : at->get_subcommands()) {
      if (sub->parsed()) {
        next = sub;
        break;
      }
    }
    if (next == nullptr) return path;
    path += (path.empty() ? "" : " ") + next->get_name();
    at = next;
  }
}

int dispatch(int argc, char** argv) {
  CLI::App app{"liandong (联动): store-and-forward case sync for county, township and village"};
  app.require_subcommand(1);
  std::string data;
  if (const char* env = std::getenv("LIANDONG_DATA")) data = env;
  bool json = false;
  ActorOptions actor;
  auto add_data = [&](CLI::App* c) {
    c->add_option("--data", data, "data directory (default: $LIANDONG_DATA)");
  };
  auto add_actor = [&](CLI::App* c) {
    c->add_option("--actor", actor.name, "who acts (name)")
        ->required()
        ->check([](const std::string& n) {
          auto why = person_name_problem(n);
          return why ? *why : std::string();
        });
    c->add_option("--role", actor.role, "agent, clerk, reviewer, officer or director")
        ->check([](const std::string& r) {
          return role_from_name(r) ? std::string() : "unknown role '" + r + "'";
        });
    c->add_option("--staff-id", actor.staff_id, "staff number");
    c->add_option("--on-behalf-of", actor.on_behalf_of, "AB角: the primary this backup acts for");
  };

  InitArgs init;
  auto* c_init = app.add_subcommand("init", "make a store and key pairs for a node");
  c_init->add_option("--data", init.data, "data directory")->required();
  c_init->add_option("--code", init.code, "division code: 6 county, 9 township, 12 village")
      ->required();
  c_init->add_flag("--force", init.force, "replace an existing store (its data is lost)");
  c_init->add_flag("--keep-keys", init.keep_keys,
                   "with --force: keep this node's key pairs (a replaced disk, keys restored)");

  std::string run_config, run_level;
  auto* c_run = app.add_subcommand("run", "run the node: sync with its parent and children");
  c_run->add_option("--config", run_config, "config file (TOML)")->required();
  c_run->add_option("--log-level", run_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  auto* c_status = app.add_subcommand("status", "links, unacknowledged events and totals");
  add_data(c_status);
  c_status->add_flag("--json", json, "print JSON");
  std::string status_as_of;
  c_status->add_option("--as-of", status_as_of,
                       "count overdue and warning cases as of the end of this day (YYYY-MM-DD)");

  SubmitArgs sub;
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

  auto* c_case = app.add_subcommand("case", "list and show cases");
  c_case->require_subcommand(1);
  ListArgs list;
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
  std::string show_id;
  auto* c_show = c_case->add_subcommand("show", "show one case with its full history");
  add_data(c_show);
  c_show->add_option("id", show_id, "case number, e.g. 360723101007-000001")->required();
  c_show->add_flag("--json", json, "print JSON");

  ActArgs act;
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
      {"complain", "投诉: a complaint"},
      {"not-accept", "不予受理: refuse the application at intake, with reason and legal basis"},
  };
  std::string action;
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
    if (n == "complain")
      c->add_option("--against", act.against, "code of the level complained about");
    if (n == "deliver") c->add_option("--method", act.method, "how: in person, phone, ...");
    if (n == "rate") {
      c->add_option("--score", act.score, "5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
          ->required();
      c->add_option("--comment", act.comment, "the applicant's words");
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

  auto* c_store = app.add_subcommand("store", "store maintenance");
  c_store->require_subcommand(1);
  auto* c_check = c_store->add_subcommand("check", "check that log, ids, cases and indexes agree");
  add_data(c_check);
  bool check_deep = false;
  c_check->add_flag("--deep", check_deep,
                    "also check every stored event's signature, and say which damaged events the "
                    "neighbours can send again");

  auto* c_events = c_store->add_subcommand("events", "list every event held here, in log order");
  add_data(c_events);
  c_events->add_flag("--json", json, "print JSON");

  std::string publish_file;
  uint32_t publish_number = 0;
  auto* c_publish = app.add_subcommand("publish", "publish a notice to this node's whole subtree");
  c_publish->require_subcommand(1);
  auto* c_pub_cal = c_publish->add_subcommand("calendar", "the working-day calendar (工作日历)");
  c_pub_cal->add_option("--year", publish_number, "year")->required();
  auto* c_pub_cat = c_publish->add_subcommand("catalog", "the service item catalog (事项目录)");
  c_pub_cat->add_option("--version", publish_number, "catalog version")->required();
  for (auto* c : {c_pub_cal, c_pub_cat}) {
    add_data(c);
    add_actor(c);
    c->add_option("--file", publish_file, "the document")->required();
    c->add_flag("--json", json, "print JSON");
  }

  auto* c_keys = app.add_subcommand("keys", "the node's keys and the key directory");
  c_keys->require_subcommand(1);
  auto* c_keys_show = c_keys->add_subcommand("show", "print this node's public keys");
  add_data(c_keys_show);
  c_keys_show->add_flag("--json", json, "print JSON");
  std::string trust_code, trust_key;
  auto* c_trust = c_keys->add_subcommand("trust", "add an origin's signing key to the directory");
  add_data(c_trust);
  c_trust->add_option("code", trust_code, "origin code")->required();
  c_trust->add_option("key", trust_key, "Ed25519 public key, hex")->required();

  auto* c_config = app.add_subcommand("config", "the node's configuration file");
  c_config->require_subcommand(1);
  std::string config_file;
  auto* c_config_check =
      c_config->add_subcommand("check", "validate a config file and summarize it");
  c_config_check->add_option("file", config_file, "config file (TOML)")->required();

  // Commands of the workflow modules (catalog, deadlines, reports).
  CliShared shared{data, json, actor, add_data, add_actor};
  CommandSet modules;
  add_catalog_commands(app, shared, modules);
  add_deadline_commands(app, shared, modules);
  add_report_commands(app, shared, modules);
  add_audit_commands(app, shared, modules);
  add_key_commands(app, shared, modules);
  add_roster_commands(app, shared, modules);
  add_sync_commands(app, shared, modules);
  add_refusal_commands(app, shared, modules);
  add_import_commands(app, shared, modules);
  add_division_commands(app, shared, modules);
  add_desk_commands(app, shared, modules);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return t_ctx ? 2 : app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return t_ctx ? 2 : app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(std::string("命令参数有误，请用 --help 查看用法 (") + e.what() + ")");
    return 2;
  }

  try {
    if (c_run->parsed()) {
      if (t_ctx != nullptr) fail(Status::invalid("the daemon is already running"));
      auto cfg = config::load_config(run_config);
      if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
      return run_daemon(std::get<config::NodeConfig>(cfg), run_level, run_cli_in_daemon);
    }
    // Writes (and status) go through a daemon running on the same data
    // directory, so its single writer takes them and sends them on at once;
    // which commands do is said once, in node/command_table.h.
    const std::string path = parsed_path(app);
    const CommandSpec* module = nullptr;
    for (const auto& m : modules) {
      if (m.app->parsed()) module = &m;
    }
    if (sent_to_daemon(path) && t_ctx == nullptr && !data.empty()) {
      if (auto d = find_daemon(data)) {
        std::vector<std::string> forwarded_files = {sub.json_file, publish_file};
        for (const std::string* f : shared.files)
          forwarded_files.push_back(*f);
        auto reply =
            call_daemon(d->control_endpoint, forwarded_request(argc, argv, forwarded_files),
                        std::chrono::seconds(60), [&] {
                          auto now = find_daemon(data);
                          return now && now->pid == d->pid;
                        });
        if (!reply.ok())
          fail(Status::disconnected("the daemon on " + data + " (pid " + std::to_string(d->pid) +
                                    ") does not answer: " + reply.status().message()));
        print(reply->out);
        if (!reply->err.empty()) {
          const std::string safe = terminal_text(reply->err);
          std::fwrite(safe.data(), 1, safe.size(), stderr);
        }
        return reply->exit_code;
      }
    }
    if (t_ctx != nullptr && !daemon_takes(path))
      fail(Status::invalid("not a command the daemon takes"));
    if (module != nullptr) return audited_command(module->app, data, actor, module->run());
    if (c_init->parsed()) return cmd_init(init);
    if (c_status->parsed()) return cmd_status(data, json, status_as_of);
    if (c_submit->parsed()) return cmd_submit(data, sub, actor, json);
    if (c_list->parsed()) return cmd_list(data, list, json);
    if (c_show->parsed()) return cmd_show(data, show_id, json);
    if (c_act->parsed()) return cmd_act(data, action, act, actor, json);
    if (c_check->parsed()) return cmd_store_check(data, check_deep);
    if (c_events->parsed()) return cmd_store_events(data, json);
    if (c_pub_cal->parsed())
      return audited_command(
          c_pub_cal, data, actor,
          cmd_publish(data, "calendar", publish_number, publish_file, actor, json));
    if (c_pub_cat->parsed())
      return audited_command(
          c_pub_cat, data, actor,
          cmd_publish(data, "catalog", publish_number, publish_file, actor, json));
    if (c_config_check->parsed()) return cmd_config_check(config_file);
    if (c_keys_show->parsed()) return cmd_keys_show(data, json);
    if (c_trust->parsed())
      return audited_command(c_trust, data, actor, cmd_keys_trust(data, trust_code, trust_key));
  } catch (const CommandError& e) {
    print_error(error_text_zh(e.status));
    return e.refused ? 1 : exit_code(e.status);
  }
  return 2;
}

}  // namespace

int run_cli(int argc, char** argv) {
  return dispatch(argc, argv);
}

ControlReply run_cli_in_daemon(const ControlRequest& request, DaemonContext& ctx) {
  ControlReply reply;
  std::vector<std::string> owned;
  owned.reserve(request.args.size() + 1);
  owned.push_back("liandong");
  owned.insert(owned.end(), request.args.begin(), request.args.end());
  std::vector<char*> argv;
  for (auto& a : owned)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  t_ctx = &ctx;
  t_out = &reply.out;
  t_err = &reply.err;
  t_files = &request.files;
  try {
    reply.exit_code = dispatch(static_cast<int>(owned.size()), argv.data());
  } catch (const std::exception& e) {
    reply.err += std::string("错误：") + e.what() + "\n";
    reply.exit_code = 1;
  }
  t_ctx = nullptr;
  t_out = nullptr;
  t_err = nullptr;
  t_files = nullptr;
  return reply;
}

}  // namespace liandong::node
