// The byte layout of attachment records (docs/FORMAT.md): used by
// store_blobs.cpp and the integrity check.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace liandong::storage {

// SHA-256 of `bytes` (32 bytes).
std::string sha256_of(std::string_view bytes);
// blob_have key of a file's record: 'f' sha256.
std::string file_key(std::string_view sha);
// version (1) | flags (1: bit 0 whole) | levels (1) | origin length (1) |
// be64 lsn | be64 size | origin | chunk hashes (32 each)
std::string encode_file_record(const FileRecord& f);
std::optional<FileRecord> decode_file_record(std::string_view sha, std::string_view value);
// The custody bit of a node's level (kHeldCounty, ...).
uint8_t level_bit(std::string_view code);

}  // namespace liandong::storage
