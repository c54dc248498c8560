// index.js: 工作台 — today's counts, what waits at this node (GET /api/desk),
// the sync state in words; updated when the store changes (Desk polling).
//
// Ids: #sync-line (class "down" when a link is down), #count-waiting,
// #count-warning, #count-overdue, #today-submitted, #today-accepted,
// #today-decided, #today-delivered, #go-new, #work-table, #work-rows (each
// row [data-case=CASE] [data-flag=ok|warning|overdue], its link
// a.case-link), #work-empty, #message; #answers (shown when this level
// has 督办, 效能投诉 or 整改 to answer: GET /api/desk `answers`, 督办 first),
// #answer-list (li[data-case][data-event][data-kind], its link
// a.answer-link to the case page's answer form).
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
  answersHeading: (n) => '督办、投诉和整改：本级须答复 ' + n + ' 项',
  answersHint: '请在时限前办理并答复；答复会送回发起的单位。',
  answer: '答复',
  // What each item asks of this level, in one line.
  ask: {
    order: (e) => '督办：' + Desk.officeName(e.issued_by, e.issued_by_name) + ' 要求 ' + e.due + ' 前办结',
    complaint: (e) => '效能投诉：对' + Desk.officeName(e.against, e.against_name) + '的投诉，' + e.due + ' 前处理并回复投诉人',
    rectification: (e) => '整改：申请人评价“' + (e.rating_zh || '') + '”，' + e.due + ' 前整改并答复',
  },
  reasons: (list) => '（' + list.join('、') + '）',
  caseWords: (e) => '办件 ' + e.case + ' ' + (e.item_name || ''),
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

function answerItem(e) {
  const ask = T.ask[e.kind];
  const href = '/case.html' + Desk.query({ id: e.case, act: 'answer', about: e.event });
  return Desk.el(
    'li',
    { class: 'answer-item kind-' + e.kind, dataset: { case: e.case, event: e.event, kind: e.kind } },
    Desk.el(
      'div',
      { class: 'ask' },
      Desk.el('strong', null, ask ? ask(e) : e.kind_zh || e.kind),
      e.kind === 'rectification' && (e.reasons || []).length ? T.reasons(e.reasons) : null,
      ' ',
      Desk.flagBadge(e.flag === 'ok' ? 'open' : e.flag, Desk.daysLeft(e.days_left)),
    ),
    e.text ? Desk.el('div', { class: 'note' }, e.text) : null,
    Desk.el(
      'div',
      { class: 'muted small' },
      Desk.el('a', { class: 'case-link', href: '/case.html' + Desk.query({ id: e.case }) }, T.caseWords(e)),
    ),
    Desk.el('a', { class: 'button answer-link', href }, T.answer),
  );
}

function answers(list) {
  node('answers').hidden = list.length === 0;
  node('answers-h').textContent = T.answersHeading(list.length);
  Desk.fill('answer-list', list.map(answerItem));
}

async function refresh() {
  const d = await Desk.get('/api/desk');
  answers(d.answers || []);
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
