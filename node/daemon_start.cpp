#include "node/daemon_start.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "node/commands.h"
#include "node/log_mask.h"
#include "protocol/crypto.h"
#include "storage/own_key.h"

namespace liandong::node {

int watch_stop_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

void set_up_logging(const config::NodeConfig& cfg, const std::string& level_override) {
  // No resident ID number in the log.
  auto logger = std::make_shared<spdlog::logger>(
      "liandong",
      std::make_shared<MaskingSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [" + cfg.code + "] %v");
  spdlog::set_default_logger(logger);
  const std::string level = level_override.empty() ? cfg.log_level : level_override;
  spdlog::set_level(spdlog::level::from_str(level));
}

Result<OpenedNode> open_node(const config::NodeConfig& cfg) {
  struct stat data_st {};
  if (::stat(cfg.data.c_str(), &data_st) == 0 && (data_st.st_mode & 077) != 0)
    return Status::invalid("data directory " + cfg.data.string() +
                           " may be read by other users: chmod 700 it");
  auto store = storage::Store::open(
      storage::StoreOptions{.dir = store_dir(cfg.data),
                            .daemon = true,
                            .max_blob_bytes = cfg.attachments.max_store_bytes()});
  if (!store.ok()) {
    if (store.status().code() == Code::not_found)
      return Status::not_found("no store in " + cfg.data.string() + " (run `liandong init --data " +
                               cfg.data.string() + " --code " + cfg.code + "` first)");
    return Status::internal("cannot open the store in " + cfg.data.string() + ": " +
                            store.status().message());
  }
  if ((*store)->code() != cfg.code)
    return Status::invalid("the store in " + cfg.data.string() + " belongs to " + (*store)->code() +
                           ", the config says " + cfg.code);
  auto lock = DaemonLock::acquire(cfg.data, cfg.control_endpoint);
  if (!lock.ok()) return lock.status();
  settle_rotation(cfg.data, **store);  // a `keys rotate` cut short
  auto id = load_identity(cfg.data);
  if (!id.ok()) return id.status();
  if (auto s = storage::check_own_key(**store, id->sign.pub); !s) return s;
  return OpenedNode{std::move(store).value(), std::move(lock).value(), std::move(id).value()};
}

Status trust_config_keys(const config::NodeConfig& cfg, storage::Store& store, AuditLog& audit) {
  auto trust = [&](const std::string& code, const std::string& hex) -> Status {
    auto key = public_key_from_hex(hex);
    if (!key) return Status::invalid("config: the sign_key of " + code + " is not a hex key");
    auto held = store.key(code);
    if (!held.ok()) return held.status();
    const std::optional<PublicKey>& have = *held;
    if (have && *have == *key) return Status::ok();
    if (auto s = store.put_key(code, *key); !s)
      return Status::internal("cannot store the key of " + code + ": " + s.message());
    // A first key is the config's ordinary business; a replaced one is
    // worth the county's attention.
    if (have)
      audit.record(audit_note(proto::AuditWhat::KEY_CHANGED, code, cfg.code, "signing key " + hex,
                              "replaced from the config file"));
    return Status::ok();
  };
  for (const auto& u : cfg.upstreams)
    if (auto s = trust(u.code, u.sign_key); !s) return s;
  for (const auto& c : cfg.children)
    if (auto s = trust(c.code, c.sign_key); !s) return s;
  return Status::ok();
}

}  // namespace liandong::node
