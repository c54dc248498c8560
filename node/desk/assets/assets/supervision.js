// supervision.js: 电子监察 (township hubs and the county center) — GET
// /api/supervision: the yellow and red cards (黄牌预警 / 红牌超期) of every
// open step held here, counted by level, department and person (a click
// on one filters the cards); the 督办 orders, 效能投诉 and 整改 with who
// answers them and their answers; at the county, the closed cases offered
// for a follow-up call (回访), each with a form to record its result
// (POST /api/cases/CASE/act {"action": "answer", "answer_to": "revisit"}).
// Redrawn when the store changes (Desk polling); a revisit form being
// filled in is left alone until it is sent or cancelled.
//
// Ids: #count-overdue, #count-warning, #count-open (open 督办/投诉/整改),
// #count-revisit; #card-rows (tr[data-case][data-flag][data-holder]),
// #card-filter (shown while filtered), #card-filter-clear, #card-empty;
// #by-level, #by-department, #by-person (each row's button
// [data-dim=level|department|person][data-key=KEY]); #entry-rows
// (tr[data-case][data-event][data-kind][data-answered=true|false]
// [data-level]), #entry-empty; #complaint-card (shown when complaints are
// held), #complaint-rows (tr[data-dim=level|department|person][data-key]); #revisit-card, #revisit-rows
// (tr[data-case]) with button.revisit-open; the open form #revisit-form
// [data-case] (radios name=revisit-score 5..0, #revisit-text,
// #revisit-submit, #revisit-cancel); #message.
const T = {
  title: '电子监察',
  heading: '电子监察',
  asOf: (t) => '更新于 ' + t,
  node: (name) => name + '：本级及下级办件的时限、督办、效能投诉和整改',
  countsHeading: '概况',
  overdue: '件次红牌超期',
  warning: '件次黄牌预警',
  open: '项督办、投诉、整改待答复',
  revisitCount: '件待回访',
  cardsHeading: '红牌超期和黄牌预警',
  cardsHint: '按各环节的承诺时限计算：已超期的为红牌，只剩 1 个工作日的为黄牌。红牌在前。点办件编号可查看办件并督办。',
  clearFilter: '显示全部',
  filtered: (what, name) => '只显示' + what + '“' + name + '”的：',
  dims: { level: '办理层级', department: '部门', person: '责任人' },
  col: {
    flag: '时限',
    case: '办件编号',
    item: '办理事项',
    step: '环节',
    holder: '办理层级',
    department: '部门',
    person: '责任人',
    due: '应办结日期',
    left: '剩余时限',
  },
  nobody: '（尚无人办理）',
  noCards: '目前没有超期或临近超期的环节。',
  sumsHeading: '分类统计',
  sumsHint: '点名称只看它的红牌和黄牌。',
  byLevel: '按办理层级',
  byDepartment: '按部门',
  byPerson: '按责任人',
  sum: { level: '层级', department: '部门', person: '责任人', overdue: '红牌', warning: '黄牌' },
  noSums: '无',
  personAt: (name, place) => name + '（' + place + '）',
  complaintsHeading: '效能投诉统计',
  complaintsHint: '按被投诉的单位、部门和工作人员统计本级及下级收到的全部效能投诉。',
  cmp: { dim: '类别', who: '被投诉对象', total: '投诉', upheld: '成立', open: '待处理', late: '超期' },
  cmpDims: { level: '单位', department: '部门', person: '工作人员' },
  entriesHeading: '督办、效能投诉、整改',
  entriesHint: '待答复的在前。督办由办件所在层级答复；效能投诉由被投诉单位的上一级处理；整改由作出决定的单位答复。近 30 天已答复的也列出。',
  ent: {
    kind: '类别',
    case: '办件',
    what: '内容',
    issued: '发起',
    answerer: '答复单位',
    due: '答复时限',
    state: '办理情况',
  },
  noEntries: '目前没有督办、效能投诉或整改事项。',
  against: (who) => '投诉对象：' + who,
  complainant: (name, phone) => '投诉人：' + name + (phone ? '（' + phone + '）' : ''),
  channel: (words) => '来源：' + words,
  channels: { phone: '电话投诉', window: '窗口投诉', letter: '来信投诉', desk: '办事台登记' },
  rating: (words) => '申请人评价：' + words,
  reasons: (list) => '原因：' + list,
  issuedBy: (place, actor, day) => place + (actor ? ' ' + actor : '') + '，' + day,
  answer: (text) => '答复：' + text,
  answeredBy: (place, actor, day) => place + (actor ? ' ' + actor : '') + ' 于 ' + day + ' 答复',
  result: (words) => '处理结果：投诉' + words,
  revisitHeading: '待回访',
  revisitHint: '从近 30 天办结的办件中抽取十分之一，由县服务中心电话回访申请人，记录回访结果。',
  rev: { case: '办件', item: '办理事项', home: '所属村', decided: '办结日期', phone: '申请人电话', record: '回访' },
  noRevisits: '目前没有待回访的办件。',
  revisitOpen: '登记回访结果',
  revisitForm: (id) => '回访 ' + id,
  revisitScore: '申请人对办理的评价',
  notReached: '未联系上申请人',
  revisitText: '回访记录',
  revisitTextHint: '申请人反映的情况，或未联系上的原因',
  submit: '确认',
  cancel: '取消',
  sending: '正在提交…',
  need: (label) => '请填写“' + label + '”',
  needScore: '请选择回访结果',
  recorded: (id) => '已记录 ' + id + ' 的回访结果。',
  ratings: { 5: '非常满意', 4: '满意', 3: '基本满意', 2: '不满意', 1: '非常不满意' },
  sep: '、',
};

