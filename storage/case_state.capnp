# The folded state of a case as cached in the `cases` database. A cache
# only: it can always be rebuilt from the log. Same evolution rules as the
# wire schema.
@0x96c0e6199dbb7819;

$import "/capnp/c++.capnp".namespace("liandong::storage::capnp_state");

using Records = import "/protocol/records.capnp";

struct Opinion {
  department @0 :Text;
  approve @1 :Bool;
  event @2 :Records.EventId;
}

struct Material {
  name @0 :Text;
  state @1 :Records.MaterialState;
}

struct CaseState {
  case @0 :Records.EventId;
  home @1 :Text;
  itemCode @2 :Text;
  itemName @3 :Text;
  applicantName @4 :Text;
  applicantId @5 :Text;
  status @6 :UInt8;
  prior @7 :UInt8;
  handler @8 :Text;
  conflict @9 :Bool;
  conflicts @10 :List(Records.EventId);
  departments @11 :List(Text);
  opinions @12 :List(Opinion);
  materials @13 :List(Material);
  hasDecision @14 :Bool;
  approved @15 :Bool;
  feeDue @16 :Int64;
  feeCollected @17 :Int64;
  rating @18 :UInt8;
  complaints @19 :UInt32;
  eventCount @20 :UInt32;
  dueDate @21 :Text;
  submittedHlc @22 :UInt64;
  acceptedHlc @23 :UInt64;
  decidedHlc @24 :UInt64;
  deliveredHlc @25 :UInt64;
  closedHlc @26 :UInt64;
  lastHlc @27 :UInt64;
  last @28 :Records.EventId;
  superseded @29 :List(Records.EventId);  # events re-issued by others (skipped)
  # @30-@44 are reserved for fields defined elsewhere; Void placeholders keep
  # the ordinals sequential until those fields land.
  supplementCase @30 :Bool;  # 补办件: registered with materials missing
  reserved31 @31 :Void;
  reserved32 @32 :Void;
  reserved33 @33 :Void;
  reserved34 @34 :Void;
  dueLimitDate @35 :Text;        # the catalog's latest date at 受理 (Accepted.limitDate)
  dueExtendReason @36 :Text;     # why the promised date is later than that
  resultReceivedHlc @37 :UInt64; # the home node stored the decision (结果已达)
  reserved38 @38 :Void;
  reserved39 @39 :Void;
  reserved40 @40 :Void;
  reserved41 @41 :Void;
  reserved42 @42 :Void;
  reserved43 @43 :Void;
  reserved44 @44 :Void;
  applicantPhone @45 :Text;  # from the submitted event; indexed for search
  supervision @46 :UInt32;   # supervision events: orders, answers, complaints, poor ratings
}
