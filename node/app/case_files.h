// The files attached to one case (附件), as `attachment list`, `case show`
// and the desk's case page show them: which event named each, whether it
// is whole here or still in transit (chunks held of all), and how far up it
// is known to have reached (custody: 本机 / 已达乡镇 / 已达县).
//
// Thread contract: as node/app/context.h (reads only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "node/app/context.h"
#include "node/app/result.h"
#include "protocol/ids.h"

namespace liandong::app {

struct CaseFile {
  std::string sha256;  // 32 bytes
  std::string name, material, media_type;
  uint64_t size = 0;
  Id event;  // the event that named it
  EventKind kind = EventKind::submitted;
  bool whole = false;  // every chunk held here
  uint64_t chunks_held = 0, chunks = 0;
  uint8_t levels = 0;  // storage::kHeld* bits, own level included when whole
};

// The files the case's events name, in log order (a file named twice is
// listed once, under the first event). invalid for a bad case number,
// not_found for a case not held here.
AppResult<std::vector<CaseFile>> case_files(const Context& ctx, const std::string& case_id);

// The file `key` names among `files`: its name, or a hex prefix of its
// SHA-256 of at least 8 digits. not_found for none; invalid when it names
// several or is too short to be a prefix and names no file.
AppResult<CaseFile> find_case_file(const std::vector<CaseFile>& files, const std::string& key);

// The file's bytes; refused with "附件尚在传输中（已收 3/7 块）" while it is
// not whole here.
AppResult<std::string> read_case_file(const Context& ctx, const CaseFile& file);

// Lowercase hex of `bytes`.
std::string hex_of(const std::string& bytes);

// How far the file has reached, in the words a clerk reads: "已达县",
// "已达乡镇", "本机", or "传输中（已收 3/7 块）" while not whole here.
std::string custody_zh(const CaseFile& f);
// The levels known to hold it whole: "village", "township", "county".
std::vector<std::string> held_at(const CaseFile& f);
// "事项申请" for submitted, "补正材料", "办结" ...: the event's kind as the
// file list names it.
const char* file_event_zh(EventKind kind);

}  // namespace liandong::app
