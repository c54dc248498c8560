// reports.js: 统计报表 — GET /api/report (docs/DESK.md "Reports"): the
// figures of a period chosen by clicking (本月, 上月, 本季度, 本年 or from/to),
// by township, village, level, department, item, month or person (人员绩效,
// only when the session may see it); charts drawn with Chart.js (Debian's
// libjs-chart.js, served by the node); the statistics table with the
// columns the node sends (never listed here); downloads of the table as
// XLSX and CSV and of the 台账.
//
// Clicking a township (a row or its bar) shows its villages; the crumbs
// (全县 › 南安镇) go back.
//
// Ids: #summary (.count[data-figure=KEY]), #report-table,
// #report-rows (tr[data-key=KEY] > td[data-col=HEADER]), #report-total,
// #report-period, #crumbs, [data-period=month|last_month|quarter|year]
// (aria-pressed), #from, #to, #custom-go, #by-buttons (button[data-by]),
// #dl-xlsx, #dl-csv, #dl-ledger, #dl-ledger-csv, canvases #chart-places,
// #chart-months, #chart-rates, #chart-overdue; body[data-ready] once drawn.
const T = {
  title: '统计报表',
  heading: '统计报表',
  print: '打印',
  periodHeading: '统计期间和分组',
  periodLabel: '统计期间',
  periods: { month: '本月', last_month: '上月', quarter: '本季度', year: '本年' },
  from: '从',
  to: '至',
  customGo: '按所选日期统计',
  byLabel: '分组',
  by: {
    place: '按区域',
    level: '按层级',
    department: '按部门',
    item: '按事项',
    month: '按月份',
    person: '人员绩效',
  },
  byHeading: {
    township: '（按乡镇）',
    village: '（按村）',
    level: '（按层级，各级各签本级数字）',
    department: '（按部门，联办件在每个部门各计一次）',
    item: '（按事项）',
    month: '（按月份）',
    person: '（人员绩效：受理人计收件、在办、超期，决定人计办结、按时、即办、好差评）',
  },
  summaryHeading: '办件统计',
  period: (p, asOf) => '统计期间 ' + p + '　统计截至 ' + asOf,
  crumbTop: { county: '全县', township: '全镇', village: '本村' },
  drillHint: '点击乡镇的柱子或表格中的乡镇，查看该乡镇各村的数字。',
  chartPlaces: { township: '各乡镇收件与办结', village: '各村收件与办结', item: '各事项收件与办结' },
  chartMonths: '各月收件与办结',
  chartRates: '按时办结率、即办率、满意率（好评率）',
  chartOverdue: '红牌超期（在办且已过承诺日期）按层级和部门',
  tableHeading: '统计表',
  dlXlsx: '下载 Excel（XLSX）',
  dlCsv: '下载 CSV',
  dlLedger: '下载台账（XLSX）',
  dlLedgerCsv: '下载台账 CSV',
  empty: '本期间没有登记的办件。',
  total: '合计',
  definitions:
    '说明：按时办结率 = 按时办结 ÷ 办结；即办率 = 即办 ÷ 办结；满意率（好评率）= 非常满意、满意、基本满意 ÷ 评价数；' +
    '红牌超期 = 在办且已过承诺办结日期。期间按登记日期（北京时间）计。',
  // The figures the summary and the charts use, by their JSON key; any
  // other key the node sends is left to the table.
  figures: {
    received: '收件',
    completed: '办结',
    on_time_rate: '按时办结率',
    immediate_rate: '即办率',
    good_rating_rate: '满意率',
    open: '在办',
    overdue: '红牌超期',
    complaints: '投诉',
  },
  crumbsLabel: '区域层级',
  scope: '范围：',
  noOverdue: '本期间没有红牌超期办件',
  chartsLabel: '图表',
  overdueLevel: '各层级',
  overdueDept: '各部门',
  none: '—',
  badDate: '请按 年-月-日 选择日期',
  percent: (v) => (v === null || v === undefined ? '—' : (v * 100).toFixed(1) + '%'),
};

