# Liandong bundles (数据包): what a link would carry between a village agent
# point and its township, written to a file that travels on a USB stick
# when there is no link for days (data mule; docs/FORMAT.md §8 has the byte
# layout and the checks).
#
#   "LDBUNDLE" | be32 version (1) | be32 H | BundleHeader (H bytes,
#   unpacked Cap'n Proto) | 64-byte Ed25519 signature of everything before
#   it | records: be32 length | crypto_secretstream_xchacha20poly1305
#   ciphertext of one BundleItem (unpacked Cap'n Proto), the last one
#   tagged FINAL and holding `end`.
#
# An `up` bundle (child -> parent, `bundle export --for PARENT`) carries
# the child's log ranges the parent does not hold yet as far as the child
# knows, and the chunks of its files; a `down` bundle (parent -> child: the
# receipt, `bundle import --receipt` or `bundle export --for CHILD`)
# carries custody (how far the parent and the county hold the child's log,
# files' levels), refusals, and what the parent holds for the child.
#
# Evolution rules: as records.capnp (never renumber or retype; add at the
# end). A reader refuses an item kind it does not know.

@0xd2a4c8f1e6b39a57;

$import "/capnp/c++.capnp".namespace("liandong::proto");

using Records = import "/protocol/records.capnp";
using Sync = import "/protocol/sync.capnp";

enum BundleKind {
  up @0;      # child -> parent: events and chunks
  down @1;    # parent -> child: custody, refusals, events and chunks
}

struct BundleHeader {
  kind @0 :BundleKind;
  from @1 :Text;           # the sender's division code
  to @2 :Text;             # the receiver's division code
  fromStore @3 :Text;      # the sender's store id
  createdMs @4 :UInt64;    # the sender's wall clock when it wrote the bundle
  expiresMs @5 :UInt64;    # not imported after this
  bundleId @6 :Data;       # 16 random bytes
  signKey @7 :Data;        # 32: the Ed25519 key that signed the header
  sealedKey @8 :Data;      # 80: crypto_box_seal(stream key, receiver's X25519 link key)
  streamHeader @9 :Data;   # 24: crypto_secretstream header
}

# A stretch (fromLsn, toLsn] of the sender's log, as a sync Batch: the
# events of it that go to the receiver (sealed SignedEvents), and the id of
# the event at toLsn, routed or not.
struct BundleRange {
  fromLsn @0 :UInt64;
  toLsn @1 :UInt64;
  lastId @2 :Records.EventId;
  events @3 :List(Data);
}

struct BundleChunk {
  file @0 :Data;           # 32: the file's SHA-256
  hash @1 :Data;           # 32: the chunk's SHA-256
  data @2 :Data;           # at most 65,536 bytes
}

# Down only: where the receiver's own log is.
struct BundleCustody {
  topLsn @0 :UInt64;       # the county holds the receiver's log up to here
  files @1 :List(Sync.FileLevels);  # 1 county, 2 township, 4 village
}

struct BundleEnd {
  ranges @0 :UInt32;
  events @1 :UInt32;
  chunks @2 :UInt32;
  items @3 :UInt32;        # every item before this one
}

struct BundleItem {
  union {
    keys @0 :List(Sync.KeyEntry);      # as in a handshake
    have @1 :Sync.Cursor;              # how far the sender holds the receiver's log
    range @2 :BundleRange;
    chunk @3 :BundleChunk;
    custody @4 :BundleCustody;
    refusals @5 :List(Sync.RejectedEvent);
    end @6 :BundleEnd;
    asks @7 :List(Data);               # up: files (32 each) whose levels the child asks
  }
}
