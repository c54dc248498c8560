// The desk's HTTP server (docs/DESK.md): the pages, their JSON API and the
// session rules, served by the node's own process on threads of its own.
//
// Reads (lists, a case, the catalog) run on the server's threads with the
// store's short read transactions; every write — an application, an
// action, an audit note — is handed to the daemon's loop (LoopJobs), the
// store's single writer, and goes through the application layer there.
//
// Thread contract: start, url and stop from the daemon's main thread; the
// server's own threads call into the store (reads) and LoopJobs only.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "config/node_config.h"
#include "node/desk/api.h"
#include "node/desk/loop_jobs.h"
#include "node/desk/request_stats.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::desk {

struct DeskOptions {
  config::DeskSettings settings;
  std::filesystem::path data;  // the node's data directory (DATA/desk/ holds the desk's files)
  std::string code;            // the node's division code
  // [attachments] of the node config: uploads and photo reduction.
  config::AttachmentSettings attachments{};
  // 数据包 (ApiOptions).
  std::vector<std::string> upstreams{};
  BundleExporter export_bundle{};
};

// DATA/desk/cert.pem and key.pem: the certificate made at `init`.
std::filesystem::path default_cert(const std::filesystem::path& data);
std::filesystem::path default_key(const std::filesystem::path& data);

class DeskServer {
 public:
  // Binds (a port already in use, a missing certificate: an error saying so)
  // and starts serving on threads of its own. Writes the address to
  // DATA/desk/address.
  static Result<std::unique_ptr<DeskServer>> start(const DeskOptions& options,
                                                   storage::Store& store, LoopJobs& jobs);
  ~DeskServer();

  // "http://127.0.0.1:8701/"
  const std::string& url() const;
  // Stops accepting, finishes the requests in hand, joins the threads.
  void stop();
  // The requests served so far (for the metrics endpoint); lives as long
  // as the server.
  const RequestStats& requests() const;

  struct Impl;

 private:
  explicit DeskServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace liandong::desk