// Bar colours: received, completed, and the three rates; overdue in red.
const COLOURS = ['#0a4a94', '#2e8b3a', '#e0a100', '#7b3fa0', '#c0161f'];

const state = {
  period: 'month',
  from: '',
  to: '',
  by: 'place', // place (township/village), level, department, item, month, person
  home: '', // a township drilled into
  charts: {},
  session: null,
};

function node(id) {
  return document.getElementById(id);
}

// ---- periods (China dates) --------------------------------------------------------

function chinaToday() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

function ymd(y, m, d) {
  // m is 1-based; Date.UTC rolls day 0 back to the month before.
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
}

function periodDates(kind) {
  const [y, m] = chinaToday().split('-').map(Number);
  if (kind === 'last_month') return [ymd(y, m - 1, 1), ymd(y, m, 0)];
  if (kind === 'quarter') {
    const q = Math.floor((m - 1) / 3) * 3 + 1;
    return [ymd(y, q, 1), ymd(y, q + 3, 0)];
  }
  if (kind === 'year') return [ymd(y, 1, 1), ymd(y, 12, 31)];
  return [ymd(y, m, 1), ymd(y, m + 1, 0)];
}

// ---- what to ask for ----------------------------------------------------------------

function level() {
  const s = state.session || {};
  return s.level || { 12: 'village', 9: 'township', 6: 'county' }[String(s.node || '').length] || 'county';
}

// The grouping of the place table: a county's townships, a township's (or
// a drilled township's) villages; a village point's items.
function placeBy() {
  if (state.home) return 'village';
  if (level() === 'county') return 'township';
  if (level() === 'township') return 'village';
  return 'item';
}

function tableBy() {
  return state.by === 'place' ? placeBy() : state.by;
}

function params(extra) {
  return Object.assign({ from: state.from, to: state.to, home: state.home }, extra);
}

function reportUrl(extra) {
  return '/api/report' + Desk.query(params(extra));
}

// ---- drawing ----------------------------------------------------------------------

function cellText(v, kind) {
  if (v === null || v === undefined) return T.none;
  if (kind === 'rate') return (v * 100).toFixed(1) + '%';
  if (kind === 'average') return v.toFixed(1);
  if (kind === 'yuan') return v.toFixed(2);
  return String(v);
}

function drawTable(r) {
  const cols = r.columns || [];
  Desk.fill(
    'report-head',
    Desk.el('th', null, r.by_zh || ''),
    cols.map((c) => Desk.el('th', { class: 'num' }, c.header)),
  );
  const drill = r.by === 'township' && !state.home;
  const rowOf = (key, name, cells, total) =>
    Desk.el(
      'tr',
      { dataset: { key }, class: total ? 'total' : null },
      Desk.el(
        total ? 'th' : 'td',
        { scope: 'row' },
        drill && !total && key.length === 9
          ? Desk.el(
              'a',
              { href: '#', dataset: { drill: key }, onclick: (e) => (e.preventDefault(), drillInto(key, name)) },
              name,
            )
          : name,
      ),
      cols.map((c, i) => Desk.el('td', { class: 'num', dataset: { col: c.header } }, cellText(cells[i], c.kind))),
    );
  Desk.fill(
    'report-rows',
    (r.rows || []).map((row) => rowOf(row.key, row.name || row.key, row.cells || [], false)),
  );
  Desk.fill('report-total', rowOf('total', T.total, (r.total || {}).cells || [], true));
  node('report-empty').hidden = ((r.total || {}).received || 0) > 0;
  node('table-by').textContent = T.byHeading[r.by] || '';
}

function drawSummary(r) {
  const t = r.total || {};
  const keys = ['received', 'completed', 'on_time_rate', 'immediate_rate', 'good_rating_rate', 'open', 'overdue', 'complaints'];
  Desk.fill(
    'summary',
    keys.map((k) => {
      const v = t[k];
      const text = k.endsWith('_rate') ? T.percent(v) : v === undefined ? T.none : String(v);
      return Desk.el(
        'div',
        { class: 'count' + (k === 'overdue' && v > 0 ? ' overdue' : ''), dataset: { figure: k } },
        Desk.el('span', { class: 'n' }, text),
        Desk.el('span', null, T.figures[k]),
      );
    }),
  );
}

