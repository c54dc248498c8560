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
#include "node/case_list_command.h"
#include "node/commands.h"
#include "node/control.h"
#include "node/control_request.h"
#include "node/daemon.h"
#include "node/input_checks.h"
#include "node/input_files.h"
#include "node/json_writer.h"
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
// The files sent with the command (node/control_request.h), by name.
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

namespace {

// The role an action is recorded with (fill_actor): --role, or by level.
proto::Role actor_role(const ActorOptions& a, const std::string& node_code) {
  if (!a.role.empty()) {
    if (auto r = role_from_name(a.role)) return *r;
  }
  return node_code.size() == 12 ? proto::Role::AGENT : proto::Role::CLERK;
}

}  // namespace

void check_actor_level(const ActorOptions& a, const std::string& node_code) {
  if (a.role.empty()) return;
  const auto role = role_from_name(a.role);
  if (!role) fail(Status::invalid("unknown role '" + a.role + "'"));
  // Rule 2 of storage/authority.h, as for any action at this node.
  storage::ActContext ctx;
  ctx.node = node_code;
  ctx.role = *role;
  ctx.kind = EventKind::comment;
  if (auto s = storage::may_act(ctx); !s) refuse(s);
}

void fill_actor(proto::Actor::Builder b, const ActorOptions& a, const std::string& node_code) {
  b.setName(a.name);
  b.setRole(actor_role(a, node_code));
  b.setStaffId(a.staff_id);
  b.setOnBehalfOf(a.on_behalf_of);
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

struct SubmitArgs {
  std::string json_file, item, item_name, applicant, id_number, phone, address, home, summary,
      fee_due;
  std::vector<std::string> fields, materials;
  uint32_t catalog_version = 0;
};

std::optional<proto::MaterialState> material_state(std::string_view s) {
  if (s == "provided" || s == "已提交" || s == "已交") return proto::MaterialState::PROVIDED;
  if (s == "missing" || s == "缺") return proto::MaterialState::MISSING;
  if (s == "later" || s == "容缺") return proto::MaterialState::LATER;
  return std::nullopt;
}

// "身份证" or "身份证:later" or "身份证:provided:copy".
void fill_materials(capnp::List<proto::Material>::Builder out, const std::vector<std::string>& in,
                    proto::MaterialState dflt) {
  for (unsigned i = 0; i < in.size(); ++i) {
    std::vector<std::string> parts;
    std::stringstream ss(in[i]);
    for (std::string p; std::getline(ss, p, ':');)
      parts.push_back(p);
    if (parts.empty() || parts[0].empty()) fail(Status::invalid("empty material name"));
    out[i].setName(parts[0]);
    out[i].setCount(1);
    out[i].setOriginal(true);
    out[i].setState(dflt);
    if (parts.size() > 1) {
      auto st = material_state(parts[1]);
      if (!st)
        fail(
            Status::invalid("material state '" + parts[1] + "' is not provided, missing or later"));
      out[i].setState(*st);
    }
    if (parts.size() > 2) {
      if (parts[2] != "copy" && parts[2] != "复印件" && parts[2] != "original" &&
          parts[2] != "原件")
        fail(Status::invalid("material form '" + parts[2] + "' is not original or copy"));
      out[i].setOriginal(parts[2] == "original" || parts[2] == "原件");
    }
    if (parts.size() > 3) fail(Status::invalid("material '" + in[i] + "' has too many parts"));
  }
}

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

// The staff roster (storage/roster.h): where this node holds one, the actor
// must be listed here, and acts with the role it lists. A refusal is
// recorded like any role refusal.
ActorOptions checked_person(const Opened& node, const ActorOptions& actor, EventKind kind,
                            const std::string& subject) {
  auto roster = storage::held_roster(*node.store);
  if (!roster.ok()) fail(roster.status());
  if (!*roster) return actor;
  const std::string code = node.store->code();
  const std::optional<proto::Role> claimed =
      actor.role.empty() ? std::nullopt : role_from_name(actor.role);
  auto role = storage::check_person(**roster, code, actor.name, actor.staff_id, claimed,
                                    actor.on_behalf_of);
  if (!role.ok()) {
    record_role_refusal(node, actor, actor_role(actor, code), kind, subject, role.status());
    refuse(role.status());
  }
  ActorOptions out = actor;
  out.role = role_name(*role);
  return out;
}

// The materials an application names, as storage/intake.h takes them.
std::vector<storage::GivenMaterial> given_materials(proto::Submitted::Builder sub) {
  std::vector<storage::GivenMaterial> given;
  for (auto m : sub.getMaterials().asReader())
    given.push_back({std::string(m.getName().cStr()), m.getOriginal(), m.getCount(), m.getState()});
  return given;
}

int cmd_submit(const fs::path& data, const SubmitArgs& a, const ActorOptions& given_actor,
               bool json) {
  auto node = open_node(data);
  const ActorOptions actor = checked_person(node, given_actor, EventKind::submitted, a.item);
  capnp::MallocMessageBuilder scratch;
  auto sub = scratch.initRoot<proto::Submitted>();
  if (!a.json_file.empty()) {
    const std::string text = read_file(a.json_file, kMaxSubmissionFileBytes);
    if (auto s = decode_submission_json(text, sub); !s)
      fail(Status::invalid(a.json_file + ": " + s.message()));
  } else {
    if (a.item.empty() || a.applicant.empty())
      fail(Status::invalid("submit needs --item and --applicant (or --json FILE)"));
    sub.setItemCode(a.item);
    sub.setItemName(a.item_name);
    auto ap = sub.initApplicant();
    ap.setName(a.applicant);
    ap.setIdNumber(a.id_number);
    ap.setPhone(a.phone);
    ap.setAddress(a.address);
    sub.setSummary(a.summary);
    sub.setCatalogVersion(a.catalog_version);
    auto fields = sub.initFields(static_cast<unsigned>(a.fields.size()));
    for (unsigned i = 0; i < a.fields.size(); ++i) {
      const auto eq = a.fields[i].find('=');
      if (eq == std::string::npos || eq == 0)
        fail(Status::invalid("form field '" + a.fields[i] + "' is not NAME=VALUE"));
      fields[i].setKey(a.fields[i].substr(0, eq));
      fields[i].setValue(a.fields[i].substr(eq + 1));
    }
    fill_materials(sub.initMaterials(static_cast<unsigned>(a.materials.size())), a.materials,
                   proto::MaterialState::PROVIDED);
    if (!a.fee_due.empty()) {
      auto fen = parse_yuan(a.fee_due);
      if (!fen) fail(Status::invalid("fee '" + a.fee_due + "' is not an amount in yuan"));
      sub.setFeeDue(*fen);
    }
  }
  // The applicant's ID number and phone (protocol/resident_id.h), checked
  // here where the application is made, never on receipt. A clock outside
  // the stamp range has no "today" to judge a birth date by: the store
  // refuses to stamp the event then, saying why (本机时钟不正确).
  if (const uint64_t wall = wall_clock_ms(); stamp_in_range(wall)) {
    if (auto s = check_applicant(sub.getApplicant(), china_day(wall)); !s) fail(s);
  }
  if (!a.home.empty() && !plausible_code(a.home))
    fail(Status::invalid("home '" + a.home + "' is not a division code"));
  // Who may register here (storage/authority.h), before anything else.
  {
    storage::ActContext ctx;
    ctx.node = node.store->code();
    ctx.role = actor_role(actor, ctx.node);
    ctx.kind = EventKind::submitted;
    ctx.home = a.home;
    if (auto s = storage::may_act(ctx); !s) {
      record_role_refusal(node, actor, ctx.role, ctx.kind, sub.getItemCode().cStr(), s);
      refuse(s);
    }
  }
  // Checked against the catalog held here (or the version the form names):
  // the item must be in it; a missing material that may follow later is
  // recorded as LATER (容缺); any other is recorded MISSING.
  std::optional<storage::IntakeCheck> check;
  {
    auto held = storage::held_catalog(*node.store, sub.getCatalogVersion());
    if (!held.ok() && held.status().code() == Code::not_found) {
      // No catalog held at all: the form's version is taken as given.
      auto newest = storage::held_catalog(*node.store);
      if (newest.ok() && !*newest) held = std::optional<storage::Catalog>();
    }
    if (!held.ok()) refuse(held.status());
    if (*held) {
      const storage::Catalog& cat = **held;
      const std::string item_code(sub.getItemCode().cStr());
      const storage::CatalogItem* item = cat.find(item_code);
      if (item == nullptr)
        refuse(Status::invalid("item '" + item_code + "' is not in the service catalog (version " +
                               std::to_string(cat.version) + ")"));
      sub.setCatalogVersion(cat.version);
      if (sub.getItemName().size() == 0) sub.setItemName(item->name);
      if (sub.getFeeDue() == 0) sub.setFeeDue(item->fee_fen);
      check = storage::check_intake(item, given_materials(sub));
    }
  }
  // 补办件, not refusal (storage/intake.h): an application whose required
  // materials are missing is registered, waiting (待补正) for all of them,
  // told at once (一次性告知).
  if (!check) check = storage::check_intake(nullptr, given_materials(sub));
  {
    auto out = sub.initMaterials(static_cast<unsigned>(check->materials.size()));
    for (unsigned i = 0; i < out.size(); ++i) {
      out[i].setName(check->materials[i].name);
      out[i].setOriginal(check->materials[i].original);
      out[i].setCount(check->materials[i].count);
      out[i].setState(check->materials[i].state);
    }
    sub.setSupplementCase(check->supplement_case());
  }
  storage::LocalDraft draft;
  draft.home = a.home;
  const std::string code = node.store->code();
  auto reader = sub.asReader();
  draft.fill = [&](proto::Event::Builder ev) {
    fill_actor(ev.initActor(), actor, code);
    ev.getBody().setSubmitted(reader);
  };
  auto stored = node.store->append_local(draft, node.identity.sign);
  if (!stored.ok()) fail(stored.status());
  if (json) {
    JsonWriter j;
    j.begin_object();
    j.field("case", format_id(stored->view.id()));
    j.field("lsn", stored->lsn);
    j.field("supplement_case", check->supplement_case());
    j.key("missing").begin_array();
    for (const auto& m : check->missing)
      j.value(m);
    j.end_array();
    j.end_object();
    print(j.str() + "\n");
  } else if (check->supplement_case()) {
    print("已登记 补办件 " + format_id(stored->view.id()) + "（待补正）\n一次性告知：请补齐以下 " +
          std::to_string(check->missing.size()) + " 项材料：" +
          storage::join_names(check->missing) + "\n");
  } else {
    print("已登记 办件 " + format_id(stored->view.id()) + "\n");
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
struct ListArgs {
  std::string status;
  bool conflict = false;
  bool overdue = false, warning = false;  // 超期 / 预警 (node/deadline_commands.cpp)
  std::string as_of;                      // judge deadlines as of this date
  CaseListArgs find;                      // search and paging (node/case_list_command.h)
};

int cmd_list(const fs::path& data, const ListArgs& a, bool json) {
  const std::string& status = a.status;
  storage::CaseFilter f;
  if (status == "conflict" || status == "冲突待处理") {
    f.conflict_only = true;
  } else if (!status.empty()) {
    f.status = storage::status_from_name(status);
    if (!f.status) fail(Status::invalid("unknown status '" + status + "'"));
  }
  if (a.conflict) f.conflict_only = true;
  if (a.overdue || a.warning)
    return list_by_deadline(data.string(), f, a.overdue, a.warning, a.as_of, json);
  if (!a.as_of.empty()) fail(Status::invalid("--as-of goes with --overdue or --warning"));
  CaseListArgs find = a.find;
  find.status = f.status;
  find.conflict_only = f.conflict_only;
  return list_cases_found(data.string(), find, json);
}

Id parse_case_id(const std::string& text) {
  auto id = parse_id(text);
  if (!id) fail(Status::invalid("'" + text + "' is not a case number like 360723101007-000042"));
  return *id;
}

int cmd_show(const fs::path& data, const std::string& id_text, bool json) {
  auto node = open_node(data);
  const Id id = parse_case_id(id_text);
  auto st = node.store->get_case(id);
  if (!st.ok()) fail(st.status());
  if (!*st) fail(Status::not_found("no case " + id_text + " here"));
  auto events = node.store->case_events(id);
  if (!events.ok()) fail(events.status());
  auto custody = read_custody(*node.store);
  if (!custody.ok()) fail(custody.status());
  const std::string& code = node.store->code();
  // A 咨询 (consult) item shows its question: the catalog version the case
  // was submitted with says, else the newest held; none held, not a consult.
  bool consult = false;
  {
    uint32_t version = 0;
    for (const auto& e : *events) {
      if (e.view.kind() == EventKind::submitted)
        version = e.view.event().getBody().getSubmitted().getCatalogVersion();
    }
    auto held = storage::held_catalog(*node.store, version);
    if (!held.ok() || !*held) held = storage::held_catalog(*node.store);
    if (held.ok() && *held) {
      const storage::CatalogItem* item = (*held)->find((*st)->item_code);
      consult = item != nullptr && item->handling == storage::Handling::consult;
    }
  }
  print(json ? render_case_json(**st, *events, &*custody, code, consult)
             : render_case(**st, *events, &*custody, code, consult));
  return 0;
}

// ---- act ------------------------------------------------------------------

struct ActArgs {
  std::string case_id;
  std::string due, note, to, reason, basis, certificate, text, method, comment, amount, receipt,
      against, department;
  std::vector<std::string> missing, provided, departments;
  bool approve = false, reject = false, settle = false;
  int score = 0;
};

bool yes_no(const ActArgs& a, const char* what) {
  if (a.approve == a.reject)
    fail(Status::invalid(std::string(what) + " needs exactly one of --approve or --reject"));
  return a.approve;
}

// Builds the body for `action`; throws CommandError on bad arguments.
void fill_body(const std::string& action, const ActArgs& a, const std::string& node_code,
               const storage::CaseState& st, proto::Event::Body::Builder b) {
  if (action == "accept") {
    if (!a.due.empty()) {
      if (auto why = due_date_problem(a.due, china_day(wall_clock_ms())))
        fail(Status::invalid("--due: " + *why));
    }
    auto x = b.initAccepted();
    x.setDueDate(a.due);
    x.setNote(a.note);
  } else if (action == "request-supplement") {
    if (a.missing.empty())
      fail(Status::invalid("request-supplement needs --missing (all of them at once)"));
    auto x = b.initSupplementRequested();
    fill_materials(x.initMissing(static_cast<unsigned>(a.missing.size())), a.missing,
                   proto::MaterialState::MISSING);
    x.setNote(a.note);
  } else if (action == "supplement") {
    if (a.provided.empty()) fail(Status::invalid("supplement needs --provided"));
    auto x = b.initSupplemented();
    fill_materials(x.initProvided(static_cast<unsigned>(a.provided.size())), a.provided,
                   proto::MaterialState::PROVIDED);
    x.setNote(a.note);
  } else if (action == "escalate") {
    std::string to = a.to.empty() ? parent_code(st.handler.empty() ? node_code : st.handler) : a.to;
    if (!plausible_code(to)) fail(Status::invalid("escalate: '" + to + "' is not a division code"));
    auto x = b.initEscalated();
    x.setTo(to);
    x.setNote(a.note);
  } else if (action == "assign") {
    if (a.departments.empty()) fail(Status::invalid("assign needs --dept (one or more)"));
    auto x = b.initAssigned();
    auto d = x.initDepartments(static_cast<unsigned>(a.departments.size()));
    for (unsigned i = 0; i < a.departments.size(); ++i)
      d.set(i, a.departments[i]);
    x.setNote(a.note);
  } else if (action == "opinion") {
    if (a.department.empty()) fail(Status::invalid("opinion needs --dept"));
    auto x = b.initOpinion();
    x.setDepartment(a.department);
    x.setApprove(yes_no(a, "opinion"));
    x.setText(a.text);
  } else if (action == "decide") {
    auto x = b.initDecided();
    x.setApproved(yes_no(a, "decide"));
    if (!a.approve && a.reason.empty())
      fail(Status::invalid("a refusal needs --reason (and --basis, the legal basis)"));
    x.setReason(a.reason);
    x.setLegalBasis(a.basis);
    x.setCertificateNo(a.certificate);
  } else if (action == "reply") {
    if (a.text.empty()) fail(Status::invalid("reply needs --text"));
    b.initReplied().setText(a.text);
  } else if (action == "deliver") {
    auto x = b.initDelivered();
    x.setMethod(a.method);
    x.setNote(a.note);
  } else if (action == "rate") {
    if (a.score < 1 || a.score > 5) fail(Status::invalid("rate needs --score from 1 to 5"));
    auto x = b.initRated();
    x.setScore(static_cast<uint8_t>(a.score));
    x.setComment(a.comment);
  } else if (action == "collect-fee") {
    auto fen = parse_yuan(a.amount);
    if (!fen || *fen <= 0) fail(Status::invalid("collect-fee needs --amount in yuan, e.g. 200.00"));
    if (a.receipt.empty())
      fail(Status::invalid("collect-fee needs --receipt (the receipt number)"));
    auto x = b.initFeeCollected();
    x.setAmount(*fen);
    x.setReceiptNo(a.receipt);
    x.setReason(a.reason);
  } else if (action == "close") {
    b.initClosed().setNote(a.note);
  } else if (action == "not-accept") {
    if (a.reason.empty())
      fail(Status::invalid(
          "不予受理须写明理由 --reason（及法律依据 --basis） (not-accept needs --reason)"));
    auto x = b.initNotAccepted();
    x.setReason(a.reason);
    x.setLegalBasis(a.basis);
  } else if (action == "withdraw") {
    b.initWithdrawn().setReason(a.reason);
  } else if (action == "comment") {
    if (a.text.empty()) fail(Status::invalid("comment needs --text"));
    b.initComment().setText(a.text);
  } else if (action == "complain") {
    if (a.text.empty()) fail(Status::invalid("complain needs --text"));
    if (!a.against.empty() && !plausible_code(a.against))
      fail(Status::invalid("complain: --against '" + a.against + "' is not a division code"));
    auto x = b.initComplaint();
    x.setText(a.text);
    x.setAgainst(a.against);
  } else {
    fail(Status::invalid("unknown action '" + action + "'"));
  }
}

// The catalog rules of the case's item: from the catalog version the case
// was submitted with, or the newest held when that version is not held
// here (or the case named none); nullopt when no held catalog lists it.
std::optional<storage::ItemRules> case_item_rules(const storage::Store& store,
                                                  const storage::CaseState& st) {
  uint32_t version = 0;
  auto events = store.case_events(st.case_id);
  if (events.ok()) {
    for (const auto& e : *events) {
      if (e.view.kind() == EventKind::submitted)
        version = e.view.event().getBody().getSubmitted().getCatalogVersion();
    }
  }
  auto held = storage::held_catalog(store, version);
  if (!held.ok() && version != 0) held = storage::held_catalog(store);
  if (!held.ok() || !*held) return std::nullopt;
  return storage::item_rules(**held, st.item_code);
}

// The event kind an `act` subcommand makes.
EventKind action_kind(const std::string& action) {
  static const std::pair<const char*, EventKind> kinds[] = {
      {"accept", EventKind::accepted},
      {"request-supplement", EventKind::supplement_requested},
      {"supplement", EventKind::supplemented},
      {"escalate", EventKind::escalated},
      {"assign", EventKind::assigned},
      {"opinion", EventKind::opinion},
      {"decide", EventKind::decided},
      {"reply", EventKind::replied},
      {"deliver", EventKind::delivered},
      {"rate", EventKind::rated},
      {"collect-fee", EventKind::fee_collected},
      {"close", EventKind::closed},
      {"withdraw", EventKind::withdrawn},
      {"comment", EventKind::comment},
      {"complain", EventKind::complaint},
      {"not-accept", EventKind::not_accepted},
  };
  for (const auto& [name, kind] : kinds) {
    if (action == name) return kind;
  }
  fail(Status::invalid("unknown action '" + action + "'"));
}

int cmd_act(const fs::path& data, const std::string& action, const ActArgs& a,
            const ActorOptions& given_actor, bool json) {
  auto node = open_node(data);
  const ActorOptions actor = checked_person(node, given_actor, action_kind(action), a.case_id);
  const Id id = parse_case_id(a.case_id);
  auto st = node.store->get_case(id);
  if (!st.ok()) fail(st.status());
  if (!*st) fail(Status::not_found("no case " + a.case_id + " here"));
  const std::string code = node.store->code();
  // Build the body once up front so argument errors surface before writing.
  capnp::MallocMessageBuilder scratch;
  auto probe = scratch.initRoot<proto::Event>();
  fill_body(action, a, code, **st, probe.getBody());
  // Whether this node and role may take the action (storage/authority.h).
  {
    storage::ActContext ctx;
    ctx.node = code;
    ctx.role = actor_role(actor, code);
    ctx.kind = action_kind(action);
    ctx.state = &**st;
    if (ctx.kind == EventKind::decided || ctx.kind == EventKind::replied)
      ctx.item = case_item_rules(*node.store, **st);
    if (auto s = storage::may_act(ctx); !s) {
      record_role_refusal(node, actor, ctx.role, ctx.kind, a.case_id, s);
      refuse(s);
    }
  }
  // A 容缺 material still outstanding blocks 办结 (storage/intake.h).
  if (auto s = storage::may_complete(**st, action_kind(action), a.approve); !s) refuse(s);
  // The amount collected is what the case owes (its fee due, else the
  // catalog's fee for the item) unless a reason is given (storage/fees.h).
  if (action == "collect-fee") {
    int64_t due = (*st)->fee_due;
    if (due == 0) {
      if (auto rules = case_item_rules(*node.store, **st)) due = rules->fee_fen;
    }
    auto fee = probe.getBody().getFeeCollected().asReader();
    if (auto why =
            storage::fee_amount_problem(fee.getAmount(), due, (*st)->fee_collected, a.reason))
      fail(Status::invalid(*why));
  }
  storage::LocalDraft draft;
  draft.case_id = id;
  const auto conflicts = (*st)->conflicts;
  draft.fill = [&](proto::Event::Builder ev) {
    fill_actor(ev.initActor(), actor, code);
    if (a.settle) {
      auto s = ev.initSettles(static_cast<unsigned>(conflicts.size()));
      for (unsigned i = 0; i < s.size(); ++i)
        write_id(s[i], conflicts[i]);
    }
    fill_body(action, a, code, **st, ev.getBody());
  };
  auto stored = node.store->append_local(draft, node.identity.sign);
  if (!stored.ok()) refuse(stored.status());
  auto after = node.store->get_case(id);
  if (!after.ok() || !*after) fail(Status::internal("case vanished after an action"));
  if (json) {
    print("{\"event\":\"" + format_id(stored->view.id()) + "\",\"case\":\"" + a.case_id +
          "\",\"status\":\"" + status_label(**after) + "\",\"lsn\":" + std::to_string(stored->lsn) +
          "}\n");
  } else {
    print(std::string("已记录 ") + kind_name_zh(stored->view.kind()) + " " +
          format_id(stored->view.id()) + "  办件 " + a.case_id + " 现为 " +
          status_label_zh(**after) + "\n");
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
    JsonWriter j;
    j.begin_object();
    j.field("code", node.store->code());
    j.field("sign_key", sign);
    j.field("curve_key", curve);
    j.field("store_id", node.store->store_id());
    j.end_object();
    print(j.str() + "\n");
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
  JsonWriter j;
  std::string text;
  j.begin_array();
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
      j.begin_object();
      j.field("lsn", lsn);
      j.field("id", format_id(ev->id()));
      j.field("case", case_id);
      j.field("kind", kind_name(ev->kind()));
      j.field("origin", ev->id().origin);
      j.field("home", home);
      j.field("broadcast", broadcast);
      j.field("lineage", is_lineage(ev->kind()));
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
      j.field("superseded", superseded);
      const Refusal* r = custody->refusal_of(ev->id());
      j.field("refused_by", r != nullptr ? r->by : std::string());
      j.end_object();
    } else {
      text += fmt::format("{:>8}  {:<22} {:<22} {:<12} {}\n", lsn, format_id(ev->id()),
                          broadcast ? "(通知)" : case_id, home, kind_name_zh(ev->kind()));
    }
    return true;
  });
  if (!s) fail(s);
  if (!bad) fail(bad);
  j.end_array();
  print(json ? j.str() + "\n" : text);
  return 0;
}

// ---- publish (broadcast to the subtree) ---------------------------------------

int cmd_publish(const fs::path& data, const std::string& what, uint32_t number,
                const std::string& file, const ActorOptions& actor, bool json) {
  const std::string doc = read_file(file, kMaxNoticeFileBytes);
  // The document must be what it claims, with the number it claims: the
  // same checks as `catalog publish` and `calendar publish`.
  if (what == "calendar") {
    auto cal = storage::parse_calendar(doc, file);
    if (!cal.ok()) fail(cal.status());
    if (static_cast<uint32_t>(cal->year) != number)
      fail(Status::invalid(
          fmt::format("{} is the calendar of {}, not --year {}", file, cal->year, number)));
  } else {
    auto cat = storage::parse_catalog(doc, file);
    if (!cat.ok()) fail(cat.status());
    if (cat->version != number)
      fail(Status::invalid(
          fmt::format("{} says version {}, not --version {}", file, cat->version, number)));
  }
  auto node = open_node(data);
  const std::string code = node.store->code();
  check_actor_level(actor, code);
  if (code.size() != 6)
    refuse(Status::invalid(
        fmt::format("只有县级节点发布{}，本节点是{} {} (only the county publishes "
                    "the {})",
                    what == "calendar" ? "工作日历" : "事项目录", level_name_zh(code), code,
                    what == "calendar" ? "working-day calendar" : "catalog")));
  if (what == "catalog") {
    auto held = node.store->notices(EventKind::catalog_published);
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
    fill_actor(ev.initActor(), actor, code);
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
  auto stored = node.store->append_local(draft, node.identity.sign);
  if (!stored.ok()) fail(stored.status());
  if (json) {
    print("{\"event\":\"" + format_id(stored->view.id()) +
          "\",\"lsn\":" + std::to_string(stored->lsn) + "}\n");
  } else {
    print(std::string("已发布 ") + kind_name_zh(stored->view.kind()) + " " +
          format_id(stored->view.id()) + "，下发至 " + code + " 辖区全部节点\n");
  }
  return 0;
}

// ---- status -------------------------------------------------------------------

// `as_of`: judge deadlines as of the end of that China day (empty: now).
int cmd_status(const fs::path& data, bool json, const std::string& as_of) {
  uint64_t now = wall_clock_ms();
  if (!as_of.empty()) {
    auto d = storage::parse_date(as_of);
    if (!d) fail(Status::invalid("--as-of '" + as_of + "' is not a date YYYY-MM-DD"));
    now = static_cast<uint64_t>(storage::days_from_date(*d) + 1) * 86'400'000 - 8 * 3'600'000 - 1;
  }
  StatusReport r;
  if (t_ctx != nullptr) {
    r = t_ctx->status();
  } else {
    // No daemon: what the store alone can tell.
    auto node = open_node(data);
    auto st = node.store->stats();
    if (!st.ok()) fail(st.status());
    r.code = node.store->code();
    r.store_id = node.store->store_id();
    r.events = st->events;
    r.cases = st->cases;
    r.last_lsn = st->last_lsn;
    r.next_seq = st->next_seq;
    r.store_full_since_ms = node.store->full_since_ms();
  }
  // Deadlines of the cases held, the same inside the daemon (its store) and
  // without one.
  {
    auto node = open_node(data);
    auto counts = count_deadlines(*node.store, now);
    if (!counts.ok()) fail(counts.status());
    r.overdue = counts->overdue;
    r.warning = counts->warning;
    auto held = node.store->quarantined();
    if (!held.ok()) fail(held.status());
    r.quarantined = held->size();
    auto own = own_refusals(*node.store);
    if (!own.ok()) fail(own.status());
    for (const auto& o : *own) {
      r.refused.push_back({format_id(o.refusal.id), o.case_id.empty() ? "" : format_id(o.case_id),
                           refusal_text(o.refusal), o.refusal.reason, o.refusal.by,
                           cause_name(o.refusal.cause), o.open,
                           o.reissued_as ? format_id(*o.reissued_as) : ""});
    }
  }
  print(json ? render_status_json(r) : render_status(r));
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
// daemon (node/control_request.h).
std::vector<std::string> forwarded_request(int argc, char** argv,
                                           const std::vector<std::string>& files) {
  ControlRequest r;
  for (int i = 1; i < argc; ++i)
    r.args.emplace_back(argv[i]);
  for (const auto& f : files) {
    if (f.empty() || r.files.count(f) != 0) continue;
    r.files.emplace(f, read_file(f, kMaxForwardedFileBytes));
  }
  return encode_control_request(r);
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
      {"escalate", "上报: pass to the level above"},
      {"assign", "分派: assign departments (several = joint handling)"},
      {"opinion", "部门意见: one department's opinion on a joint case"},
      {"decide", "办结: approve or refuse with reason and legal basis"},
      {"reply", "答复: answer a consultation"},
      {"deliver", "回复: the result was handed to the applicant"},
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
    if (n == "accept") c->add_option("--due", act.due, "committed date YYYY-MM-DD");
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return t_ctx ? 2 : app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return t_ctx ? 2 : app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(e.what());
    return 2;
  }

  try {
    if (c_run->parsed()) {
      if (t_ctx != nullptr) fail(Status::invalid("the daemon is already running"));
      auto cfg = config::load_config(run_config);
      if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
      return run_daemon(std::get<config::NodeConfig>(cfg), run_level);
    }
    // Writes (and status) go through a daemon running on the same data
    // directory, so its single writer takes them and sends them on at once.
    const CommandSpec* module = nullptr;
    for (const auto& m : modules) {
      if (m.app->parsed()) module = &m;
    }
    const bool through_daemon = c_submit->parsed() || c_act->parsed() || c_publish->parsed() ||
                                c_trust->parsed() || c_status->parsed() ||
                                (module != nullptr && module->through_daemon);
    if (through_daemon && t_ctx == nullptr && !data.empty()) {
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
    if (t_ctx != nullptr && !through_daemon && !c_list->parsed() && !c_show->parsed() &&
        !c_events->parsed() && !c_keys_show->parsed() && !c_check->parsed() &&
        !(module != nullptr && module->in_daemon))
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
    print_error(e.status.message());
    return e.refused ? 1 : exit_code(e.status);
  }
  return 2;
}

}  // namespace

int run_cli(int argc, char** argv) {
  return dispatch(argc, argv);
}

int run_cli_in_daemon(const std::vector<std::string>& frames, DaemonContext& ctx, std::string& out,
                      std::string& err) {
  auto request = decode_control_request(frames, kMaxForwardedFileBytes);
  if (!request.ok()) {
    err += "错误：" + request.status().message() + "\n";
    return 2;
  }
  std::vector<std::string> owned;
  owned.reserve(request->args.size() + 1);
  owned.push_back("liandong");
  owned.insert(owned.end(), request->args.begin(), request->args.end());
  std::vector<char*> argv;
  for (auto& a : owned)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  t_ctx = &ctx;
  t_out = &out;
  t_err = &err;
  t_files = &request->files;
  int rc = 1;
  try {
    rc = dispatch(static_cast<int>(owned.size()), argv.data());
  } catch (const std::exception& e) {
    err += std::string("错误：") + e.what() + "\n";
    rc = 1;
  }
  t_ctx = nullptr;
  t_out = nullptr;
  t_err = nullptr;
  t_files = nullptr;
  return rc;
}

}  // namespace liandong::node
