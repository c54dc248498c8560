# Liandong records: the case events every node stores and forwards.
#
# Evolution rules: never renumber, retype or remove a field; add new fields
# only at the end, with the next ordinal. A reader that meets a union
# member it does not know (a newer schema) must refuse the event, not guess.
#
# Codes are administrative division codes (GB/T 2260 style) as decimal digit
# strings of length 2, 4, 6, 9 or 12. Money is in fen (分, 0.01 yuan).
# Times are milliseconds since the Unix epoch, UTC. Dates are "YYYY-MM-DD".

@0xc4b1e2a9d3f05a17;

$import "/capnp/c++.capnp".namespace("liandong::proto");

struct EventId {
  origin @0 :Text;   # code of the node that made the event
  seq @1 :UInt64;    # per-origin sequence number, from 1, dense
}

# Who took an action. For AB角 handover the backup (B) acts with the
# primary's (A) authority: `name` is B, `onBehalfOf` is A.
struct Actor {
  name @0 :Text;
  role @1 :Role;
  staffId @2 :Text;
  onBehalfOf @3 :Text;
}

enum Role {
  agent @0;        # 代理员 / 代办员, village point
  clerk @1;        # 窗口工作人员 / 受理员
  reviewer @2;     # 审查员 / 勘察员
  officer @3;      # 首席代表, signs department decisions
  director @4;     # 分管领导
  system @5;       # the node itself (broadcasts, housekeeping)
}

struct Field {
  key @0 :Text;
  value @1 :Text;
}

enum MaterialState {
  provided @0;     # 已提交
  missing @1;      # 缺
  later @2;        # 容缺: may follow before the certificate is issued
}

struct Material {
  name @0 :Text;
  original @1 :Bool;   # original (原件) or copy (复印件)
  count @2 :UInt32;
  state @3 :MaterialState;
}

# A file (scan, photo, PDF) of a material. The bytes travel apart from the
# event, cut into chunks of 64 KiB (the last shorter), each pulled by the
# receiver and checked against its hash here (docs/PROTOCOL.md, FORMAT.md).
struct AttachmentRef {
  sha256 @0 :Data;     # 32 bytes: SHA-256 of the whole file
  size @1 :UInt64;     # bytes, at most 64 MiB
  name @2 :Text;       # the file's name as given, e.g. "户口簿.jpg"
  mediaType @3 :Text;  # "image/jpeg", "image/png", "application/pdf"
  material @4 :Text;   # the material (材料) it shows, by its catalog name
  chunks @5 :List(Data);  # SHA-256 of each chunk, in order: ceil(size / 65536) of them
}

struct Applicant {
  name @0 :Text;
  idNumber @1 :Text;   # 居民身份证号码, 18 characters
  phone @2 :Text;
  address @3 :Text;
}

struct Submitted {
  applicant @0 :Applicant;
  itemCode @1 :Text;          # catalog item
  itemName @2 :Text;
  catalogVersion @3 :UInt32;  # catalog version the form was checked against
  fields @4 :List(Field);
  materials @5 :List(Material);
  attachments @6 :List(AttachmentRef);
  feeDue @7 :Int64;           # fen
  summary @8 :Text;
  # 补办件: registered with required materials missing. The case waits for
  # them (待补正) from the start; the materials listed with state `missing`
  # are the whole list the applicant was told at once (一次性告知).
  supplementCase @9 :Bool;
}

struct Accepted {              # 受理
  dueDate @0 :Text;            # 承诺办结日期, "YYYY-MM-DD"; empty only when no limit is known
  note @1 :Text;
  # The latest date the item's limit (承诺时限) in the catalog the case was
  # submitted with allows, counted in working days from the day of
  # acceptance; empty when no held catalog gives the item a limit.
  limitDate @2 :Text;
  limitDays @3 :UInt32;        # that limit, working days
  extendReason @4 :Text;       # why dueDate is later than limitDate (required then)
}

struct SupplementRequested {   # 补正: every missing material at once (一次性告知)
  missing @0 :List(Material);
  note @1 :Text;
}

struct Supplemented {
  provided @0 :List(Material);
  attachments @1 :List(AttachmentRef);
  note @2 :Text;
}

struct Escalated {             # 上报
  to @0 :Text;                 # code of the level now responsible
  note @1 :Text;
}

struct Assigned {              # to departments; several = joint (联办/并联审批)
  departments @0 :List(Text);  # department codes, e.g. "林业", "国土"
  note @1 :Text;
}

struct Opinion {               # one department's part of a joint case
  department @0 :Text;
  approve @1 :Bool;
  text @2 :Text;
}

struct Decided {               # 办结
  approved @0 :Bool;
  reason @1 :Text;
  legalBasis @2 :Text;         # 办事依据
  certificateNo @3 :Text;
  attachments @4 :List(AttachmentRef);  # the decision's papers (批复, 证照), scanned
}

struct Delivered {             # 回复: result handed to the applicant
  method @0 :Text;
  note @1 :Text;
}