function chart(id, config) {
  if (typeof Chart === 'undefined') return; // the page still shows its table
  if (state.charts[id]) state.charts[id].destroy();
  config.options = Object.assign(
    {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: 'bottom' } },
    },
    config.options || {},
  );
  state.charts[id] = new Chart(node(id), config);
}

// A place as a chart's axis says it: the name without its code.
function short(name) {
  return String(name || '').replace(/（[0-9]+）/, '');
}

function barsOf(rows, keys, names, percent) {
  return keys.map((k, i) => ({
    label: names[i],
    data: rows.map((r) => {
      if (!percent) return r[k] || 0;
      return r[k] === null || r[k] === undefined ? null : Math.round(r[k] * 1000) / 10;
    }),
    backgroundColor: COLOURS[percent ? i + 2 : i],
    maxBarThickness: 56,
  }));
}

// 收件 and 办结 of each row.
function countBars(rows) {
  return barsOf(rows, ['received', 'completed'], [T.figures.received, T.figures.completed]);
}

function drawPlaces(r) {
  const rows = r.rows || [];
  node('cap-places').textContent = T.chartPlaces[r.by] || T.chartPlaces.item;
  node('drill-hint').hidden = !(r.by === 'township' && !state.home);
  chart('chart-places', {
    type: 'bar',
    data: { labels: rows.map((x) => short(x.name || x.key)), datasets: countBars(rows) },
    options: {
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      onClick: (e, els) => {
        if (r.by !== 'township' || state.home || !els.length) return;
        const row = rows[els[0].index];
        if (row.key.length === 9) drillInto(row.key, row.name || row.key); // a township, not the county's own
      },
    },
  });
  chart('chart-rates', {
    type: 'bar',
    data: {
      labels: rows.map((x) => short(x.name || x.key)),
      datasets: barsOf(
        rows,
        ['on_time_rate', 'immediate_rate', 'good_rating_rate'],
        [T.figures.on_time_rate, T.figures.immediate_rate, T.figures.good_rating_rate],
        true,
      ),
    },
    options: { scales: { y: { beginAtZero: true, max: 100, ticks: { callback: (v) => v + '%' } } } },
  });
}

