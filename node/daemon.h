// The node daemon (`liandong run`): one event loop thread that owns every
// ZeroMQ socket — the ROUTER its children dial, a DEALER to the upstream in
// use (and one to a more preferred upstream it is probing), the control
// ROUTER the CLI talks to — and writes to the store as the single writer.
//
// What it does, in docs/PROTOCOL.md terms: handshakes with cursor checks,
// batches of routed events from each peer's durable cursor, acks after
// commit, a credit window of unacked bytes, resend after ack_timeout,
// heartbeats with RTT, peers declared down after peer_timeout, redial with
// exponential backoff and jitter, failover across upstreams and return to
// the preferred one, custody marks, recovery of restored or replaced stores.
//
// Thread contract: run_daemon blocks the calling thread until SIGTERM or
// SIGINT; call it once per process, before any other thread is started (it
// blocks those signals for every thread it creates).
#pragma once

#include <filesystem>
#include <string>

#include "config/node_config.h"
#include "node/daemon_context.h"

namespace liandong::node {

// Runs the node until SIGTERM/SIGINT; SIGHUP re-reads the config. Returns the process exit code: 0
// after a clean stop, 2 when it refuses to start (the reason is printed on stderr as one line), 1
// on a fatal error while running. `control` runs each command the control socket brings
// (node/daemon_context.h).
// `config_file` is read again on SIGHUP (Daemon::reload).
int run_daemon(const config::NodeConfig& cfg, const std::filesystem::path& config_file,
               const std::string& log_level_override, ControlHandler control);

}  // namespace liandong::node
