// search.js: 办件查询 — GET /api/cases with the fields filled in (from / to:
// the registration dates), a page at a time (下一页 follows `next`).
//
// Ids: #search-form, #q-name, #q-id-number, #q-phone, #q-case-number,
// #q-item (select, value = item code), #q-status (select, value = status
// name), #q-from, #q-to (registration date range), #search-submit,
// #search-reset; #results, #results-count, #results-table, #result-rows
// (tr[data-case=CASE], link a.case-link), #results-empty, #next-page,
// #first-page; #message. The query is kept in the address
// (search.html?name=...&status=...), so a reload shows the same page.
const T = {
  title: '办件查询',
  heading: '办件查询',
  name: '申请人姓名',
  idNumber: '公民身份号码',
  phone: '联系电话',
  caseNumber: '办件编号',
  caseHint: '可只填末尾几位，如 000042',
  item: '办理事项',
  status: '办件状态',
  from: '登记日期 从',
  to: '登记日期 到',
  any: '全部',
  statuses: {
    submitted: '已登记',
    supplement_requested: '待补正',
    accepted: '已受理',
    escalated: '待上级办理',
    assigned: '办理中',
    decided: '已办结',
    delivered: '已送达',
    closed: '已销号',
    withdrawn: '已撤回',
    not_accepted: '不予受理',
    conflict: '冲突待处理',
  },
  search: '查询',
  reset: '清空条件',
  results: '查询结果',
  count: (n, more) => '本页 ' + n + ' 件' + (more ? '，还有下一页' : ''),
  empty: '没有找到符合条件的办件。',
  badDates: '“登记日期 从”晚于“到”，请改一下',
  badDate: '日期请写成 年-月-日，如 2026-12-15',
  datePlaceholder: '如 2026-12-01',
  col: {
    case: '办件编号',
    item: '办理事项',
    applicant: '申请人',
    idNumber: '身份证号',
    submitted: '登记时间',
    status: '状态',
    due: '承诺办结日期',
  },
  nextPage: '下一页',
  firstPage: '回到第一页',
  searching: '正在查询…',
};

const PAGE = 20;
const FIELDS = [
  ['name', 'q-name'],
  ['id_number', 'q-id-number'],
  ['phone', 'q-phone'],
  ['case_number', 'q-case-number'],
  ['item', 'q-item'],
  ['status', 'q-status'],
  ['from', 'q-from'],
  ['to', 'q-to'],
];

let current = null; // {params, after}
let next = null;

function node(id) {
  return document.getElementById(id);
}

function masked(id) {
  const v = String(id || '');
  return v.length === 18 ? v.slice(0, 6) + '********' + v.slice(14) : v;
}

function row(c) {
  return Desk.el(
    'tr',
    { dataset: { case: c.case } },
    Desk.el(
      'td',
      { class: 'nowrap' },
      Desk.el('a', { class: 'case-link', href: '/case.html?id=' + encodeURIComponent(c.case) }, c.case),
    ),
    Desk.el('td', null, c.item_name || c.item_code || ''),
    Desk.el('td', null, c.applicant_name || ''),
    Desk.el('td', { class: 'nowrap' }, masked(c.applicant_id)),
    Desk.el('td', null, c.submitted_at || ''),
    Desk.el(
      'td',
      null,
      c.status_zh || c.status || '',
      c.flag && c.flag !== 'ok' ? [' ', Desk.flagBadge(c.flag, c.flag_zh)] : null,
    ),
    Desk.el('td', { class: 'nowrap' }, c.due_date || Desk.T.none),
  );
}

function formParams() {
  const p = {};
  for (const [key, id] of FIELDS) {
    const v = node(id).value.trim();
    if (v) p[key] = v;
  }
  return p;
}

// One page of results for params from cursor `after` ('' for the first).
async function read(params, after) {
  const r = await Desk.get('/api/cases' + Desk.query(Object.assign({}, params, { limit: PAGE, after })));
  return { rows: r.cases || [], next: r.next || '' };
}

async function show(params, after) {
  for (const k of ['from', 'to']) {
    if (params[k] && !Desk.isDate(params[k])) {
      Desk.say(T.badDate, 'error');
      Desk.mark(k, node('search-form'));
      return;
    }
  }
  if (params.from && params.to && params.from > params.to) {
    Desk.say(T.badDates, 'error');
    Desk.mark('from', node('search-form'));
    return;
  }
  const r = await read(params, after);
  current = { params, after: after || '' };
  next = r.next || null;
  Desk.fill('result-rows', r.rows.map(row));
  node('results').hidden = false;
  node('results-table').hidden = r.rows.length === 0;
  node('results-empty').hidden = r.rows.length > 0;
  node('results-count').textContent = T.count(r.rows.length, Boolean(next));
  node('next-page').hidden = !next;
  node('first-page').hidden = !after;
  const q = Object.assign({}, params);
  if (after) q.after = after;
  history.replaceState(null, '', location.pathname + Desk.query(q));
}

// Reads and shows a page; `after` is the cursor ('' for the first page).
async function run(after) {
  Desk.clear(node('search-form'));
  const button = node('search-submit');
  button.disabled = true;
  try {
    await show(formParams(), after);
  } catch (err) {
    Desk.showError(err, node('search-form'));
  } finally {
    button.disabled = false;
  }
}

// As run, then brings the results into view.
async function runAndShow(after) {
  await run(after);
  if (!node('results').hidden) node('results').scrollIntoView({ block: 'start', behavior: 'smooth' });
}

async function refresh() {
  if (current) await show(current.params, current.after);
}

function options(select, pairs) {
  Desk.fill(
    select,
    Desk.el('option', { value: '' }, T.any),
    pairs.map(([v, words]) => Desk.el('option', { value: v }, words)),
  );
}

Desk.start({
  page: 'search',
  strings: T,
  init: async () => {
    options(node('q-status'), Object.entries(T.statuses));
    node('search-form').addEventListener('submit', (e) => {
      e.preventDefault();
      runAndShow('');
    });
    node('search-reset').addEventListener('click', () => {
      node('search-form').reset();
      Desk.clear(node('search-form'));
      node('results').hidden = true;
      current = null;
      history.replaceState(null, '', location.pathname);
      node('q-name').focus();
    });
    node('next-page').addEventListener('click', () => next && runAndShow(next));
    node('first-page').addEventListener('click', () => runAndShow(''));
    try {
      const cat = await Desk.get('/api/catalog');
      options(
        node('q-item'),
        (cat.items || []).map((it) => [it.code, it.name]),
      );
    } catch (err) {
      options(node('q-item'), []);
      Desk.showError(err);
    }
    // A query in the address (a reload, or a link) runs at once.
    const given = new URLSearchParams(location.search);
    for (const [key, id] of FIELDS) if (given.get(key)) node(id).value = given.get(key);
    if ([...given.keys()].length) await run(given.get('after') || '');
    else node('q-name').focus();
  },
  refresh,
});