function drawMonths(r) {
  const rows = r.rows || [];
  chart('chart-months', {
    type: 'bar',
    data: { labels: rows.map((x) => x.key), datasets: countBars(rows) },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

function drawOverdue(byLevel, byDept) {
  const lv = (byLevel.rows || []).map((x) => ({ label: short(x.name || x.key), n: x.overdue || 0 }));
  const dp = (byDept.rows || []).map((x) => ({ label: x.key, n: x.overdue || 0 }));
  const all = lv.concat(dp);
  node('overdue-none').hidden = all.some((x) => x.n > 0);
  chart('chart-overdue', {
    type: 'bar',
    data: {
      labels: all.map((x) => x.label),
      datasets: [
        { label: T.overdueLevel, data: lv.map((x) => x.n).concat(dp.map(() => null)), backgroundColor: COLOURS[4] },
        { label: T.overdueDept, data: lv.map(() => null).concat(dp.map((x) => x.n)), backgroundColor: '#e87a7f' },
      ],
    },
    options: {
      indexAxis: 'y',
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
    },
  });
}

function drawCrumbs(r) {
  const top = Desk.el(
    state.home ? 'a' : 'span',
    state.home ? { href: '#', id: 'crumb-top', onclick: (e) => (e.preventDefault(), drillInto('', '')) } : { id: 'crumb-top' },
    T.crumbTop[level()] || T.crumbTop.county,
  );
  Desk.fill(
    'crumbs',
    T.scope,
    top,
    state.home ? [Desk.el('span', { class: 'sep' }, '›'), Desk.el('span', { id: 'crumb-here' }, short(state.homeName))] : null,
  );
  node('report-node').textContent = r.node_name || '';
}

function drawDownloads() {
  const by = tableBy();
  node('dl-xlsx').href = reportUrl({ by, format: 'xlsx' });
  node('dl-csv').href = reportUrl({ by, format: 'csv' });
  node('dl-ledger').href = '/api/report/ledger' + Desk.query(params({ format: 'xlsx' }));
  node('dl-ledger-csv').href = '/api/report/ledger' + Desk.query(params({ format: 'csv' }));
}

function drawChoosers() {
  for (const b of document.querySelectorAll('[data-period]'))
    b.setAttribute('aria-pressed', String(b.dataset.period === state.period));
  for (const b of document.querySelectorAll('#by-buttons [data-by]'))
    b.setAttribute('aria-pressed', String(b.dataset.by === state.by));
  node('from').value = state.from;
  node('to').value = state.to;
}

// ---- reading ------------------------------------------------------------------------

let reading = 0;

async function refresh() {
  const mine = ++reading;
  document.body.removeAttribute('data-ready');
  drawChoosers();
  drawDownloads();
  const [table, places, months, byLevel, byDept] = await Promise.all([
    Desk.get(reportUrl({ by: tableBy() })),
    state.by === 'place' ? null : Desk.get(reportUrl({ by: placeBy() })),
    Desk.get(reportUrl({ by: 'month' })),
    Desk.get(reportUrl({ by: 'level' })),
    Desk.get(reportUrl({ by: 'department' })),
  ]);
  if (mine !== reading) return; // a newer choice is being drawn
  Desk.say('');
  drawByButtons(Boolean(table.may_see_persons));
  drawChoosers();
  node('report-period').textContent = T.period(table.period_zh, table.as_of);
  drawCrumbs(table);
  drawSummary(table);
  drawTable(table);
  drawPlaces(places || table);
  drawMonths(months);
  drawOverdue(byLevel, byDept);
  if (typeof table.lsn === 'number') Desk.seen(table.lsn);
  drawnAt = Date.now();
  document.body.dataset.ready = [state.from, state.to, tableBy(), state.home].join('|');
}

async function redraw() {
  try {
    await refresh();
  } catch (e) {
    Desk.showError(e);
  }
}

function choosePeriod(kind) {
  state.period = kind;
  [state.from, state.to] = periodDates(kind);
  redraw();
}

function chooseCustom() {
  const from = node('from').value;
  const to = node('to').value;
  if ((from && !Desk.isDate(from)) || (to && !Desk.isDate(to))) return Desk.say(T.badDate, 'error');
  state.period = 'custom';
  state.from = from;
  state.to = to;
  redraw();
}

function drillInto(code, name) {
  state.home = code;
  state.homeName = name;
  if (code) state.by = 'place';
  redraw();
}

// The grouping buttons; 人员绩效 only for whom the node lets see it.
function drawByButtons(persons) {
  const kinds = ['place', 'level', 'department', 'item', 'month'].concat(persons ? ['person'] : []);
  if (node('by-buttons').childElementCount === kinds.length) return;
  Desk.fill(
    'by-buttons',
    kinds.map((k) =>
      Desk.el('button', { type: 'button', class: 'secondary', dataset: { by: k }, onclick: () => ((state.by = k), redraw()) }, T.by[k]),
    ),
  );
}

function init(session) {
  state.session = session;
  [state.from, state.to] = periodDates(state.period);
  drawByButtons(false);
  for (const b of document.querySelectorAll('[data-period]')) b.addEventListener('click', () => choosePeriod(b.dataset.period));
  node('custom-go').addEventListener('click', chooseCustom);
  node('print').addEventListener('click', () => window.print());
  return refresh();
}

// A change in the store redraws the page at most every 30 s: each draw
// reads every case of the period five times over.
const FOLLOW_MS = 30000;
let drawnAt = 0;

function follow() {
  if (Date.now() - drawnAt < FOLLOW_MS) return null;
  return refresh();
}

Desk.start({ page: 'reports', strings: T, init, refresh: follow });
