# Liandong enrollment: a new node (village agent point, or a township hub
# joining its county) joins its parent with a one-time join code
# (`liandong enroll create` at the parent, `liandong join CODE` at the new
# node; docs/OPERATIONS.md, docs/PROTOCOL.md "Enrollment").
#
# ZeroMQ DEALER (the new node) -> ROUTER (the parent's [enroll] endpoint),
# NULL security: the secrets travel inside crypto_box (X25519 +
# XSalsa20-Poly1305, libsodium), between the new node's fresh CurveZMQ key
# and the parent's, which the new node checks against the fingerprint the
# join code carries. Unpacked Cap'n Proto, one EnrollMessage per frame, at
# most 8 KiB.
#
#   new node                          parent
#   hello                  ->
#                          <-         keys {code, curveKey, signKey, syncPort}
#   (checks BLAKE2b-64(curveKey ‖ signKey) against the join code)
#   join (sealed JoinRequest) ->
#                          <-         answer (sealed JoinAnswer)
#                                     or refused (plain text, when nothing
#                                     could be opened)

@0x89cb30c18d583984;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("liandong::proto");

struct EnrollMessage {
  union {
    hello @0 :Void;
    keys @1 :EnrollKeys;
    join @2 :EnrollSealed;
    answer @3 :EnrollSealed;
    refused @4 :Text;
  }
}

# The parent's public keys.
struct EnrollKeys {
  code @0 :Text;        # the parent's division code
  curveKey @1 :Data;    # 32 bytes: its CurveZMQ (X25519) public key
  signKey @2 :Data;     # 32 bytes: its Ed25519 public key
  syncPort @3 :UInt16;  # the TCP port of its [listen] endpoint
}

# crypto_box_easy(message, nonce, the receiver's curve key, the sender's
# secret): `curveKey` is the sender's (the new node's in both directions).
struct EnrollSealed {
  curveKey @0 :Data;    # 32 bytes
  nonce @1 :Data;       # 24 bytes, random
  box @2 :Data;         # a JoinRequest or JoinAnswer, sealed
}

struct JoinRequest {
  code @0 :Text;        # the new node's division code, as in the join code
  secret @1 :Data;      # the join code's secret (8 bytes)
  signKey @2 :Data;     # the new node's Ed25519 public key
}

struct JoinAnswer {
  ok @0 :Bool;
  reason @1 :Text;      # why not (Chinese, one line), when not ok
  code @2 :Text;        # the parent's division code
}