struct Rated {                 # 一事一评 (好差评): the applicant rates the service
  score @0 :UInt8;             # 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意
  comment @1 :Text;
  reasons @2 :List(Text);      # why, for 不满意 and 非常不满意 (required then)
  channel @3 :Text;            # "evaluator" (评价器, the applicant's own screen),
                               # "agent" (entered for the applicant); empty: agent
}

struct FeeCollected {          # 代收
  amount @0 :Int64;            # fen
  receiptNo @1 :Text;
  reason @2 :Text;             # why the amount differs from the fee due
}

struct Closed {                # 销号 / 归档
  note @0 :Text;
}

struct Withdrawn {
  reason @0 :Text;
}

struct Comment {
  text @0 :Text;
}

struct Complaint {             # 效能投诉: a flow of its own, answered by `answered`
  text @0 :Text;
  against @1 :Text;            # code of the level complained about (empty: the holder)
  department @2 :Text;         # the department complained about, if any
  person @3 :Text;             # the person complained about, if any
  channel @4 :Text;            # "phone" 电话, "window" 窗口, "letter" 来信, "desk" 办事台
  complainant @5 :Text;        # who complains (投诉人)
  phone @6 :Text;              # how to reach them for the reply
  dueDate @7 :Text;            # "YYYY-MM-DD": the handling level answers by then
}

# 督办: a supervisor (county, or a township for its subtree) orders the
# level holding the case to handle it by a date; that level answers with
# `answered` (办理情况说明).
struct Supervised {
  note @0 :Text;               # what is ordered (required)
  dueDate @1 :Text;            # "YYYY-MM-DD", required: the new deadline
  holder @2 :Text;             # code of the level holding the case when ordered
}

enum AnswerTo {
  order @0;                    # a 督办 order: 办理情况说明
  complaint @1;                # a complaint: the result and the reply to the complainant
  rectification @2;            # a poor rating's follow-up (整改情况)
  revisit @3;                  # 回访: the follow-up call's result (about: the case's decision)
}

struct Answered {
  about @0 :EventId;           # the order, complaint, rating or decision answered
  to @1 :AnswerTo;
  text @2 :Text;               # required
  upheld @3 :Bool;             # complaint: 成立 (true) or 不成立
  score @4 :UInt8;             # revisit: the applicant's rating on the call (1..5); 0: not reached
}

struct Replied {               # answer to a consult case (咨询)
  text @0 :Text;
}

struct NotAccepted {           # 不予受理: refused at intake, a final outcome
  reason @0 :Text;             # required
  legalBasis @1 :Text;         # 办事依据
}

# 已接收: the level a case was handed to has stored the hand-over — the
# escalation to it, or (at the case's home) the decision or reply. Made by
# the receiving node itself (actor: system) when it stores the event, so
# the sender's clock (转报乡镇, 乡镇承办 when passed up, 结果回传) stops and
# the receiver's starts at the moment the case is really there.
struct Received {
  event @0 :EventId;           # the hand-over event stored
}

# Broadcast payloads are opaque documents here; their content is defined by
# the catalog and calendar formats (docs/FORMAT.md).
struct CatalogPublished {
  version @0 :UInt32;
  document @1 :Data;
}

struct CalendarPublished {
  year @0 :UInt16;
  document @1 :Data;
}

# 审计: something a node's operators or its county must be able to trace —
# a link admitted or refused, an event refused, a person's action refused by
# the role rules, a key learned or trusted, an administrative command. An
# audit event names no case; its home is its origin's own code, so it is
# stored at the origin and every ancestor (the county holds the whole tree's
# trail), never at siblings or descendants.
enum AuditWhat {
  connectionAdmitted @0;   # 连接准入: a peer's key was admitted (once per session)
  connectionRefused @1;    # 连接拒绝: a connection's key was refused
  eventRefused @2;         # 拒收事件: an event received from a peer was refused
  roleRefused @3;          # 越权操作: a person's action was refused by the role rules
  keyChanged @4;           # 密钥变更: a key was trusted or learned
  adminCommand @5;         # 管理操作: an administrative command was run
  eventQuarantined @6;     # 隔离事件: an event signed with a revoked or retired key was held
  deskLogin @7;            # 办事台登录: a person logged in at the node's desk (or set a password)
  deskLoginRefused @8;     # 登录失败: a wrong password or code, a slowed or locked account
  deskRequestRefused @9;   # 办事台拒绝: a desk request refused (no CSRF token, role, origin)
  nodeEnrolled @10;        # 入网: a child joined with a one-time code (or was removed)
  enrollRefused @11;       # 入网拒绝: a join refused (used, expired or foreign code, wrong secret)
}

struct Audit {
  what @0 :AuditWhat;
  peerCode @1 :Text;       # division code of the peer or node involved; may be empty
  who @2 :Text;            # the peer's address or key, or the person; may be empty
  subject @3 :Text;        # e.g. the refused event's id, the command, the key
  reason @4 :Text;
  count @5 :UInt32;        # how many times it happened (repeats aggregated), >= 1
  firstMs @6 :UInt64;      # first and last time, ms since the Unix epoch
  lastMs @7 :UInt64;
}

