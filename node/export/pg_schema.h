// The analytics schema in PostgreSQL (docs/ANALYTICS.md): schema
// `liandong`, its tables (events, cases, steps, materials, attachments,
// ratings, complaints, supervision_orders, divisions, catalogs,
// catalog_items, export_cursor), the report views and functions, and the
// Chinese column comments BI users read.
//
// Thread contract: pure functions; ensure_schema runs on the caller's
// connection.
#pragma once

#include <pqxx/pqxx>
#include <string>

#include "protocol/status.h"

namespace liandong::node::pg {

// The schema's version, kept in liandong.schema_info. A database holding
// another version is refused, never altered.
constexpr int kPgSchemaVersion = 1;

// Every statement that creates the schema, in order, as one script.
const std::string& schema_sql();

// Creates the schema when the database has none (in one transaction, under
// an advisory lock, so several counties may start at once), or checks the
// version of the one there. invalid: another version, or a `liandong`
// schema that is not ours; disconnected: the connection failed.
Status ensure_schema(pqxx::connection& conn);

}  // namespace liandong::node::pg