let data = null;
// The cards shown: all, or those of one level, department or person.
let filter = null; // {dim, key, name}
// The case whose revisit form is open ('' when none).
let revisitCase = '';
// Place names by code, from what the page was given.
const names = {};

function node(id) {
  return document.getElementById(id);
}

function caseLink(id) {
  return Desk.el('a', { class: 'case-link', href: '/case.html' + Desk.query({ id }) }, id);
}

// A level by its office's name: 南安镇便民服务中心.
function placeName(code, name) {
  return Desk.officeName(code, name || names[code]);
}

// "王小红@360723101007" -> "王小红（水城村便民服务代理点）"
function personWords(key) {
  const at = key.lastIndexOf('@');
  if (at < 0) return key;
  return T.personAt(key.slice(0, at), placeName(key.slice(at + 1)));
}

function matches(c) {
  if (!filter) return true;
  if (filter.dim === 'level') return c.holder === filter.key;
  if (filter.dim === 'department') return (c.departments || []).includes(filter.key);
  return c.person !== '' && c.person + '@' + c.holder === filter.key;
}

// ---- cards -----------------------------------------------------------------------

function cardRow(c) {
  return Desk.el(
    'tr',
    { dataset: { case: c.case, flag: c.flag, holder: c.holder } },
    Desk.el('td', null, Desk.flagBadge(c.flag, c.flag_zh)),
    Desk.el('td', { class: 'nowrap' }, caseLink(c.case)),
    Desk.el('td', null, c.item_name || '', Desk.el('span', { class: 'detail' }, c.home_name || c.home)),
    Desk.el('td', null, c.step_zh || c.step || ''),
    Desk.el('td', null, placeName(c.holder, c.holder_name)),
    Desk.el('td', null, (c.departments || []).join(T.sep) || Desk.T.none),
    Desk.el('td', null, c.person || Desk.el('span', { class: 'muted' }, T.nobody)),
    Desk.el('td', { class: 'nowrap' }, c.due || Desk.T.none),
    Desk.el('td', null, c.flag === 'overdue' ? Desk.el('strong', null, Desk.daysLeft(c.days_left)) : Desk.daysLeft(c.days_left)),
  );
}

