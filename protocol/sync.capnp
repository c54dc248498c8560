# Liandong sync protocol: the messages between a child (ZeroMQ DEALER) and
# its parent (ROUTER) over one CurveZMQ link. One SyncMessage per ZeroMQ
# message (one frame after ROUTER's routing id), in Cap'n Proto's standard
# *packed* encoding; the SignedEvents inside Batch.events are unpacked
# (docs/PROTOCOL.md §1 and §1.1, with a Hello byte by byte in §4.5).
#
# Delivery is never trusted to ZeroMQ: every session begins with Hello /
# Welcome carrying durable cursors, batches are contiguous LSN ranges of
# the sender's log, and the receiver acknowledges only what it committed.
#
# Evolution rules: as records.capnp (never renumber or retype; add at the
# end). A receiver refuses a message kind it does not know.

@0xaf67af32956d472d;

$import "/capnp/c++.capnp".namespace("liandong::proto");

using Records = import "/protocol/records.capnp";

const protocolVersion :UInt32 = 1;

# How far a holder has durably stored a peer's log: the peer's LSN, the id
# of the event at that LSN in the peer's log (set even when that event was
# not routed to the holder; unset at LSN 0), and the peer's store id (empty
# in an Ack, and before the holder ever met the peer). A peer whose log at
# `lsn` holds another event, or is shorter, or whose store id differs, was
# restored or replaced: it is re-sent from zero (dedup makes that safe).
struct Cursor {
  lsn @0 :UInt64;
  at @1 :Records.EventId;
  storeId @2 :Text;
}

struct Hello {                 # child -> parent, opens a session
  version @0 :UInt32;
  code @1 :Text;               # the child's division code
  storeId @2 :Text;
  have @3 :Cursor;             # how far the child holds the parent's log
  capabilities @4 :List(Text); # ["zstd"]; read by no node: zstd is mandatory
  keys @5 :List(KeyEntry);     # first keys the child vouches for: its own, its children's
  yourNextSeq @6 :UInt64;      # 1 + the highest parent-originated seq the child holds
  wallMs @7 :UInt64;           # the child's wall clock when it sent this (0: unknown)
}

# A signing key a peer vouches for. A child may vouch only for codes in its
# own subtree, a parent only for its own ancestors and itself; a key that
# contradicts one already held is refused (rotation is a separate act).
struct KeyEntry {
  code @0 :Text;
  key @1 :Data;                # 32-byte Ed25519 first key; unset when the sender
                               # holds none for `code` (the receiver skips the entry)
}

struct Welcome {               # parent -> child
  version @0 :UInt32;
  code @1 :Text;
  storeId @2 :Text;
  have @3 :Cursor;             # how far the parent holds the child's log
  capabilities @4 :List(Text); # ["zstd"], as in Hello
  keys @5 :List(KeyEntry);     # first keys: the parent's own and its ancestors'
  yourNextSeq @6 :UInt64;      # 1 + the highest child-originated seq the parent holds
  wallMs @7 :UInt64;           # the parent's wall clock when it sent this (0: unknown):
                               # the child stops making events while its own clock is
                               # off by more than a day (docs/PROTOCOL.md, clock check)
}

enum RefusalReason {
  unknownKey @0;
  codeMismatch @1;             # the key belongs to another code
  outsideJurisdiction @2;
  version @3;
  malformed @4;
  shuttingDown @5;
}

struct Refused {
  reason @0 :RefusalReason;
  text @1 :Text;
}

# A contiguous range (fromLsn, toLsn] of the sender's log holding only the
# events the routing rule sends to this peer. The receiver applies it only
# if fromLsn equals its cursor; otherwise it re-acks its cursor.
struct Batch {
  fromLsn @0 :UInt64;
  toLsn @1 :UInt64;
  lastId @2 :Records.EventId;  # id of the event at toLsn in the sender's log
  count @3 :UInt32;            # events in `events`
  compression @4 :Compression;
  events @5 :Data;             # u32 little-endian length + SignedEvent bytes, repeated
  rawBytes @6 :UInt32;         # size of `events` before compression
}

enum Compression {
  none @0;
  zstd @1;
}

# The receiver committed everything up to `have`. `topLsn` (parent ->
# child only) is the child's LSN up to which the top of the tree holds the
# child's events: the custody tick "stored at county".
struct Ack {
  have @0 :Cursor;
  topLsn @1 :UInt64;
  rejected @2 :List(RejectedEvent);  # refused events in the acked range
  resend @3 :Bool;             # a batch was refused: its fromLsn was not `have`;
                               # send again from `have`
}

struct RejectedEvent {
  id @0 :Records.EventId;
  reason @1 :Text;
  by @2 :Text;                 # code of the node that refused it ("" from older
                               # nodes: the sender of the Ack)
  cause @3 :RefusalCause;
  atMs @4 :UInt64;             # when it was refused, the refuser's wall clock
}

# Why an event was refused, for the origin to show in words.
enum RefusalCause {
  other @0;
  clockAhead @1;               # stamped more than a day ahead of the receiver
  badStamp @2;                 # stamped outside 2020-2100
  key @3;                      # signature or signing key not accepted
  authority @4;                # the origin may not make this event
  quarantined @5;              # signed with a retired or revoked key: held for review
  invalid @6;                  # malformed, or the case state refuses it
}

struct Heartbeat {
  sentMs @0 :UInt64;           # sender's clock
  echoMs @1 :UInt64;           # the peer's last sentMs, for RTT
}

# Attachments (DESIGN.md section 4.6, docs/PROTOCOL.md): the receiver of an
# event that names files pulls their chunks from the peer, after the events
# (a sender always sends a waiting batch before a chunk). Either side asks.
struct ChunkRequest {
  file @0 :Data;               # SHA-256 of the file the chunks belong to
  chunks @1 :List(Data);       # hashes of the chunks wanted, in order; at most 16
}

struct Chunk {
  file @0 :Data;               # as in the request
  hash @1 :Data;               # SHA-256 of `data`, as asked
  data @2 :Data;               # the chunk's bytes, at most 64 KiB; empty when missing
  missing @3 :Bool;            # the sender does not hold it (yet): ask again later
}

# Custody of a whole file: which levels are known to hold all of it.
struct FileLevels {
  file @0 :Data;               # SHA-256 of the file
  levels @1 :UInt8;            # bits: 1 county, 2 township, 4 village
}

struct SyncMessage {
  union {
    hello @0 :Hello;
    welcome @1 :Welcome;
    refused @2 :Refused;
    batch @3 :Batch;
    ack @4 :Ack;
    heartbeat @5 :Heartbeat;
    bye @6 :Void;              # clean shutdown: the peer need not wait for a timeout
    recover @7 :Void;          # "my store was restored or replaced: send me, from your
                               # LSN 0, everything that belongs at me, including the
                               # events that originated on my side"
    refusals @8 :List(RejectedEvent);
                               # parent -> child: events of the child's subtree that a
                               # level above refused (relayed down; kept by the sender
                               # until taken)
    refusalsTaken @9 :List(Records.EventId);
                               # child -> parent: these refusals are stored here (or
                               # relayed on): the parent forgets them
    chunkRequest @10 :ChunkRequest;
    chunk @11 :Chunk;
    filesQuery @12 :List(Data);  # which levels hold these files (at most 256)?
    filesHeld @13 :List(FileLevels);
                               # the answer, or unasked when the sender completes a
                               # file it pulled from the receiver
  }
}
