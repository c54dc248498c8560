// A node's key files sealed with a passphrase, for a backup (DEST/keys.enc
// of `liandong backup --keys`; docs/FORMAT.md "Backups").
//
// The passphrase is stretched with Argon2id (libsodium crypto_pwhash, salt
// and limits in the file's header) into the key of crypto_secretbox
// (XSalsa20-Poly1305). A changed header changes the key, so a wrong
// passphrase and an altered file are the same failure: the box does not
// open. The box holds the node's code and store id (a restore checks them
// against the backup's store) and every file of DATA/keys.
//
// Thread contract: pure functions (besides libsodium's random source).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/status.h"

namespace liandong::node {

struct KeyFile {
  std::string name;   // a plain file name in DATA/keys ("sign.key")
  std::string bytes;  // its contents
};

struct KeyBundle {
  std::string code, store_id;
  std::vector<KeyFile> files;
};

// Argon2id's limits. The defaults are libsodium's "moderate" (about a
// second and 256 MiB on a township PC): the file travels on USB sticks.
struct PassphraseCost {
  uint64_t ops;
  uint64_t mem_bytes;
};
PassphraseCost default_passphrase_cost();

// The files of DATA/keys (regular files only, each at most 4 KiB, at
// most 16). invalid when the folder is missing or holds something else.
Result<std::vector<KeyFile>> read_key_folder(const std::string& keys_dir);

// A passphrase read from a file: the file's first line. invalid when it is
// empty or shorter than `min_chars` (0: any length).
Result<std::string> read_passphrase_file(const std::string& path, std::size_t min_chars);

// The sealed file's bytes.
Result<std::string> seal_keys(const KeyBundle& bundle, std::string_view passphrase,
                              PassphraseCost cost = default_passphrase_cost());

// Opens a sealed file. invalid: not a sealed key file (corruption),
// or the passphrase is wrong or the file was changed (invalid, saying so).
Result<KeyBundle> open_keys(std::string_view sealed, std::string_view passphrase);

}  // namespace liandong::node