function drawCards() {
  const all = data.cards || [];
  const shown = all.filter(matches);
  Desk.fill('card-rows', shown.map(cardRow));
  node('card-table').hidden = shown.length === 0;
  node('card-empty').hidden = shown.length > 0;
  node('card-filter').hidden = !filter;
  if (filter) node('card-filter-words').textContent = T.filtered(T.dims[filter.dim], filter.name);
  for (const b of document.querySelectorAll('.sum-table button[data-key]'))
    b.setAttribute('aria-pressed', filter && b.dataset.dim === filter.dim && b.dataset.key === filter.key ? 'true' : 'false');
}

function setFilter(dim, key, name) {
  filter = filter && filter.dim === dim && filter.key === key ? null : { dim, key, name };
  drawCards();
}

function sumRows(id, dim, rows, words) {
  const body = node(id).tBodies[0];
  if (!rows.length) {
    Desk.fill(body, Desk.el('tr', null, Desk.el('td', { colspan: 3, class: 'muted' }, T.noSums)));
    return;
  }
  // The most red cards first.
  const sorted = rows.slice().sort((a, b) => b.overdue - a.overdue || b.warning - a.warning);
  Desk.fill(
    body,
    sorted.map((r) => {
      const name = words(r);
      return Desk.el(
        'tr',
        null,
        Desk.el(
          'td',
          null,
          Desk.el(
            'button',
            { type: 'button', class: 'linklike', dataset: { dim, key: r.key }, onclick: () => setFilter(dim, r.key, name) },
            name,
          ),
        ),
        Desk.el('td', { class: 'num' }, r.overdue ? Desk.el('strong', { class: 'red' }, String(r.overdue)) : '0'),
        Desk.el('td', { class: 'num' }, String(r.warning || 0)),
      );
    }),
  );
}

// Complaints counted by who was complained about (the API's
// complaints_by_level / _department / _person).
function complaintRows() {
  const rows = [];
  const dims = [
    ['level', data.complaints_by_level || [], (r) => placeName(r.key, r.name)],
    ['department', data.complaints_by_department || [], (r) => r.key],
    ['person', data.complaints_by_person || [], (r) => personWords(r.key)],
  ];
  for (const [dim, list, words] of dims)
    for (const r of list)
      rows.push(
        Desk.el(
          'tr',
          { dataset: { dim, key: r.key } },
          Desk.el('td', null, T.cmpDims[dim]),
          Desk.el('td', null, words(r)),
          Desk.el('td', { class: 'num' }, String(r.total || 0)),
          Desk.el('td', { class: 'num' }, r.upheld ? Desk.el('strong', { class: 'red' }, String(r.upheld)) : '0'),
          Desk.el('td', { class: 'num' }, String(r.open || 0)),
          Desk.el('td', { class: 'num' }, r.late ? Desk.el('strong', { class: 'red' }, String(r.late)) : '0'),
        ),
      );
  Desk.fill('complaint-rows', rows);
  node('complaint-card').hidden = rows.length === 0;
}

// ---- 督办, 效能投诉, 整改 ------------------------------------------------------------------

function entryWhat(e) {
  const lines = [Desk.el('span', { class: 'what' }, e.text || Desk.T.none)];
  const detail = (text) => lines.push(Desk.el('span', { class: 'detail' }, text));
  if (e.kind === 'complaint') {
    const who = [placeName(e.against, e.against_name), e.department, e.person].filter(Boolean).join(' ');
    detail(T.against(who));
    if (e.complainant || e.phone) detail(T.complainant(e.complainant || Desk.T.none, e.phone));
    if (e.channel) detail(T.channel(T.channels[e.channel] || e.channel));
  }
  if (e.kind === 'rectification') {
    detail(T.rating(e.rating_zh || T.ratings[e.score] || ''));
    if ((e.reasons || []).length) detail(T.reasons(e.reasons.join(T.sep)));
  }
  return lines;
}

