// Continuous, exactly-once export of a node's store to PostgreSQL
// (docs/ANALYTICS.md): the log in LSN order, batch by batch, each batch one
// PostgreSQL transaction holding its events (COPY), the current rows of
// every case those events touch (deleted and written again), and the
// cursor row liandong.export_cursor(node_code) moved to the batch's last
// LSN. The cursor row is locked (SELECT ... FOR UPDATE) for the whole
// transaction, so two exporters of one node never interleave; a crash of
// either side before COMMIT leaves the previous cursor and none of the
// batch's rows, a crash after it leaves both: no row is lost or doubled.
//
// A store replaced under the node (another store id: restored, or made
// again with `init --force`) restarts the cursor at LSN 0; from then on the
// node's events are written with ON CONFLICT DO NOTHING: the same events
// keep their ids, and the new store may receive again (sync) events the
// old one exported.
//
// Thread contract: a PgExporter is used by one thread; it reads the store
// (thread-safe) with short read transactions and holds one connection.
// ExportThread runs one on its own thread for `liandong run`.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <thread>

#include "node/export/pg_rows.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::node::pg {

struct ExportOptions {
  std::string dsn;                   // libpq connection string or URI; may hold a password
  bool id_numbers = false;           // [export] export_id_numbers
  std::size_t batch_events = 20000;  // log entries per transaction
};

// A DSN libpq cannot parse: invalid, with libpq's reason (the DSN itself,
// which may hold a password, is never quoted).
Status check_dsn(const std::string& dsn);

struct Prepared;  // a batch read from the store, ready to write (pg_export.cpp)

struct BatchResult {
  uint64_t events = 0, cases = 0;  // rows written: events, cases
  uint64_t lsn = 0;                // the cursor after the batch
  bool store_changed = false;      // the cursor was reset for another store id
};

struct ExportTotals {
  uint64_t events = 0, cases = 0, batches = 0, lsn = 0;
};

class PgExporter {
 public:
  PgExporter(const storage::Store& store, ExportOptions o);
  ~PgExporter();
  PgExporter(const PgExporter&) = delete;
  PgExporter& operator=(const PgExporter&) = delete;

  // Connects and creates or checks the schema (ensure_schema). invalid: a
  // bad DSN or a schema of another version; disconnected: no server.
  Status connect();
  bool connected() const;
  // Exports the next batch (nothing when caught up: events == 0). On a
  // failure the transaction is rolled back and the connection dropped
  // (connect again).
  Result<BatchResult> export_batch();
  // Batches until caught up with the store's log as it was when called,
  // or `keep_going` says stop.
  // The store's log is read one batch ahead on a second thread while the
  // current batch is written. A cursor moved by someone else (another
  // exporter of the node) stops it with `overloaded`.
  Result<ExportTotals> catch_up(const std::function<bool()>& keep_going = {});
  // The last failure in English (libpq's or the store's words), for logs.
  const std::string& last_error() const { return error_; }

 private:
  struct Cursor {
    uint64_t lsn = 0, belt_until = 0;
    bool store_changed = false;
  };
  // Reads (creating, or resetting for another store id) the node's cursor.
  Result<Cursor> read_cursor();
  // Writes a prepared batch in one transaction if the cursor is still
  // where the batch starts.
  Result<BatchResult> write_batch(Prepared& p, uint64_t belt_until);

  const storage::Store& store_;
  ExportOptions o_;
  std::unique_ptr<pqxx::connection> conn_;
  std::string error_;
};

// `liandong run` with [export] postgres_dsn: exports on its own thread,
// polling the store every `poll`, reconnecting with backoff (1 s doubling
// to 60 s) while PostgreSQL is down. Logs in English, never the DSN.
class ExportThread {
 public:
  ExportThread(const storage::Store& store, ExportOptions o);
  ~ExportThread();  // stops and joins
  void start();
  void stop();
  // For a status line: the cursor's LSN and whether the last attempt failed.
  uint64_t exported_lsn() const { return lsn_.load(); }
  bool failing() const { return failing_.load(); }

 private:
  void run();
  const storage::Store& store_;
  ExportOptions o_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<uint64_t> lsn_{0};
  std::atomic<bool> failing_{false};
};

}  // namespace liandong::node::pg
