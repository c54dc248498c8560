// public.js: the public page (public.html, 办事结果公开) — no login, read
// only: the node's decided cases (申请人 masked as 张*, never an ID number,
// a phone or an address: the server sends none), newest first, a page at a
// time, and the catalog's items with a link to each 服务告知单
// (print.html?kind=service&item=CODE&from=public). Printed on A4 for the
// 公开栏 (print.css, public.css).
//
// Ids: #public-office, #public-title, #public-date, #public-figures,
// #public-rows (tr[data-outcome] per case), #public-empty, #public-range,
// #item-rows (a.service-link per item), #items-empty, #page-size, #newest,
// #older, #print-button, #message.
const T = {
  title: '办事结果公开',
  heading: '办事结果公开',
  print: '打印公开栏',
  pageSize: '每页件数',
  newest: '最新办件',
  older: '较早的办件',
  resultsHeading: '办件办理结果',
  col: {
    no: '序号',
    applicant: '申请人',
    item: '办理事项',
    home: '所属村（社区）',
    accepted: '受理日期',
    decided: '办结日期',
    outcome: '办理结果',
    onTime: '是否按时',
  },
  onTime: { yes: '按时办结', no: '超时办结', none: '—' },
  noCases: '本机暂无已办结的办件。',
  range: (from, to, total) => '本页为第 ' + from + '—' + to + ' 件，共 ' + total + ' 件（按办结日期从新到旧排列）。',
  figures: (f, total) =>
    '截至公开日期，本机已办结办件 ' +
    total +
    ' 件，其中准予 ' +
    f.approved +
    ' 件、不予许可 ' +
    f.refused +
    ' 件、' +
    (f.answered ? '已答复咨询 ' + f.answered + ' 件、' : '') +
    '不予受理 ' +
    f.not_accepted +
    ' 件；有承诺时限的 ' +
    f.judged_on_time +
    ' 件中按时办结 ' +
    f.on_time +
    ' 件。',
  date: (d) => '公开日期：' + d,
  itemsHeading: '办事服务告知单（八公开）',
  itemsHint: '各事项的办事依据、办理条件、办理程序、申报材料、办理时限、收费标准、经办人员和监督电话，见各事项的服务告知单。',
  items: { code: '事项编码', name: '事项名称', level: '审批层级', limit: '承诺时限', fee: '收费', sheet: '服务告知单' },
  days: (n) => n + ' 个工作日',
  free: '不收费',
  sheetLink: '查看、打印',
  noItems: '本机尚未收到事项目录。',
  privacy: '本公开栏不公布申请人全名、公民身份号码、联系电话、住址及申请材料。对办理结果有异议的，可拨打服务告知单所列监督电话。',
  dateWords: (y, m, d) => y + '年' + m + '月' + d + '日',
};

const el = Desk.el;
let pageSize = 50;
// The cursors of the pages shown so far: [null, cursor of page 2, ...].
let cursors = [null];
let node = null;

// "2026-12-02" -> "2026年12月02日"
function chineseDate(text) {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})/.exec(String(text || ''));
  return m ? T.dateWords(m[1], m[2], m[3]) : '';
}

function onTimeWords(v) {
  if (v === true) return T.onTime.yes;
  if (v === false) return T.onTime.no;
  return T.onTime.none;
}

function caseRow(c, n) {
  return el(
    'tr',
    { dataset: { outcome: c.outcome } },
    el('td', { class: 'num' }, String(n)),
    el('td', { class: 'applicant' }, c.applicant),
    el('td', null, c.item_name),
    el('td', null, c.home_name),
    el('td', { class: 'nowrap' }, c.accepted_date || T.onTime.none),
    el('td', { class: 'nowrap' }, c.decided_date),
    el('td', { class: 'nowrap' }, c.outcome_zh),
    el('td', { class: c.on_time === false ? 'nowrap late' : 'nowrap' }, onTimeWords(c.on_time)),
  );
}

function itemRow(it) {
  const href = '/print.html' + Desk.query({ kind: 'service', item: it.code, from: 'public' });
  return el(
    'tr',
    { dataset: { item: it.code } },
    el('td', { class: 'nowrap' }, it.code),
    el('td', null, it.name),
    el('td', { class: 'nowrap' }, it.level_zh),
    el('td', { class: 'num nowrap' }, it.limit_days ? T.days(it.limit_days) : T.onTime.none),
    el('td', null, Number(it.fee_fen || 0) > 0 ? Desk.feeWords(it.fee_fen, it.fee_note) : it.fee_note || T.free),
    el('td', { class: 'no-print' }, el('a', { class: 'service-link', href }, T.sheetLink)),
  );
}

function showHeader(r) {
  node = { node: r.node, node_name: r.node_name };
  document.getElementById('public-office').textContent = Desk.office(node);
  document.getElementById('public-date').textContent = T.date(chineseDate(r.today));
  document.getElementById('public-figures').textContent = T.figures(r.figures || {}, r.total || 0);
  document.title = T.title + ' ' + Desk.office(node);
}

async function load(index) {
  const before = cursors[index];
  const r = await Desk.get('/api/public' + Desk.query({ limit: pageSize, before }));
  showHeader(r);
  const first = index * pageSize + 1;
  const rows = r.cases || [];
  Desk.fill('public-rows', rows.map((c, i) => caseRow(c, first + i)));
  document.getElementById('public-empty').hidden = rows.length > 0;
  document.getElementById('public-cases').hidden = rows.length === 0;
  document.getElementById('public-range').textContent = rows.length
    ? T.range(first, first + rows.length - 1, r.total)
    : '';
  cursors = cursors.slice(0, index + 1);
  if (r.next) cursors.push(r.next);
  document.getElementById('older').disabled = !r.next;
  document.getElementById('newest').disabled = index === 0;
  document.getElementById('older').dataset.page = String(index + 1);
  if (r.items) {
    Desk.fill('item-rows', r.items.map(itemRow));
    document.getElementById('items-empty').hidden = r.items.length > 0;
    document.getElementById('public-items').hidden = r.items.length === 0;
  }
  document.getElementById('items-section').hidden = index > 0;
  document.body.dataset.loaded = String(index);
}

async function go(index) {
  try {
    Desk.clear();
    await load(index);
  } catch (e) {
    Desk.showError(e);
  }
}

Desk.start({
  page: 'public',
  strings: T,
  nav: false,
  login: false,
  init: async () => {
    document.getElementById('print-button').addEventListener('click', () => window.print());
    const size = document.getElementById('page-size');
    size.addEventListener('change', () => {
      pageSize = Number(size.value) || 50;
      cursors = [null];
      go(0);
    });
    document.getElementById('older').addEventListener('click', () => go(cursors.length - 1));
    document.getElementById('newest').addEventListener('click', () => go(0));
    await load(0);
  },
});