function entryState(e) {
  if (!e.answered) {
    return [
      Desk.flagBadge(e.flag === 'ok' ? 'open' : e.flag, e.state_zh),
      Desk.el('span', { class: 'detail' }, Desk.daysLeft(e.days_left)),
    ];
  }
  const a = e.answer || {};
  return [
    Desk.el('span', { class: 'badge ' + (a.on_time ? 'ok' : 'overdue') }, e.state_zh),
    a.result_zh ? Desk.el('span', { class: 'detail result' }, Desk.el('strong', null, T.result(a.result_zh))) : null,
    Desk.el('span', { class: 'detail' }, T.answer(a.text || '')),
    Desk.el('span', { class: 'detail muted' }, T.answeredBy(placeName(a.by, a.by_name), a.actor, a.day || '')),
  ];
}

function entryRow(e) {
  return Desk.el(
    'tr',
    {
      class: e.answered ? 'answered' : 'open',
      dataset: { case: e.case, event: e.event, kind: e.kind, answered: String(Boolean(e.answered)), level: e.level },
    },
    Desk.el('td', null, Desk.el('span', { class: 'badge kind-' + e.kind }, e.kind_zh || e.kind)),
    Desk.el('td', { class: 'nowrap' }, caseLink(e.case), Desk.el('span', { class: 'detail' }, e.item_name || '')),
    Desk.el('td', null, entryWhat(e)),
    Desk.el('td', null, T.issuedBy(placeName(e.issued_by, e.issued_by_name), e.actor, e.issued || '')),
    Desk.el('td', null, placeName(e.level, e.level_name)),
    Desk.el('td', { class: 'nowrap' }, e.due || Desk.T.none),
    Desk.el('td', null, entryState(e)),
  );
}

// ---- 回访 ---------------------------------------------------------------------------

function revisitRow(r) {
  return Desk.el(
    'tr',
    { dataset: { case: r.case } },
    Desk.el('td', { class: 'nowrap' }, caseLink(r.case)),
    Desk.el('td', null, r.item_name || ''),
    Desk.el('td', null, r.home_name || r.home),
    Desk.el('td', { class: 'nowrap' }, r.decided || ''),
    Desk.el('td', { class: 'nowrap' }, r.phone || Desk.T.none),
    Desk.el(
      'td',
      null,
      Desk.el('button', { type: 'button', class: 'secondary revisit-open', onclick: () => openRevisit(r) }, T.revisitOpen),
    ),
  );
}

function revisitForm(r) {
  const scores = [5, 4, 3, 2, 1, 0].map((n) =>
    Desk.el(
      'label',
      { class: 'choice' },
      Desk.el('input', { type: 'radio', name: 'revisit-score', value: String(n) }),
      n ? T.ratings[n] : T.notReached,
    ),
  );
  const form = Desk.el(
    'form',
    { id: 'revisit-form', class: 'actform', dataset: { case: r.case }, novalidate: true },
    Desk.el('h3', null, T.revisitForm(r.case) + '　' + (r.item_name || '')),
    Desk.el(
      'fieldset',
      { class: 'field wide', dataset: { part: 'score' } },
      Desk.el('legend', { class: 'required' }, T.revisitScore),
      Desk.el('div', { class: 'checks' }, scores),
    ),
    Desk.el(
      'div',
      { class: 'field wide', dataset: { part: 'text' } },
      Desk.el('label', { for: 'revisit-text', class: 'required' }, T.revisitText),
      Desk.el('textarea', { id: 'revisit-text', rows: 2, maxlength: 1000 }),
      Desk.el('p', { class: 'hint' }, T.revisitTextHint),
    ),
    Desk.el(
      'div',
      { class: 'buttons' },
      Desk.el('button', { type: 'submit', id: 'revisit-submit' }, T.submit),
      Desk.el('button', { type: 'button', class: 'secondary', id: 'revisit-cancel', onclick: closeRevisit }, T.cancel),
    ),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sendRevisit(r, form);
  });
  return form;
}

function openRevisit(r) {
  revisitCase = r.case;
  drawRevisits();
  const first = node('revisit-form') && node('revisit-form').querySelector('input');
  if (first) first.focus();
}

