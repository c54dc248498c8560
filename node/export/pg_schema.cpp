#include "node/export/pg_schema.h"

namespace liandong::node::pg {

namespace {

// The script: tables keyed by node_code (the exporting county) so a city
// holds several counties in one database; views and functions that only
// group and divide the columns the exporter computed with the report's
// own code (node/report.h).
const char* const kSchema = R"SQL(
CREATE SCHEMA liandong;
COMMENT ON SCHEMA liandong IS '联动网办件数据 (liandong export postgres)';

CREATE TABLE liandong.schema_info (
  version integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE liandong.export_cursor (
  node_code text PRIMARY KEY,
  store_id text NOT NULL,
  lsn bigint NOT NULL DEFAULT 0,
  belt_until bigint NOT NULL DEFAULT 0,
  events bigint NOT NULL DEFAULT 0,
  batches bigint NOT NULL DEFAULT 0,
  store_changes integer NOT NULL DEFAULT 0,
  exported_at timestamptz
);
COMMENT ON TABLE liandong.export_cursor IS '导出游标：每个节点已导出到的日志序号 (LSN)，与数据在同一事务提交';

CREATE TABLE liandong.events (
  node_code text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  lsn bigint NOT NULL,
  origin text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  kind text COLLATE "C" NOT NULL,
  case_id text COLLATE "C",
  home text COLLATE "C" NOT NULL,
  hlc bigint NOT NULL,
  at timestamptz,
  actor text NOT NULL,
  actor_role text NOT NULL,
  body jsonb,
  PRIMARY KEY (node_code, id)
);
CREATE INDEX events_case ON liandong.events (node_code, case_id);
CREATE INDEX events_at ON liandong.events (at);
COMMENT ON TABLE liandong.events IS '事件：每条已签名事件一行（受理、办结、评价……）';
COMMENT ON COLUMN liandong.events.node_code IS '导出节点（县）代码';
COMMENT ON COLUMN liandong.events.id IS '事件编号（发起节点-序号）';
COMMENT ON COLUMN liandong.events.kind IS '事件类型（submitted 登记, accepted 受理, decided 办结 ……）';
COMMENT ON COLUMN liandong.events.case_id IS '办件编号';
COMMENT ON COLUMN liandong.events.at IS '发生时间';
COMMENT ON COLUMN liandong.events.actor IS '经办人';
COMMENT ON COLUMN liandong.events.body IS '事件内容 (JSON；身份证号、电话按配置遮蔽)';

CREATE TABLE liandong.cases (
  node_code text COLLATE "C" NOT NULL,
  case_id text COLLATE "C" NOT NULL,
  home text COLLATE "C" NOT NULL,
  village text COLLATE "C",
  township text COLLATE "C",
  item_code text COLLATE "C",
  item_name text,
  applicant_name text,
  applicant_id text,
  applicant_phone text,
  status text NOT NULL,
  status_zh text NOT NULL,
  handler text COLLATE "C",
  conflict boolean NOT NULL,
  departments text[],
  has_decision boolean NOT NULL,
  approved boolean NOT NULL,
  fee_due_fen bigint,
  fee_collected_fen bigint,
  rating smallint,
  complaints integer,
  due_date date,
  submitted_at timestamptz,
  accepted_at timestamptz,
  decided_at timestamptz,
  delivered_at timestamptz,
  closed_at timestamptz,
  event_count integer,
  counted boolean NOT NULL,
  submitted_day date,
  month text COLLATE "C",
  taken_level text COLLATE "C",
  decided_level text COLLATE "C",
  promised_day date,
  received integer,
  accepted integer,
  completed integer,
  on_time integer,
  immediate integer,
  forwarded integer,
  escalated integer,
  joint integer,
  refused integer,
  withdrawn integer,
  open integer,
  rated integer,
  good_rating integer,
  fees_fen bigint,
  accept_days integer,
  decide_days integer,
  deliver_days integer,
  exported_at timestamptz,
  PRIMARY KEY (node_code, case_id)
);
CREATE INDEX cases_township_month ON liandong.cases (township, month);
CREATE INDEX cases_day ON liandong.cases (submitted_day);
COMMENT ON TABLE liandong.cases IS '办件：每件一行，当前状态及统计口径（与 liandong report 一致）';
COMMENT ON COLUMN liandong.cases.case_id IS '办件编号';
COMMENT ON COLUMN liandong.cases.home IS '所属村（或受理乡镇、县）代码';
COMMENT ON COLUMN liandong.cases.village IS '所属村代码';
COMMENT ON COLUMN liandong.cases.township IS '所属乡镇代码';
COMMENT ON COLUMN liandong.cases.item_code IS '事项编码';
COMMENT ON COLUMN liandong.cases.item_name IS '事项名称';
COMMENT ON COLUMN liandong.cases.applicant_name IS '申请人';
COMMENT ON COLUMN liandong.cases.applicant_id IS '身份证号（默认遮蔽）';
COMMENT ON COLUMN liandong.cases.applicant_phone IS '联系电话（默认遮蔽）';
COMMENT ON COLUMN liandong.cases.status_zh IS '办件状态';
COMMENT ON COLUMN liandong.cases.due_date IS '承诺办结日期';
COMMENT ON COLUMN liandong.cases.submitted_at IS '登记时间';
COMMENT ON COLUMN liandong.cases.decided_at IS '办结时间';
COMMENT ON COLUMN liandong.cases.counted IS '计入统计（登记事件已到）';
COMMENT ON COLUMN liandong.cases.submitted_day IS '登记日期（北京时间，统计期间按此）';
COMMENT ON COLUMN liandong.cases.month IS '登记月份 YYYY-MM';
COMMENT ON COLUMN liandong.cases.taken_level IS '受理层级代码';
COMMENT ON COLUMN liandong.cases.decided_level IS '审批层级代码（作出决定的层级）';
COMMENT ON COLUMN liandong.cases.received IS '收件 (0/1)';
COMMENT ON COLUMN liandong.cases.accepted IS '受理 (0/1)';
COMMENT ON COLUMN liandong.cases.completed IS '办结 (0/1)';
COMMENT ON COLUMN liandong.cases.on_time IS '按时办结 (0/1)';
COMMENT ON COLUMN liandong.cases.immediate IS '即办 (0/1)';
COMMENT ON COLUMN liandong.cases.forwarded IS '转报乡镇 (0/1)';
COMMENT ON COLUMN liandong.cases.escalated IS '上报件 (0/1)';
COMMENT ON COLUMN liandong.cases.refused IS '不予许可 (0/1)';
COMMENT ON COLUMN liandong.cases.open IS '在办 (0/1)';
COMMENT ON COLUMN liandong.cases.rated IS '已评价 (0/1)';
COMMENT ON COLUMN liandong.cases.good_rating IS '好评：非常满意、满意、基本满意 (0/1)';
COMMENT ON COLUMN liandong.cases.fees_fen IS '代收费（分）';
COMMENT ON COLUMN liandong.cases.accept_days IS '受理用时（工作日）';
COMMENT ON COLUMN liandong.cases.decide_days IS '承办用时（工作日）';
COMMENT ON COLUMN liandong.cases.deliver_days IS '送达用时（工作日）';

CREATE TABLE liandong.steps (
  node_code text COLLATE "C" NOT NULL,
  case_id text COLLATE "C" NOT NULL,
  n integer NOT NULL,
  step text NOT NULL,
  step_zh text NOT NULL,
  holder text COLLATE "C" NOT NULL,
  holder_level text NOT NULL,
  started_at timestamptz,
  limit_days integer,
  due_date date,
  done boolean NOT NULL,
  done_at timestamptz,
  working_days integer,
  paused boolean NOT NULL,
  late boolean NOT NULL,
  flag text NOT NULL,
  PRIMARY KEY (node_code, case_id, n)
);
COMMENT ON TABLE liandong.steps IS '全程代理环节：每环节一行（层级、开始、结束、用时、期限、是否超期）';
COMMENT ON COLUMN liandong.steps.step_zh IS '环节';
COMMENT ON COLUMN liandong.steps.holder IS '承担层级代码';
COMMENT ON COLUMN liandong.steps.limit_days IS '时限（工作日）';
COMMENT ON COLUMN liandong.steps.due_date IS '到期日';
COMMENT ON COLUMN liandong.steps.working_days IS '用时（工作日）';
COMMENT ON COLUMN liandong.steps.late IS '超期（在办环节按导出时计）';

CREATE TABLE liandong.materials (
  node_code text COLLATE "C" NOT NULL,
  case_id text COLLATE "C" NOT NULL,
  n integer NOT NULL,
  name text NOT NULL,
  state text NOT NULL,
  PRIMARY KEY (node_code, case_id, n)
);
COMMENT ON TABLE liandong.materials IS '申报材料';

CREATE TABLE liandong.attachments (
  node_code text COLLATE "C" NOT NULL,
  case_id text COLLATE "C" NOT NULL,
  event_id text COLLATE "C" NOT NULL,
  n integer NOT NULL,
  name text,
  media_type text,
  material text,
  size bigint,
  sha256 text,
  PRIMARY KEY (node_code, event_id, n)
);
CREATE INDEX attachments_case ON liandong.attachments (node_code, case_id);
COMMENT ON TABLE liandong.attachments IS '附件（只含文件信息，不含文件内容）';

CREATE TABLE liandong.ratings (
  node_code text COLLATE "C" NOT NULL,
  case_id text COLLATE "C" NOT NULL,
  event_id text COLLATE "C" NOT NULL,
  score smallint NOT NULL,
  word text NOT NULL,
  good boolean NOT NULL,
  channel text,
  reasons text[],
  comment text,
  rated_at timestamptz,
  rated_level text,
  PRIMARY KEY (node_code, event_id)
);
CREATE INDEX ratings_case ON liandong.ratings (node_code, case_id);
COMMENT ON TABLE liandong.ratings IS '好差评（一事一评）';
COMMENT ON COLUMN liandong.ratings.word IS '评价（非常满意……非常不满意）';

CREATE TABLE liandong.complaints (
  node_code text COLLATE "C" NOT NULL,
  case_id text COLLATE "C" NOT NULL,
  event_id text COLLATE "C" NOT NULL,
  against text COLLATE "C",
  department text,
  person text,
  channel text,
  text text,
  issued_day date,
  due_date date,
  level text COLLATE "C",
  answered boolean NOT NULL,
  answered_day date,
  upheld boolean,
  on_time boolean,
  PRIMARY KEY (node_code, event_id)
);
CREATE INDEX complaints_case ON liandong.complaints (node_code, case_id);
COMMENT ON TABLE liandong.complaints IS '效能投诉';

CREATE TABLE liandong.supervision_orders (
  node_code text COLLATE "C" NOT NULL,
  case_id text COLLATE "C" NOT NULL,
  event_id text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  issued_by text COLLATE "C",
  issued_day date,
  level text COLLATE "C",
  due_date date,
  text text,
  answered boolean NOT NULL,
  answered_day date,
  on_time boolean,
  PRIMARY KEY (node_code, event_id)
);
CREATE INDEX orders_case ON liandong.supervision_orders (node_code, case_id);
COMMENT ON TABLE liandong.supervision_orders IS '督办与整改';

CREATE TABLE liandong.divisions (
  node_code text COLLATE "C" NOT NULL,
  code text COLLATE "C" NOT NULL,
  name text NOT NULL,
  level text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (node_code, code)
);
COMMENT ON TABLE liandong.divisions IS '行政区划表';

CREATE TABLE liandong.catalogs (
  node_code text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  issuer text NOT NULL,
  title text,
  items integer,
  lsn bigint,
  PRIMARY KEY (node_code, version)
);
COMMENT ON TABLE liandong.catalogs IS '事项目录版本';

CREATE TABLE liandong.catalog_items (
  node_code text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  code text COLLATE "C" NOT NULL,
  name text NOT NULL,
  handling text,
  level text COLLATE "C",
  total_days integer,
  PRIMARY KEY (node_code, version, code)
);
COMMENT ON TABLE liandong.catalog_items IS '事项目录条目';

-- The report's figures (node/report.h), grouped: each case counts once, by
-- the China date of its registration.
CREATE VIEW liandong.report_cases AS
  SELECT c.node_code, c.case_id, c.home, c.village, c.township, c.item_code, c.item_name,
         c.submitted_day, c.month, c.taken_level, c.decided_level,
         c.received, c.accepted, c.completed, c.on_time, c.immediate, c.forwarded,
         c.escalated, c.joint, c.refused, c.withdrawn, c.open, c.rated, c.good_rating,
         c.fees_fen
  FROM liandong.cases c WHERE c.counted;
COMMENT ON VIEW liandong.report_cases IS '计入统计的办件（按登记日期）';

CREATE FUNCTION liandong.rate(part bigint, whole bigint) RETURNS numeric
  LANGUAGE sql IMMUTABLE AS $$ SELECT round(part::numeric / NULLIF(whole, 0), 6) $$;

CREATE VIEW liandong.report_township_month AS
  SELECT node_code, township, month,
         sum(received)::bigint AS received, sum(accepted)::bigint AS accepted,
         sum(completed)::bigint AS completed, sum(on_time)::bigint AS on_time,
         liandong.rate(sum(on_time)::bigint, sum(completed)::bigint) AS on_time_rate,
         sum(immediate)::bigint AS immediate,
         liandong.rate(sum(immediate)::bigint, sum(completed)::bigint) AS immediate_rate,
         sum(rated)::bigint AS rated, sum(good_rating)::bigint AS good_ratings,
         liandong.rate(sum(good_rating)::bigint, sum(rated)::bigint) AS good_rating_rate
  FROM liandong.report_cases GROUP BY node_code, township, month;
COMMENT ON VIEW liandong.report_township_month IS '按乡镇、月份：收件、办结、按时办结率、即办率、满意率';

CREATE VIEW liandong.report_township AS
  SELECT node_code, township,
         sum(received)::bigint AS received, sum(accepted)::bigint AS accepted,
         sum(completed)::bigint AS completed, sum(on_time)::bigint AS on_time,
         liandong.rate(sum(on_time)::bigint, sum(completed)::bigint) AS on_time_rate,
         sum(immediate)::bigint AS immediate,
         liandong.rate(sum(immediate)::bigint, sum(completed)::bigint) AS immediate_rate,
         sum(rated)::bigint AS rated, sum(good_rating)::bigint AS good_ratings,
         liandong.rate(sum(good_rating)::bigint, sum(rated)::bigint) AS good_rating_rate
  FROM liandong.report_cases GROUP BY node_code, township;
COMMENT ON VIEW liandong.report_township IS '按乡镇（全部期间）';

CREATE VIEW liandong.report_month AS
  SELECT node_code, month,
         sum(received)::bigint AS received, sum(accepted)::bigint AS accepted,
         sum(completed)::bigint AS completed, sum(on_time)::bigint AS on_time,
         liandong.rate(sum(on_time)::bigint, sum(completed)::bigint) AS on_time_rate,
         sum(immediate)::bigint AS immediate,
         liandong.rate(sum(immediate)::bigint, sum(completed)::bigint) AS immediate_rate,
         sum(rated)::bigint AS rated, sum(good_rating)::bigint AS good_ratings,
         liandong.rate(sum(good_rating)::bigint, sum(rated)::bigint) AS good_rating_rate
  FROM liandong.report_cases GROUP BY node_code, month;
COMMENT ON VIEW liandong.report_month IS '按月份（每个县）';

CREATE VIEW liandong.city_report_month AS
  SELECT month, count(DISTINCT node_code)::bigint AS counties,
         sum(received)::bigint AS received, sum(accepted)::bigint AS accepted,
         sum(completed)::bigint AS completed, sum(on_time)::bigint AS on_time,
         liandong.rate(sum(on_time)::bigint, sum(completed)::bigint) AS on_time_rate,
         sum(immediate)::bigint AS immediate,
         liandong.rate(sum(immediate)::bigint, sum(completed)::bigint) AS immediate_rate,
         sum(rated)::bigint AS rated, sum(good_rating)::bigint AS good_ratings,
         liandong.rate(sum(good_rating)::bigint, sum(rated)::bigint) AS good_rating_rate
  FROM liandong.report_cases GROUP BY month;
COMMENT ON VIEW liandong.city_report_month IS '全市（库中所有县）按月份';

-- Any period and grouping, as `liandong report --from --to --by`: by is
-- 'none' (one row, key ''), 'village', 'township' or 'month'.
CREATE FUNCTION liandong.report(p_from date, p_to date, p_by text DEFAULT 'none',
                                p_node text DEFAULT NULL)
  RETURNS TABLE (node_code text, key text, received bigint, accepted bigint, completed bigint,
                 on_time bigint, on_time_rate numeric, immediate bigint, immediate_rate numeric,
                 rated bigint, good_ratings bigint, good_rating_rate numeric)
  LANGUAGE sql STABLE AS $$
  SELECT r.node_code,
         CASE p_by WHEN 'village' THEN r.home WHEN 'township' THEN r.township
                   WHEN 'month' THEN r.month ELSE '' END AS key,
         sum(r.received)::bigint, sum(r.accepted)::bigint, sum(r.completed)::bigint,
         sum(r.on_time)::bigint,
         liandong.rate(sum(r.on_time)::bigint, sum(r.completed)::bigint),
         sum(r.immediate)::bigint,
         liandong.rate(sum(r.immediate)::bigint, sum(r.completed)::bigint),
         sum(r.rated)::bigint, sum(r.good_rating)::bigint,
         liandong.rate(sum(r.good_rating)::bigint, sum(r.rated)::bigint)
  FROM liandong.report_cases r
  WHERE (p_from IS NULL OR r.submitted_day >= p_from)
    AND (p_to IS NULL OR r.submitted_day <= p_to)
    AND (p_node IS NULL OR r.node_code = p_node)
  GROUP BY 1, 2 ORDER BY 1, 2
$$;
COMMENT ON FUNCTION liandong.report(date, date, text, text) IS '任意期间统计，同 liandong report --from --to --by';
)SQL";

}  // namespace

const std::string& schema_sql() {
  static const std::string s = kSchema;
  return s;
}

Status ensure_schema(pqxx::connection& conn) {
  try {
    pqxx::work w(conn);
    // One creator at a time, across every county exporting to this database.
    w.exec("SELECT pg_advisory_xact_lock(7235320001)");
    const auto has = w.exec(
        "SELECT to_regclass('liandong.schema_info') IS NOT NULL, "
        "to_regnamespace('liandong') IS NOT NULL");
    const bool info = has[0][0].as<bool>();
    const bool ns = has[0][1].as<bool>();
    if (!info && ns)
      return Status::invalid(
          "数据库已有名为 liandong 的模式，但不是本系统建立的 (schema liandong is not ours)");
    if (!info) {
      w.exec(schema_sql());
      w.exec("INSERT INTO liandong.schema_info (version) VALUES (" +
             std::to_string(kPgSchemaVersion) + ")");
      w.commit();
      return Status();
    }
    const auto v = w.exec("SELECT max(version) FROM liandong.schema_info");
    const int version = v[0][0].is_null() ? 0 : v[0][0].as<int>();
    if (version != kPgSchemaVersion)
      return Status::invalid("数据库中的导出表结构为第 " + std::to_string(version) +
                             " 版，本程序为第 " + std::to_string(kPgSchemaVersion) +
                             " 版，不能写入 (schema version mismatch)");
    w.commit();
    return Status();
  } catch (const pqxx::broken_connection& e) {
    return Status::disconnected(std::string("PostgreSQL 连接中断: ") + e.what());
  } catch (const std::exception& e) {
    return Status::internal(std::string("建立导出表结构失败: ") + e.what());
  }
}

}  // namespace liandong::node::pg
