// describe(): the human-readable summary of a NodeConfig printed by
// `liandong config check`.
#include <sstream>

#include "config/node_config.h"
#include "config/value_checks.h"

namespace liandong::config {

namespace {

std::string with_level(const std::string& code) {
  const std::string_view level = division_level(code);
  if (level.empty()) return code;
  return code + " (" + std::string(level) + ")";
}

}  // namespace

std::string describe(const NodeConfig& config) {
  std::ostringstream o;
  o << "node       " << with_level(config.code) << "\n";
  o << "data       " << config.data.string() << "\n";
  o << "log level  " << config.log_level << "\n";
  if (config.listen_endpoint) {
    o << "listen     " << *config.listen_endpoint << " (children dial in here)\n";
  } else {
    o << "listen     none (no children dial in)\n";
  }
  if (config.enroll.endpoint) {
    o << "enroll     " << *config.enroll.endpoint << " (new children join here"
      << (config.enroll.address.empty() ? std::string() : ", codes name " + config.enroll.address)
      << ")\n";
  }
  o << "control    " << config.control_endpoint << "\n";

  if (config.upstreams.empty()) {
    o << "upstreams  none (this node dials no parent)\n";
  } else {
    o << "upstreams  " << config.upstreams.size() << ", in order of preference\n";
    for (std::size_t i = 0; i < config.upstreams.size(); ++i) {
      const Upstream& up = config.upstreams[i];
      o << "  " << (i + 1) << ". " << with_level(up.code) << " at " << up.endpoint << "\n";
      o << "     curve key " << up.curve_key << "\n";
      o << "     sign key  " << up.sign_key << "\n";
    }
  }

  if (config.children.empty()) {
    o << "children   none\n";
  } else {
    o << "children   " << config.children.size() << " admitted\n";
    for (const Child& child : config.children) {
      o << "  - " << with_level(child.code) << "\n";
      o << "     curve key " << child.curve_key << "\n";
      o << "     sign key  " << child.sign_key << "\n";
    }
  }

  const SyncSettings& s = config.sync;
  o << "sync       batches of at most " << s.batch_max_events << " events and " << s.batch_max_bytes
    << " bytes; " << s.window_bytes << " bytes unacked per peer\n";
  o << "           heartbeat every " << s.heartbeat.count() << " ms; peer down after "
    << s.peer_timeout.count() << " ms of silence; resend after " << s.ack_timeout.count()
    << " ms without ack\n";
  o << "           redial backoff " << s.redial_min.count() << ".." << s.redial_max.count()
    << " ms plus jitter; messages up to " << s.max_message_bytes << " bytes\n";
  const DeskSettings& d = config.desk;
  if (!d.enabled) {
    o << "desk       off\n";
  } else {
    o << "desk       " << (d.tls() ? "https://" : "http://") << d.host << ":"
      << (d.port == 0 ? std::string("(a free port)") : std::to_string(d.port))
      << (d.tls() ? " (open to the office LAN)" : " (this machine only)") << "\n";
    if (d.tls() && !d.tls_cert.empty())
      o << "           certificate " << d.tls_cert.string() << ", key " << d.tls_key.string()
        << "\n";
  }
  const MetricsSettings& m = config.metrics;
  if (m.enabled) {
    o << "metrics    http://"
      << (m.host.find(':') != std::string::npos ? "[" + m.host + "]" : m.host) << ":"
      << (m.port == 0 ? std::string("(a free port)") : std::to_string(m.port)) << "/metrics"
      << (m.allow_remote ? " (open beyond this machine)" : " (this machine only)") << "\n";
  }
  if (!config.export_pg.postgres_dsn.empty()) {
    // The DSN may hold a password: never shown.
    o << "export     PostgreSQL (connection string not shown); ID numbers "
      << (config.export_pg.id_numbers ? "exported" : "masked") << "\n";
  }
  const AttachmentSettings& a = config.attachments;
  o << "attachments files up to " << a.max_file_mib << " MiB; photos reduced to "
    << a.image_long_side << " px, JPEG quality " << a.jpeg_quality << "; "
    << (a.max_store_gib == 0 ? std::string("store limited by the disk only")
                             : "at most " + std::to_string(a.max_store_gib) + " GiB in the store")
    << "\n";
  return o.str();
}

}  // namespace liandong::config