# 密钥轮换: a node rolled its signing key (`liandong keys rotate`). Signed
# with the old key, like the node's events before it; `proof` is the new
# key's Ed25519 signature over the bytes
#   "liandong key rotation" 0x00 ‖ origin ‖ 0x00 ‖ oldKey ‖ newKey
# (the ASCII text, a zero byte, the origin's code in ASCII, a zero byte,
# then the two 32-byte keys; docs/FORMAT.md §6), so nobody can name a key
# whose secret they do not hold. Its home is its
# origin; it belongs at the origin's ancestors and its whole subtree: every
# node that checks the origin's signatures. Events of the origin signed
# with oldKey after this one (higher seq) are quarantined.
struct KeyRotated {
  oldKey @0 :Data;             # 32-byte Ed25519 public key
  newKey @1 :Data;             # 32 bytes
  proof @2 :Data;              # 64 bytes
}

enum KeyState {
  active @0;                   # 有效
  retired @1;                  # 已轮换: replaced by a newer key of the same node
  revoked @2;                  # 已吊销: e.g. a stolen village laptop
}

struct KeyDirectoryEntry {
  code @0 :Text;               # whose key
  key @1 :Data;                # 32-byte Ed25519 public key
  state @2 :KeyState;
  trustedSeq @3 :UInt64;       # retired, revoked: events of `code` signed with `key`
                               # and seq <= trustedSeq stay valid; later ones are quarantined
  reason @4 :Text;
}

# 密钥目录: changes to the key directory, broadcast by the county (an origin
# of 6 digits or fewer) to its whole subtree: keys revoked, replacement keys
# added, rotations confirmed. Every entry's code is inside the origin's
# jurisdiction. A key once revoked stays revoked.
struct KeysPublished {
  entries @0 :List(KeyDirectoryEntry);
}

# 人员名册: who holds which role at which node, published by the county
# (an origin of 6 digits or fewer) to its whole subtree. The document's
# format is storage/roster.h; the newest version held is the one in force.
struct RosterPublished {
  version @0 :UInt32;
  document @1 :Data;
}

# 行政区划表: the names of the divisions (县, 乡镇, 村) under the county,
# published by the county (an origin of 6 digits or fewer) to its whole
# subtree, so that every node shows places by name. The document's format
# is storage/divisions.h; the newest version held is the one in force.
struct DivisionsPublished {
  version @0 :UInt32;
  document @1 :Data;
}

struct Event {
  id @0 :EventId;
  case @1 :EventId;            # id of the case's `submitted`; unset for broadcasts, audit
  home @2 :Text;               # the case's home code (routing key); origin for broadcasts, audit
  hlc @3 :UInt64;              # hybrid logical clock: (ms << 16) | counter
  actor @4 :Actor;
  settles @5 :List(EventId);   # conflicting events this one settles (see fold)
  body :union {
    submitted @6 :Submitted;
    accepted @7 :Accepted;
    supplementRequested @8 :SupplementRequested;
    supplemented @9 :Supplemented;
    escalated @10 :Escalated;
    assigned @11 :Assigned;
    opinion @12 :Opinion;
    decided @13 :Decided;
    delivered @14 :Delivered;
    rated @15 :Rated;
    feeCollected @16 :FeeCollected;
    closed @17 :Closed;
    withdrawn @18 :Withdrawn;
    comment @19 :Comment;
    complaint @20 :Complaint;
    replied @21 :Replied;
    catalogPublished @22 :CatalogPublished;
    calendarPublished @23 :CalendarPublished;
    audit @24 :Audit;
    keyRotated @25 :KeyRotated;
    keysPublished @26 :KeysPublished;
    rosterPublished @27 :RosterPublished;
    notAccepted @29 :NotAccepted;
    # @31: held for a case event; a reader that meets one it does not
    # know refuses the event as written by a newer schema.
    received @30 :Received;
    held31 @31 :Void;
    divisionsPublished @32 :DivisionsPublished;
    supervised @33 :Supervised;
    answered @34 :Answered;
  }
  # A re-issue (重新报送): this event redoes the named event of the same
  # origin and case, which a level above refused (a clock stamped ahead, a
  # key it did not accept). Same body kind; for `submitted` the case stays
  # the superseded event's own id. The fold skips a superseded event.
  supersedes @28 :EventId;
}

# What travels and is stored: the exact bytes of a serialized `Event`
# message (unpacked, with its segment table) and the origin's Ed25519
# signature over exactly those bytes. Relays never re-encode `event`.
struct SignedEvent {
  event @0 :Data;
  signature @1 :Data;          # 64 bytes
  signer @2 :Data;             # the 32-byte public key that signed; absent in events
                               # sealed before key rotation existed: the origin's first key
}
