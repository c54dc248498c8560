// The `liandong` commands and recording calls of the audit log (审计日志):
//   audit [--since T] [--json]   the audit events held here, oldest first
// and the CLI's recording of administrative commands and role refusals
// (node/commands.h).
#include <pwd.h>
#include <unistd.h>

#include <memory>

#include "node/audit_log.h"
#include "node/commands.h"
#include "node/json_text.h"
#include "node/render.h"
#include "node/report.h"
#include "protocol/hlc.h"

namespace liandong::node {

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr int64_t kChinaOffsetMs = 8LL * 3600 * 1000;

// "2026-11-22" or "2026-11-22T08:30" (China time) -> ms since the epoch.
std::optional<uint64_t> parse_since(const std::string& text) {
  auto day = parse_date(std::string_view(text).substr(0, 10));
  if (!day) return std::nullopt;
  int64_t minutes = 0;
  if (text.size() != 10) {
    if (text.size() != 16 || (text[10] != 'T' && text[10] != ' ') || text[13] != ':')
      return std::nullopt;
    for (std::size_t i : {11, 12, 14, 15}) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
    }
    const int64_t h = (text[11] - '0') * 10 + (text[12] - '0');
    const int64_t m = (text[14] - '0') * 10 + (text[15] - '0');
    if (h > 23 || m > 59) return std::nullopt;
    minutes = h * 60 + m;
  }
  const int64_t ms = *day * kDayMs + minutes * 60000 - kChinaOffsetMs;
  if (ms < 0) return 0;
  return static_cast<uint64_t>(ms);
}

const char* what_name(proto::AuditWhat w) {
  switch (w) {
    case proto::AuditWhat::CONNECTION_ADMITTED:
      return "connection_admitted";
    case proto::AuditWhat::CONNECTION_REFUSED:
      return "connection_refused";
    case proto::AuditWhat::EVENT_REFUSED:
      return "event_refused";
    case proto::AuditWhat::ROLE_REFUSED:
      return "role_refused";
    case proto::AuditWhat::KEY_CHANGED:
      return "key_changed";
    case proto::AuditWhat::ADMIN_COMMAND:
      return "admin_command";
    case proto::AuditWhat::EVENT_QUARANTINED:
      return "event_quarantined";
    case proto::AuditWhat::DESK_LOGIN:
      return "desk_login";
    case proto::AuditWhat::DESK_LOGIN_REFUSED:
      return "desk_login_refused";
    case proto::AuditWhat::DESK_REQUEST_REFUSED:
      return "desk_request_refused";
    case proto::AuditWhat::NODE_ENROLLED:
      return "node_enrolled";
    case proto::AuditWhat::ENROLL_REFUSED:
      return "enroll_refused";
  }
  return "unknown";
}

const char* what_name_zh(proto::AuditWhat w) {
  switch (w) {
    case proto::AuditWhat::CONNECTION_ADMITTED:
      return "连接准入";
    case proto::AuditWhat::CONNECTION_REFUSED:
      return "连接拒绝";
    case proto::AuditWhat::EVENT_REFUSED:
      return "拒收事件";
    case proto::AuditWhat::ROLE_REFUSED:
      return "越权操作";
    case proto::AuditWhat::KEY_CHANGED:
      return "密钥变更";
    case proto::AuditWhat::ADMIN_COMMAND:
      return "管理操作";
    case proto::AuditWhat::EVENT_QUARANTINED:
      return "隔离事件";
    case proto::AuditWhat::DESK_LOGIN:
      return "办事台登录";
    case proto::AuditWhat::DESK_LOGIN_REFUSED:
      return "登录失败";
    case proto::AuditWhat::DESK_REQUEST_REFUSED:
      return "办事台拒绝";
    case proto::AuditWhat::NODE_ENROLLED:
      return "入网";
    case proto::AuditWhat::ENROLL_REFUSED:
      return "入网拒绝";
  }
  return "未知";
}

