// The node's own commands, run by the CLI's dispatch (node/cli.cpp): `init`,
// `keys show` / `keys trust`, `store events`, `publish calendar|catalog`,
// `status` and `config check`.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "config/node_config.h"
#include "node/app/figures.h"
#include "node/app/publish.h"
#include "node/cli.h"
#include "node/commands.h"
#include "node/control.h"
#include "node/input_checks.h"
#include "node/input_files.h"
#include "node/json_text.h"
#include "node/render.h"
#include "node/sync_state.h"
#include "protocol/crypto.h"
#include "protocol/event_codec.h"

namespace liandong::node {

namespace fs = std::filesystem;

// ---- init -----------------------------------------------------------------

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
  if (const DaemonContext* d = daemon_context()) live = d->status();
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

}  // namespace liandong::node
