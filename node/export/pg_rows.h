// The rows of the analytics schema (docs/ANALYTICS.md) a store holds, as
// text fields ready for PostgreSQL's COPY: one row per event of the log,
// and for each case its current state with the report's own judgments
// (node/report.h: received, completed, 按时办结, 即办, the rating, ...), its
// steps (storage/deadlines.h), materials, attachments, ratings, complaints
// and supervision orders; the division table and the catalog versions.
//
// The report's figures are computed here with the report's C++ code
// (stored_case_facts, case_figures), so the SQL views only group and
// divide, and equal `liandong report` by construction. What depends on
// "today" (超期, 超期环节, late answers) is left out of the case's figures;
// a step's `late` flag of an open step is as of the export.
//
// Personal data: an applicant's ID number (居民身份证号码) and phone are
// masked (360723********001X, 138****5678) unless RowOptions::id_numbers.
//
// Thread contract: RowMaker reads the store (thread-safe) and is itself
// used by one thread at a time. The free functions are pure or read only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ids.h"
#include "protocol/status.h"
#include "storage/calendar.h"
#include "storage/catalog.h"
#include "storage/store.h"

namespace liandong::node::pg {

// A row: one text per column (nullopt: SQL NULL), in the table's column order.
using Row = std::vector<std::optional<std::string>>;

// A table of the schema: its name (in schema `liandong`) and columns, in
// the order rows carry them. The DDL (pg_schema.cpp) lists the same.
struct TableSpec {
  const char* name;
  std::vector<const char*> columns;
};
const TableSpec& events_table();
const TableSpec& cases_table();
const TableSpec& steps_table();
const TableSpec& materials_table();
const TableSpec& attachments_table();
const TableSpec& ratings_table();
const TableSpec& complaints_table();
const TableSpec& orders_table();
const TableSpec& divisions_table();
const TableSpec& catalogs_table();
const TableSpec& catalog_items_table();
// The tables holding a case's rows (deleted and written again when one of
// its events is exported), cases first.
std::vector<const TableSpec*> case_tables();

struct RowOptions {
  std::string node_code;    // the exporting node (every row carries it)
  bool id_numbers = false;  // export ID numbers and phones unmasked
  uint64_t now_ms = 0;      // "now" for the late flag of open steps
};

// "360723198001010018" -> "360723********0018"; anything not an ID number
// of 15 or 18 characters is kept but its middle starred, so nothing whole
// passes. Empty stays empty.
std::string mask_id_number(std::string_view id);
// "13812345678" -> "138****5678".
std::string mask_phone(std::string_view phone);

// One batch of the log: the events after `after`, in LSN order.
struct LogBatch {
  uint64_t last_lsn = 0;           // the LSN of the last entry read; `after` when none
  std::vector<Row> events;         // one per log entry
  std::vector<Id> cases;           // the cases those events name, each once
  bool reference_changed = false;  // a catalog, calendar or division table among them
};
// Reads at most `max_entries` log entries after `after`. corruption when an
// entry does not parse (the store's own log: never expected).
Result<LogBatch> read_log_batch(const storage::Store& store, uint64_t after,
                                std::size_t max_entries, const RowOptions& o);

struct CaseRows {
  // Indexed like case_tables(): cases, steps, materials, attachments,
  // ratings, complaints, orders.
  std::array<std::vector<Row>, 7> tables;
  std::size_t count() const;
};

// Builds the rows of cases from their current state in the store.
class RowMaker {
 public:
  // Reads the calendar held in `store` (working days of steps and promised
  // days); a failed status() is a store failure.
  RowMaker(const storage::Store& store, RowOptions o);
  const Status& status() const { return status_; }
  // Adds the rows of case `id` to `out` (nothing when the store holds no
  // such case).
  Status add_case(const Id& id, CaseRows& out);

 private:
  const storage::Store& store_;
  RowOptions o_;
  storage::CatalogCache catalogs_;
  storage::Calendar calendar_;
  Status status_;
};

// The division table held (nullopt when none), and every catalog version
// held with its items.
Result<std::vector<Row>> division_rows(const storage::Store& store, const RowOptions& o);
Status catalog_rows(const storage::Store& store, const RowOptions& o, std::vector<Row>& catalogs,
                    std::vector<Row>& items);

}  // namespace liandong::node::pg
