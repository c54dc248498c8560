// index.js: 工作台 — today's counts, what waits at this node (GET /api/desk),
// the sync state in words; updated when the store changes (Desk polling).
//
// Ids: #sync-line (class "down" when a link is down), #count-waiting,
// #count-warning, #count-overdue, #today-submitted, #today-accepted,
// #today-decided, #today-delivered, #go-new, #work-table, #work-rows (each
// row [data-case=CASE] [data-flag=ok|warning|overdue], its link
// a.case-link), #work-empty, #message.
const T = {
  title: '工作台',
  heading: '工作台',
  newCase: '登记新办件',
  countsHeading: '今日概况',
  waiting: '件待办',
  warning: '件黄牌预警',
  overdue: '件红牌超期',
  todaySubmitted: '件今日登记',
  todayAccepted: '件今日受理',
  todayDecided: '件今日办结',
  todayDelivered: '件今日送达',
  workHeading: '待办办件（最紧急的在前）',
  workHint: '点办件编号查看详情并办理。',
  col: {
    flag: '时限',
    case: '办件编号',
    item: '办理事项',
    applicant: '申请人',
    status: '状态',
    waiting: '待办事项',
    due: '承诺办结日期',
    left: '剩余时限',
  },
  empty: '本点目前没有待办的办件。',
  dueNone: '受理后确定',
};

function node(id) {
  return document.getElementById(id);
}

function setCount(id, n) {
  node(id).textContent = String(n || 0);
}

function row(c) {
  const id = c.case;
  return Desk.el(
    'tr',
    { dataset: { case: id, flag: c.flag || 'ok' } },
    Desk.el('td', null, Desk.flagBadge(c.flag || 'ok', c.flag_zh)),
    Desk.el(
      'td',
      { class: 'nowrap' },
      Desk.el('a', { class: 'case-link', href: '/case.html?id=' + encodeURIComponent(id) }, id),
    ),
    Desk.el('td', null, c.item_name || c.item_code || ''),
    Desk.el('td', null, c.applicant_name || ''),
    Desk.el('td', null, c.status_zh || c.status || ''),
    Desk.el('td', null, Desk.el('strong', null, c.waiting_for || '')),
    Desk.el('td', { class: 'nowrap' }, c.due_date || T.dueNone),
    Desk.el('td', null, Desk.daysLeft(c.days_left)),
  );
}

async function refresh() {
  const d = await Desk.get('/api/desk');
  Desk.showSync(node('sync-line'), d.sync);
  const today = d.today || {};
  const counts = d.counts || {};
  setCount('count-waiting', counts.waiting);
  setCount('count-warning', counts.warning);
  setCount('count-overdue', counts.overdue);
  setCount('today-submitted', today.submitted);
  setCount('today-accepted', today.accepted);
  setCount('today-decided', today.decided);
  setCount('today-delivered', today.delivered);
  const work = d.work || [];
  Desk.fill('work-rows', work.map(row));
  node('work-empty').hidden = work.length > 0;
  node('work-table').hidden = work.length === 0;
  Desk.seen(d.lsn);
}

Desk.start({ page: 'index', strings: T, init: refresh, refresh });
