// The node's identity on disk: where its store and key files live, and
// making and loading its key pairs.
//
// DATA/store/            LMDB environment (data.mdb, lock.mdb)
// DATA/keys/sign.key     Ed25519 secret, hex        0600
// DATA/keys/sign.pub     Ed25519 public, hex        0600
// DATA/keys/curve.key    Curve25519 secret, Z85     0600  (CurveZMQ links)
// DATA/keys/curve.pub    Curve25519 public, Z85     0600
// DATA/keys/sign.key.next  a rotation under way (keys rotate): the new
//                          secret, until the rotation event is stored
//
// Thread contract: plain functions over files; call from one thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "protocol/crypto.h"
#include "protocol/status.h"

namespace liandong::node {

std::filesystem::path store_dir(const std::filesystem::path& data);
std::filesystem::path keys_dir(const std::filesystem::path& data);

struct Identity {
  SigningKey sign;
  CurveKeyPair curve;
};

// Makes fresh key pairs and writes them (0600, written to a temporary file,
// synced, then renamed). Refuses to overwrite existing keys.
Result<Identity> create_identity(const std::filesystem::path& data);

// Loads the key pairs; refuses key files that others may read.
Result<Identity> load_identity(const std::filesystem::path& data);

// Key rotation, in three steps that survive a crash between any two:
// write the new secret to sign.key.next; store the rotation event; then
// promote it (sign.key.next -> sign.key). finish_rotation, run whenever
// the keys are opened with the store, promotes a pending key whose
// rotation is stored (`stored`) and drops one whose rotation is not.
Status stage_signing_key(const std::filesystem::path& data, const SigningKey& next);
Status promote_signing_key(const std::filesystem::path& data);
std::optional<SigningKey> staged_signing_key(const std::filesystem::path& data);
Status finish_rotation(const std::filesystem::path& data, bool stored);

// Replaces the CurveZMQ link key pair (`keys rotate --link`); the parent's
// config must then name the new public key.
Status replace_link_key(const std::filesystem::path& data, const CurveKeyPair& next);

}  // namespace liandong::node
