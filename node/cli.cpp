#include "node/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "config/input_file.h"
#include "config/node_config.h"
#include "node/command_table.h"
#include "node/commands.h"
#include "node/control.h"
#include "node/daemon.h"
#include "node/input_checks.h"
#include "node/input_files.h"
#include "node/render.h"
#include "node/text_escape.h"

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
  return open_node(data, 0);
}

Opened open_node(const fs::path& data, uint64_t max_blob_bytes) {
  if (t_ctx != nullptr)
    return Opened{nullptr, t_ctx->store, *t_ctx->identity, t_ctx->data, t_ctx->identity};
  if (data.empty()) throw CommandError{Status::invalid("no data directory: give --data DIR")};
  storage::StoreOptions options{store_dir(data)};
  options.max_blob_bytes = max_blob_bytes;
  auto store = storage::Store::open(options);
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

// Fails the command with an operation's error (node/app/result.h).
[[noreturn]] void fail_with(const app::AppError& e) {
  throw CommandError{e.status, e.refused};
}

storage::StoredEvent store_publication(
    const Opened& node, const ActorOptions& actor, const std::string& doc,
    const std::function<void(proto::Event::Body::Builder, capnp::Data::Reader)>& fill_body) {
  storage::LocalDraft draft;
  draft.fill = [&](proto::Event::Builder ev) {
    fill_actor(ev.initActor(), actor, node.store->code());
    fill_body(ev.getBody(),
              capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(doc.data()), doc.size()));
  };
  auto stored = node.store->append_local(draft, node.identity.sign);
  if (!stored.ok()) fail(stored.status());
  return std::move(stored).value();
}

app::Context app_context(const Opened& node) {
  return app::Context{*node.store, node.identity.sign};
}

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
  // --config FILE stands for --data with the config's node.data (an
  // installed node: /etc/liandong/liandong.toml).
  std::string data_config;
  auto add_data = [&](CLI::App* c) {
    c->add_option("--data", data, "data directory (default: $LIANDONG_DATA)");
    c->add_option("--config", data_config, "the node's config file, for its data directory");
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

  CliShared shared{data, json, actor, add_data, add_actor};
  shared.config = &data_config;
  CommandSet modules;
  add_case_commands(app, shared, modules);

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

  // Commands of the modules (cases, catalog, deadlines, reports, ...).
  add_catalog_commands(app, shared, modules);
  add_attachment_commands(app, shared, modules);
  add_deadline_commands(app, shared, modules);
  add_report_commands(app, shared, modules);
  add_supervision_commands(app, shared, modules);
  add_audit_commands(app, shared, modules);
  add_key_commands(app, shared, modules);
  add_roster_commands(app, shared, modules);
  add_sync_commands(app, shared, modules);
  add_refusal_commands(app, shared, modules);
  add_import_commands(app, shared, modules);
  add_division_commands(app, shared, modules);
  add_desk_commands(app, shared, modules);
  add_enroll_commands(app, shared, modules);
  add_backup_commands(app, shared, modules);
  add_bundle_commands(app, shared, modules);
  add_export_commands(app, shared, modules);

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
    if (!data_config.empty()) {
      auto cfg = config::load_config(data_config);
      if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
      const std::string from_config = std::get<config::NodeConfig>(cfg).data.string();
      if (t_ctx == nullptr && !data.empty() && std::getenv("LIANDONG_DATA") == nullptr &&
          fs::absolute(data) != fs::absolute(from_config))
        fail(Status::invalid("--data " + data + " and the config's node.data " + from_config +
                             " differ"));
      data = from_config;
    }
    if (c_run->parsed()) {
      if (t_ctx != nullptr) fail(Status::invalid("the daemon is already running"));
      auto cfg = config::load_config(run_config);
      if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
      return run_daemon(std::get<config::NodeConfig>(cfg), run_config, run_level,
                        run_cli_in_daemon);
    }
    // Writes (and status) go through a daemon running on the same data
    // directory, so its single writer takes them and sends them on at once;
    // which commands do is said once, in node/command_table.h.
    const std::string path = parsed_path(app);
    const CommandSpec* module = nullptr;
    for (const auto& m : modules) {
      if (m.app->parsed()) module = &m;
    }
    const bool run_here = std::any_of(shared.run_here.begin(), shared.run_here.end(),
                                      [](const auto& f) { return f(); });
    if (sent_to_daemon(path) && t_ctx == nullptr && !data.empty() && !run_here) {
      if (auto d = find_daemon(data)) {
        std::vector<std::string> forwarded_files = {publish_file};
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