std::string str(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

// Who the record is about: the person (with role), address or peer, with
// the peer's code where it is not the recording node's own.
std::string who_of(const EventView& v) {
  auto a = v.event().getBody().getAudit();
  auto actor = v.event().getActor();
  std::string who = str(a.getWho());
  const std::string code = str(a.getPeerCode());
  if (!code.empty() && code != who && code != v.id().origin)
    who = who.empty() ? code : who + " (" + code + ")";
  if (actor.getRole() != proto::Role::SYSTEM) {
    const std::string name = str(actor.getName());
    const std::string person = name + " " + role_name_zh(actor.getRole());
    who = who.empty() || who == name ? person : person + " " + who;
  }
  return who.empty() ? "-" : who;
}

int cmd_audit(const std::string& data, const std::string& since, bool json) {
  uint64_t since_hlc = 0;
  if (!since.empty()) {
    auto ms = parse_since(since);
    if (!ms)
      fail(Status::invalid("--since '" + since +
                           "' is not a time like 2026-11-22 or 2026-11-22T08:30 (北京时间)"));
    since_hlc = make_hlc(*ms, 0);
  }
  auto node = open_node(data);
  auto events = node.store->audit_events(since_hlc);
  if (!events.ok()) fail(events.status());
  Json j = Json::array();
  std::string text;
  if (!json && !events->empty()) {
    text += pad("时间", 20) + "  " + pad("节点", 12) + "  " + pad("事项", 8) + "  " +
            pad("对象", 24) + "  " + pad("内容", 28) + "  " + pad("原因", 24) + "  次数\n";
  }
  for (const auto& e : *events) {
    auto ev = e.view.event();
    auto a = ev.getBody().getAudit();
    auto actor = ev.getActor();
    if (json) {
      j.push_back(Json{{"id", format_id(e.view.id())},
                       {"node", e.view.id().origin},
                       {"time", format_time(a.getLastMs())},
                       {"first_ms", a.getFirstMs()},
                       {"last_ms", a.getLastMs()},
                       {"what", what_name(a.getWhat())},
                       {"what_zh", what_name_zh(a.getWhat())},
                       {"peer_code", str(a.getPeerCode())},
                       {"who", str(a.getWho())},
                       {"actor", str(actor.getName())},
                       {"actor_role", role_name(actor.getRole())},
                       {"subject", str(a.getSubject())},
                       {"reason", str(a.getReason())},
                       {"count", static_cast<uint64_t>(a.getCount())}});
      continue;
    }
    const std::string who = who_of(e.view);
    text += pad(format_time(a.getFirstMs()), 20) + "  " + pad(e.view.id().origin, 12) + "  " +
            pad(what_name_zh(a.getWhat()), 8) + "  " + pad(who, 24) + "  " +
            pad(a.getSubject().size() == 0 ? "-" : str(a.getSubject()), 28) + "  " +
            pad(a.getReason().size() == 0 ? "-" : str(a.getReason()), 24) + "  " +
            std::to_string(a.getCount());
    if (a.getCount() > 1) text += "（至 " + format_time(a.getLastMs()) + "）";
    text += "\n";
  }
  if (json) {
    print(json_text(j) + "\n");
  } else {
    print(text.empty() ? "没有审计记录\n" : text);
  }
  return 0;
}

// The OS account running the command (the control socket admits only it).
std::string os_user() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr)
    return pw->pw_name;
  return "uid " + std::to_string(::geteuid());
}

// "catalog publish": the subcommand's path below the program.
std::string command_path(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent())
    path = path.empty() ? a->get_name() : a->get_name() + " " + path;
  return path;
}

// The command's options as given, without the data directory and output
// flags: "--version 3 --file /srv/catalog-v3.toml".
std::string command_args(const CLI::App* app) {
  std::string out;
  for (const CLI::Option* o : app->get_options()) {
    if (o->count() == 0) continue;
    const std::string name = o->get_name();
    if (name == "--data" || name == "--json" || name == "--help") continue;
    for (const auto& r : o->results()) {
      if (!out.empty()) out += ' ';
      if (o->nonpositional()) out += name + " ";
      out += r;
    }
  }
  return out;
}

}  // namespace

int audited_command(const CLI::App* app, const std::string& data, const ActorOptions& actor,
                    int rc) {
  // Not `init`: a store just made (or replaced) must not make events before
  // it has heard from its peers which of its sequence numbers are taken.
  static const char* const kAdmin[] = {"publish calendar",  "publish catalog", "catalog publish",
                                       "calendar publish",  "keys trust",      "keys rotate",
                                       "keys revoke",       "keys publish",    "roster publish",
                                       "publish divisions", "bundle import",   "bundle export"};
  if (rc != 0 || app == nullptr) return rc;
  const std::string path = command_path(app);
  bool admin = false;
  for (const char* a : kAdmin)
    admin = admin || path == a;
  if (!admin) return rc;
  try {
    auto node = open_node(data);
    AuditNote n;
    n.what =
        path.starts_with("keys ") ? proto::AuditWhat::KEY_CHANGED : proto::AuditWhat::ADMIN_COMMAND;
    n.peer_code = node.store->code();
    n.who = actor.name.empty() ? "OS user " + os_user() : actor.name;
    n.actor_name = actor.name;
    if (!actor.name.empty()) n.actor_role = role_from_name(actor.role).value_or(proto::Role::CLERK);
    const std::string args = command_args(app);
    n.subject = args.empty() ? path : path + " " + args;
    if (path == "keys trust") n.reason = "trusted by an operator (keys trust)";
    if (path == "keys rotate")
      n.reason = app->count("--link") > 0 ? "this node's link key was rotated"
                                          : "this node's signing key was rotated";
    record_audit(*node.store, node.identity.sign, n);
  } catch (const CommandError&) {
    // Recording never fails the command it records.
  }
  return rc;
}

void record_role_refusal(const Opened& node, const ActorOptions& actor, proto::Role role,
                         EventKind kind, const std::string& subject, const Status& why) {
  app::record_role_refusal(app::Context{*node.store, node.identity.sign},
                           app::RoleRefusal{actor.name, role, kind, subject}, why);
}

void add_audit_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto since = std::make_shared<std::string>();
  auto* c_audit = app.add_subcommand(
      "audit", "the audit log held here: this node's and its subtree's (审计日志)");
  shared.add_data(c_audit);
  c_audit->add_option("--since", *since,
                      "only records from this time on (YYYY-MM-DD or YYYY-MM-DDTHH:MM, 北京时间)");
  c_audit->add_flag("--json", shared.json, "print JSON");
  std::string& data = shared.data;
  bool& json = shared.json;
  out.push_back(
      {.app = c_audit, .run = [since, &data, &json] { return cmd_audit(data, *since, json); }});
}

}  // namespace liandong::node
