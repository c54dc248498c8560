// The commands behind the CLI, one function each, shared by cli.cpp.
//
// Thread contract: called once per process from main's thread.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/node_config.h"
#include "node/app/actor.h"
#include "node/app/attachments.h"
#include "node/app/context.h"
#include "node/app/result.h"
#include "node/identity.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::node {

// Carried out a command failed: printed as "错误：<message>".
// `refused`: the input was well formed but the node will not take the
// action (the workflow does not allow it here and now): exit code 1.
struct CommandError {
  Status status;
  bool refused = false;
};

int exit_code(const Status& s);

// Options every action shares: who acts (node/app/actor.h).
using ActorOptions = app::Actor;

struct Opened {
  std::unique_ptr<storage::Store> owned;  // empty inside the daemon (its store)
  storage::Store* store = nullptr;
  Identity identity;
  std::filesystem::path data_dir;     // the node's data directory
  Identity* identity_slot = nullptr;  // inside the daemon: the daemon's keys
};
// Opens the store and keys in `data`, or throws CommandError. Inside the
// daemon (a command from the control socket) it hands out the daemon's.
Opened open_node(const std::filesystem::path& data);
// The same, with attachment chunks limited to `max_blob_bytes` (0: the
// disk only; StoreOptions::max_blob_bytes).
Opened open_node(const std::filesystem::path& data, uint64_t max_blob_bytes);

// Refuses (exit 1) a --role that does not act at this node's level: an
// agent acts only at a village, every other role only at a township or
// above (storage/authority.h, rule 2). No --role: nothing to check.
void check_actor_level(const ActorOptions& a, const std::string& node_code);
// Fills the actor of an event from the options (default role from level).
using app::fill_actor;

// Failing a command: bad input (exit 2) or a refusal (exit 1).
[[noreturn]] void fail(Status s);
[[noreturn]] void refuse(Status s);
// Fails the command with an operation's error (node/app/result.h).
[[noreturn]] void fail_with(const app::AppError& e);
// Stores a document this node publishes to its subtree (catalog, calendar,
// roster, divisions) as its own event, signed with its key and acted by
// `actor`: `fill_body` starts the event's body and sets its number and the
// document's bytes. Fails the command when the store refuses it.
storage::StoredEvent store_publication(
    const Opened& node, const ActorOptions& actor, const std::string& doc,
    const std::function<void(proto::Event::Body::Builder, capnp::Data::Reader)>& fill_body);
// The application layer's context on `node`'s store and signing key.
app::Context app_context(const Opened& node);
// Output of a command: stdout, or the control socket's reply in the daemon.
void print(const std::string& s);
void print_error(const std::string& message);
// Whether the command runs inside the daemon (sent over the control socket).
bool in_daemon();
// The whole file, at most `max_bytes` (node/input_files.h), or fail()
// naming it: a regular file only (config/input_file.h). Inside the daemon,
// the bytes the CLI sent with the command (protocol/control.capnp); the
// daemon never opens the path.
std::string read_file(const std::string& path, std::size_t max_bytes);

// ---- commands added by the workflow modules (node/*_commands.cpp) ----------

// What every command shares: filled by CLI11 while parsing.
struct CliShared {
  std::string& data;  // --data, or $LIANDONG_DATA
  bool& json;         // --json
  ActorOptions& actor;
  std::function<void(CLI::App*)> add_data;   // adds --data to a subcommand
  std::function<void(CLI::App*)> add_actor;  // adds --actor, --role, ...
  // File arguments of a module's commands: read by the CLI and sent with
  // the command when it goes to a daemon (protocol/control.capnp).
  std::vector<const std::string*> files{};
  // Whether the parsed command runs in the CLI's own process even when a
  // daemon runs (it writes the store directly, as LMDB allows): a command
  // with --attach, whose files may be larger than the control socket
  // carries (node/attachment_commands.cpp).
  std::vector<std::function<bool()>> run_here{};
  // --config FILE given with --data's commands (the node's config file; its
  // node.data stands for --data); null: none.
  const std::string* config = nullptr;
};