function closeRevisit() {
  revisitCase = '';
  drawRevisits();
}

async function sendRevisit(r, form) {
  Desk.clear(form);
  const on = form.querySelector('input[name="revisit-score"]:checked');
  const text = node('revisit-text').value.trim();
  if (!on) return refuse(form, 'score', T.needScore);
  if (!text) return refuse(form, 'text', T.need(T.revisitText));
  const button = node('revisit-submit');
  button.disabled = true;
  button.textContent = T.sending;
  try {
    await Desk.post('/api/cases/' + encodeURIComponent(r.case) + '/act', {
      action: 'answer',
      answer_to: 'revisit',
      score: Number(on.value),
      text,
    });
    revisitCase = '';
    await refresh();
    Desk.say(T.recorded(r.case), 'ok');
  } catch (err) {
    button.disabled = false;
    button.textContent = T.submit;
    Desk.showError(err, form);
  }
}

function refuse(form, part, text) {
  Desk.say(text, 'error');
  const input = Desk.mark(part, form);
  if (input && input.focus) input.focus();
}

function drawRevisits() {
  const county = String(data.node || '').length === 6;
  const list = data.revisits || [];
  node('revisit-card').hidden = !county;
  node('count-revisit-box').hidden = !county;
  node('count-revisit').textContent = String(list.length);
  if (!county) return;
  // The message area stays where it is while its form is redrawn.
  const msg = node('message');
  if (msg.closest('#revisit-rows')) node('sup-node').after(msg);
  const rows = [];
  for (const r of list) {
    rows.push(revisitRow(r));
    if (r.case === revisitCase)
      rows.push(Desk.el('tr', { class: 'formrow' }, Desk.el('td', { colspan: 6 }, revisitForm(r))));
  }
  if (revisitCase && !list.some((r) => r.case === revisitCase)) revisitCase = '';
  Desk.fill('revisit-rows', rows);
  const form = node('revisit-form');
  if (form) form.insertBefore(msg, form.querySelector('.buttons'));
  node('revisit-table').hidden = list.length === 0;
  node('revisit-empty').hidden = list.length > 0;
}

// ---- loading -------------------------------------------------------------------------

function draw() {
  for (const c of data.cards || []) if (c.holder_name) names[c.holder] = c.holder_name;
  for (const e of data.entries || []) {
    if (e.level_name) names[e.level] = e.level_name;
    if (e.issued_by_name) names[e.issued_by] = e.issued_by_name;
  }
  const counts = data.counts || {};
  node('count-overdue').textContent = String(counts.overdue || 0);
  node('count-warning').textContent = String(counts.warning || 0);
  const entries = data.entries || [];
  node('count-open').textContent = String(entries.filter((e) => !e.answered).length);
  node('sup-node').textContent = T.node(placeName(data.node, data.node_name));
  // A filter on something that no longer has cards is dropped.
  if (filter && !(data.cards || []).some(matches)) filter = null;
  sumRows('by-level', 'level', data.by_level || [], (r) => placeName(r.key, r.name));
  sumRows('by-department', 'department', data.by_department || [], (r) => r.key);
  sumRows('by-person', 'person', data.by_person || [], (r) => personWords(r.key));
  drawCards();
  complaintRows();
  Desk.fill('entry-rows', entries.map(entryRow));
  node('entry-table').hidden = entries.length === 0;
  node('entry-empty').hidden = entries.length > 0;
  if (!revisitCase) drawRevisits();
  node('as-of').textContent = T.asOf(new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(11, 19));
}

async function refresh() {
  data = await Desk.get('/api/supervision');
  draw();
  if (typeof data.lsn === 'number') Desk.seen(data.lsn);
}

Desk.start({
  page: 'supervision',
  strings: T,
  init: async () => {
    node('card-filter-clear').addEventListener('click', () => {
      filter = null;
      drawCards();
    });
    await refresh();
  },
  refresh: async () => {
    try {
      await refresh();
    } catch (err) {
      Desk.showError(err);
    }
  },
});