// A command a module adds: its CLI11 subcommand and what runs it once
// parsed (returns the exit code; fails with fail()/refuse()).
struct CommandSpec {
  CLI::App* app = nullptr;
  std::function<int()> run;
  // Whether it goes to a running daemon: node/command_table.h, by name.
};
using CommandSet = std::vector<CommandSpec>;

// `submit`, `case list`, `case show`, `act ...` (node/case_commands.cpp);
// added before the others, which add to its `case` command.
void add_case_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_catalog_commands(CLI::App& app, CliShared& shared, CommandSet& out);
// `attachment list`, `attachment get` (node/attachment_commands.cpp).
void add_attachment_commands(CLI::App& app, CliShared& shared, CommandSet& out);

// ---- attached files (node/attachment_commands.cpp) -------------------------

// What a command with --attach reads from --config FILE (optional): the
// node config's [attachments], and the data directory when --data is not
// given. Without --config: the defaults (docs in config/node_config.h).
struct AttachConfig {
  std::string config_file;
  config::AttachmentSettings settings{};
};
// Reads --config (fails the command on a bad config); fills `data` from
// it when empty.
AttachConfig load_attach_config(const std::string& config_file, std::string& data);
// The files of --attach MATERIAL=FILE (repeatable), read whole (at most
// kMaxAttachmentBytes each); fails the command on a malformed spec or a
// file that cannot be read.
std::vector<app::GivenFile> read_attachments(const std::vector<std::string>& specs);

void add_deadline_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_report_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_supervision_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_audit_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_key_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_roster_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_refusal_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_sync_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_import_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_division_commands(CLI::App& app, CliShared& shared, CommandSet& out);
void add_desk_commands(CLI::App& app, CliShared& shared, CommandSet& out);
// `enroll create|list|remove`, `join` (node/enroll_commands.cpp).
void add_enroll_commands(CLI::App& app, CliShared& shared, CommandSet& out);
// `bundle export|import|show` (node/bundle_commands.cpp).
void add_bundle_commands(CLI::App& app, CliShared& shared, CommandSet& out);
// `backup`, `restore` (node/backup_commands.cpp; node/backup.h).
void add_backup_commands(CLI::App& app, CliShared& shared, CommandSet& out);
// `export postgres` (node/export_commands.cpp, docs/ANALYTICS.md).
void add_export_commands(CLI::App& app, CliShared& shared, CommandSet& out);
// The desk's certificate in DATA/desk/ (made at `init`; kept if there is one).
Status make_desk_certificate(const std::filesystem::path& data, const std::string& code);

// ---- the node's own commands (node/node_commands.cpp) ----------------------

// The options of `init`.
struct InitArgs {
  std::string data, code;
  bool force = false;
  bool keep_keys = false;
};
int cmd_init(const InitArgs& a);
int cmd_keys_trust(const std::filesystem::path& data, const std::string& code,
                   const std::string& hex);
int cmd_keys_show(const std::filesystem::path& data, bool json);
int cmd_store_events(const std::filesystem::path& data, bool json);
// `what`: "calendar" (`number` is the year) or "catalog" (its version).
int cmd_publish(const std::filesystem::path& data, const std::string& what, uint32_t number,
                const std::string& file, const ActorOptions& actor, bool json);
// `as_of`: judge deadlines as of the end of that China day (empty: now).
int cmd_status(const std::filesystem::path& data, bool json, const std::string& as_of);
int cmd_config_check(const std::string& file);

// `store check [--deep]` (node/store_check_command.cpp).
int cmd_store_check(const std::filesystem::path& data, bool deep);

// Completes or drops a `keys rotate` cut short by a crash (identity.h).
void settle_rotation(const std::filesystem::path& data, const storage::Store& store);

// The audit log (node/audit_commands.cpp). Records the administrative
// command `app` (publish, keys trust, init, ...) when it succeeded (`rc`
// 0) and returns `rc`; other commands pass through. Never fails.
int audited_command(const CLI::App* app, const std::string& data, const ActorOptions& actor,
                    int rc);
// Records a person's action refused by the role rules (storage/authority.h).
void record_role_refusal(const Opened& node, const ActorOptions& actor, proto::Role role,
                         EventKind kind, const std::string& subject, const Status& why);

}  // namespace liandong::node
