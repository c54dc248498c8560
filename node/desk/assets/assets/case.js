// case.js: 办件详情 — GET /api/cases/CASE: every field, the materials, the
// steps with their time limits, the history with where each event is
// stored, the actions this person may take now (POST /api/cases/CASE/act,
// each from a small form opened in place) and the printouts.
//
// Ids: #case-id, #case-status, #case-item, #case-conflict; #actions with
// buttons [data-action=accept|request-supplement|...] (only those the
// server lists); the open form #act-form [data-action=...], its fields
// named by the JSON keys they fill ([data-part=due], [data-part=reason],
// ... inputs #act-due, #act-reason, #act-text, ...; choices: radios
// name=decision value approve|reject, name=score value 1..5; checkboxes
// name=missing / provided / departments with the material or department as
// value, and #act-missing-other etc. for others), #act-on-behalf (AB角),
// supervision: supervise (#act-note, #act-due a date picker), complain
// (#act-complainant, #act-phone, #act-channel, #act-against,
// #act-department, #act-person, #act-text), answer (radios name=about, one
// per open item, value KIND:EVENT, [data-kind]; radios name=upheld
// true|false for a complaint; #act-revisit-score for a revisit; #act-text);
// rate opens the 评价器 (rate.html?id=CASE) instead of a form;
// case.html?id=CASE&act=ACTION[&about=EVENT] opens that action's form;
// #act-submit, #act-cancel; #message (moves into the open form);
// #prints with links [data-print=receipt|notice|refusal|result|fee|service];
// #applicant-facts, #handling-facts, #material-rows (tr[data-material]
// [data-state]), #step-rows (tr[data-step] [data-flag]), #history-rows
// (tr[data-kind]).
const T = {
  title: '办件详情',
  heading: '办件',
  conflict: '本办件在不同层级有相互冲突的记录，须由有权限的人员处理后才能继续办理。',
  workHeading: '办理',
  noActions: '您在本点对本办件目前没有可以进行的操作。',
  printsHeading: '打印',
  prints: {
    receipt: '打印受理回执',
    notice: '打印一次性告知书',
    refusal: '打印不予受理通知书',
    result: '打印办结通知 / 送达回证',
    fee: '打印代收费收据',
    service: '打印服务告知单',
  },
  appHeading: '申请信息',
  handlingHeading: '办理信息',
  f: {
    applicant: '申请人',
    idNumber: '公民身份号码',
    phone: '联系电话',
    address: '住址',
    summary: '申请事项说明',
    question: '咨询内容',
    item: '办理事项',
    home: '所属村',
    handler: '当前办理',
    submitted: '登记时间',
    due: '承诺办结日期',
    limit: (n) => '（目录时限 ' + n + ' 个工作日）',
    limitDate: (d) => '（目录时限 ' + d + '）',
    extend: (r) => '延期理由：' + r,
    fee: '应收费用',
    feeCollected: '已代收',
    rating: '评价',
    complaints: '投诉',
    departments: '联办部门',
    supplement: '补办件',
    yes: '是',
    missing: '尚缺材料',
    later: '容缺待补',
  },
  dueNone: '受理后确定',
  times: (n) => n + ' 次',
  materialsHeading: '申报材料',
  filesHeading: '附件（材料照片和扫描件）',
  files: {
    open: (name) => '查看 ' + name,
    download: '下载',
    pdf: 'PDF 扫描件',
    custody: '存放：',
    close: '关闭',
    inTransit: '传输中',
    supplementFiles: '补交材料的照片或扫描件',
    decisionFiles: '批复文书（照片或扫描件）',
    decisionPaper: '批复文书',
  },
  mat: { name: '材料名称', state: '收取情况' },
  matStates: { provided: '已收', missing: '缺', later: '容缺后补' },
  noMaterials: '登记时没有列出材料。',
  stepsHeading: '办理环节与时限',
  step: { name: '环节', holder: '责任方', due: '应办结日期', done: '完成', flag: '时限' },
  notDone: '未完成',
  noSteps: '本办件还没有计时的环节。',
  historyHeading: '办理记录',
  hist: { time: '时间', what: '事项', who: '办理人', node: '办理地点', stored: '存放情况' },
  behalf: (name) => '（代 ' + name + '）',
  custody: {
    here: '本机已存',
    township: '已达乡镇',
    townshipNo: '未达乡镇',
    county: '已达县',
    countyNo: '未达县',
    refused: (why) => '被拒收：' + why,
  },
  superseded: '（已被更正）',
  sep: '、',
  semi: '；',
  dot: ' · ',
  doneMark: '✓',
  ratings: { 5: '非常满意', 4: '满意', 3: '基本满意', 2: '不满意', 1: '非常不满意' },
  detail: {
    submitted: (n, miss) => '材料 ' + n + ' 项' + (miss ? '，缺 ' + miss + ' 项' : ''),
    due: (d, n) => '承诺办结日期 ' + d + (n ? '（' + n + ' 个工作日）' : ''),
    extend: (r) => '延期理由：' + r,
    missing: (list) => '所缺材料：' + list,
    provided: (list) => '补交：' + list,
    to: (place) => '报送 ' + place,
    departments: (list) => '分派：' + list,
    approve: '同意',
    reject: '不同意',
    approved: '准予',
    refused: '不予许可',
    certificate: (c) => '证照编号 ' + c,
    reason: (r) => '理由：' + r,
    basis: (b) => '依据：' + b,
    fee: (yuan, receipt) => '代收 ' + yuan + '，收据号 ' + receipt,
    against: (place) => '投诉对象：' + place,
    note: (n) => '说明：' + n,
    reasons: (list) => '原因：' + list,
    evaluator: '申请人在评价器上评价',
    complainant: (name, phone) => '投诉人：' + name + (phone ? '（' + phone + '）' : ''),
    channel: (words) => '来源：' + words,
    answerBy: (due) => '答复时限 ' + due,
    order: (due, place) => '要求 ' + place + ' ' + due + ' 前办结',
    upheld: (yes) => '投诉' + (yes ? '成立' : '不成立'),
    revisit: (n) => '回访结果：' + (n ? T.ratings[n] || String(n) : '未联系上申请人'),
  },
  channels: { phone: '电话', window: '窗口', letter: '来信', desk: '办事台' },
  // The history's words for the supervision events, by what they are.
  kinds: { complaint: '效能投诉', supervised: '督办' },
  answeredKinds: { order: '督办答复', complaint: '投诉处理结果', rectification: '整改答复', revisit: '回访结果' },
  form: {
    submit: '确认',
    cancel: '取消',
    self: '本人办理',
    behalfOf: (name) => '代 ' + name + ' 办理',
    behalf: '办理身份（AB角）',
    other: '其他（多项用“、”隔开）',
    split: /[、,，;；]/,
    sending: '正在提交…',
    done: (label, status) => '已记录：' + label + '。办件现为：' + status + '。',
    need: (label) => '请填写“' + label + '”',
    needOne: (label) => '请至少选择一项“' + label + '”',
    datePlaceholder: '如 2026-12-15',
    badDate: (label) => '“' + label + '”请写成 年-月-日，如 2026-12-15',
  },
  fields: {
    due: '承诺办结日期',
    dueHint: '不填则按事项目录的时限计算；只能提前，不能推后（推后须写延期理由）',
    extend_reason: '延期理由',
    note: '说明',
    missing: '所缺材料（一次性告知全部）',
    provided: '本次补交的材料',
    escalateHint: '办件将报送上一级办理。',
    departments: '分派部门（选多个即为联办）',
    department: '部门',
    decision: '决定',
    opinion: '意见',
    approve: '同意 / 准予',
    reject: '不同意 / 不予许可',
    reason: '理由',
    reasonHint: '不予许可或不予受理时必须写明理由',
    basis: '依据（法律、法规、规章条款）',
    certificate: '证照或批文编号',
    text: '内容',
    reply: '答复内容',
    method: '送达方式',
    methods: ['当面送达', '邮寄送达', '电话告知', '代理员上门送达', '电子送达'],
    score: '申请人的评价（由申请人本人选择）',
    comment: '申请人的意见',
    amount: '代收金额（元）',
    receipt: '收据编号',
    feeReason: '金额与应收不同时的说明',
    withdrawReason: '撤回原因',
    notAcceptReason: '不予受理的理由',
    complaint: '投诉内容',
    against: '投诉对象（单位）',
    againstHint: '效能投诉由被投诉单位的上一级处理（投诉县服务中心的由县处理），5 个工作日内答复投诉人',
    complainant: '投诉人',
    complainantPhone: '投诉人联系电话',
    channel: '投诉方式',
    complainDepartment: '被投诉的部门或窗口',
    complainPerson: '被投诉的工作人员',
    superviseNote: '督办事项',
    superviseNoteHint: '写明要求办件所在单位做什么',
    superviseDue: '限期办结日期',
    superviseTo: (place) => '督办单将送达办件当前所在的单位：' + place + '，由其答复办理情况。',
    answerWhich: '答复哪一项',
    answerDue: (due) => '答复时限 ' + due,
    answerText: {
      order: '办理情况说明',
      complaint: '处理结果及对投诉人的回复',
      rectification: '整改情况',
      revisit: '回访记录（申请人反映的情况，或未联系上的原因）',
    },
    upheld: '投诉是否成立',
    upheldYes: '成立',
    upheldNo: '不成立',
    revisitScore: '回访结果',
    notReached: '未联系上申请人',
    revisitItem: '回访：电话回访申请人，记录结果',
    noAnswerItems: '本级目前没有须答复的督办、投诉或整改。',
    rateOpens: '评价器',
    commentText: '备注内容',
  },
};

const caseId = Desk.param('id');
let current = null;
let item = null;
let openAction = '';
// Place names this page has seen (the steps name their holders).
const names = {};

function node(id) {
  return document.getElementById(id);
}

// The one member of an event's body: {"accepted": {...}} -> {...}.
function bodyOf(ev) {
  const b = ev.body || {};
  const k = Object.keys(b)[0];
  return (k && b[k]) || {};
}

function where(code, name) {
  return Desk.place(code, name || names[code]);
}

function listed(list) {
  return (list || []).map((m) => (typeof m === 'string' ? m : m.name || m.department)).join(T.sep);
}

// "林木采伐许可（LY-001）"
function itemWords(c) {
  return (c.item_name || '') + (c.item_code ? Desk.paren(c.item_code) : '');
}

function fact(label, ...value) {
  return [Desk.el('dt', null, label), Desk.el('dd', null, ...value)];
}

// ---- what the case shows ------------------------------------------------------------

function header(c) {
  node('case-id').textContent = c.case;
  node('case-status').textContent = c.status_zh || c.status;
  node('case-status').dataset.status = c.status;
  node('case-item').textContent = itemWords(c);
  node('case-conflict').hidden = !c.conflict;
}

function applicantFacts(c) {
  Desk.fill(
    'applicant-facts',
    fact(T.f.applicant, c.applicant_name || ''),
    fact(T.f.idNumber, c.applicant_id || Desk.T.none),
    fact(T.f.phone, c.applicant_phone || Desk.T.none),
    fact(T.f.address, c.applicant_address || Desk.T.none),
    c.summary ? fact(T.f.summary, c.summary) : null,
    c.question ? fact(T.f.question, typeof c.question === 'string' ? c.question : JSON.stringify(c.question)) : null,
    (c.fields || []).map((f) => fact(f.key, f.value)),
  );
}

function handlingFacts(c) {
  const promise = c.promise || {};
  const due = c.due_date || promise.due_date || '';
  Desk.fill(
    'handling-facts',
    fact(T.f.item, itemWords(c)),
    fact(T.f.home, where(c.home, c.home_name)),
    fact(T.f.handler, where(c.handler, c.handler_name)),
    fact(T.f.submitted, c.submitted_at || ''),
    fact(
      T.f.due,
      Desk.el('strong', { id: 'case-due' }, due || T.dueNone),
      promise.limit_days ? T.f.limit(promise.limit_days) : null,
      promise.limit_date && promise.limit_date !== due ? T.f.limitDate(promise.limit_date) : null,
      promise.extend_reason ? Desk.el('span', { class: 'detail' }, T.f.extend(promise.extend_reason)) : null,
    ),
    c.supplement_case ? fact(T.f.supplement, T.f.yes) : null,
    c.missing && c.missing.length ? fact(T.f.missing, listed(c.missing)) : null,
    c.later && c.later.length ? fact(T.f.later, listed(c.later)) : null,
    c.fee_due_fen ? fact(T.f.fee, Desk.yuan(c.fee_due_fen)) : null,
    c.fee_collected_fen ? fact(T.f.feeCollected, Desk.yuan(c.fee_collected_fen)) : null,
    c.departments && c.departments.length ? fact(T.f.departments, listed(c.departments)) : null,
    c.rating ? fact(T.f.rating, T.ratings[c.rating] || String(c.rating)) : null,
    c.complaints ? fact(T.f.complaints, T.times(c.complaints)) : null,
  );
}

// 附件: a thumbnail per photo (made by the node, GET …/files/SHA?thumb=1),
// a tile per PDF; a click opens the viewer. A file not whole here shows
// how much of it has arrived.
// Arriving chunks and custody answers write nothing to the log, so the
// page's change poll does not see them: while a file is still travelling
// (not whole here, or not yet known at the county) its list is read again
// every 5 s and redrawn when it changed.
const FILES_POLL_MS = 5000;
let filesTimer = null;
let filesShown = '';

function watchFiles(files) {
  if (filesTimer) clearTimeout(filesTimer);
  filesTimer = null;
  const travelling = files.some((f) => !f.whole || !(f.held_at || []).includes('county'));
  if (!travelling) return;
  filesTimer = setTimeout(async () => {
    filesTimer = null;
    try {
      const r = await Desk.get('/api/cases/' + encodeURIComponent(caseId) + '/files');
      fileList({ files: r.files || [] });
    } catch (e) {
      watchFiles(files);
    }
  }, FILES_POLL_MS);
}

function fileList(c) {
  const files = c.files || [];
  watchFiles(files);
  const shown = JSON.stringify(files.map((f) => [f.sha256, f.whole, f.chunks_held, f.custody_zh]));
  if (shown === filesShown) return;
  filesShown = shown;
  node('files-card').hidden = files.length === 0;
  const base = '/api/cases/' + encodeURIComponent(caseId) + '/files/';
  Desk.fill(
    'file-list',
    files.map((f) => {
      const image = f.media_type.startsWith('image/');
      const face = !f.whole
        ? Desk.el('span', { class: 'thumb-box transit' }, T.files.inTransit)
        : image
          ? Desk.el('img', { src: base + f.sha256 + '?thumb=1', alt: f.name, loading: 'lazy' })
          : Desk.el('span', { class: 'thumb-box' }, T.files.pdf);
      return Desk.el(
        'figure',
        { class: 'thumb', dataset: { sha: f.sha256 } },
        f.whole
          ? Desk.el('button', { type: 'button', class: 'thumb-open', title: T.files.open(f.name), onclick: () => view(f, base) }, face)
          : face,
        Desk.el(
          'figcaption',
          null,
          Desk.el('strong', null, f.material),
          Desk.el('span', null, f.name),
          Desk.el('span', { class: 'custody' + (f.whole ? '' : ' transit') }, T.files.custody + f.custody_zh),
          f.whole ? Desk.el('a', { href: base + f.sha256 + '?download=1' }, T.files.download) : null,
        ),
      );
    }),
  );
}

function view(f, base) {
  const dlg = node('viewer');
  const src = base + f.sha256;
  Desk.fill(
    'viewer-body',
    f.media_type === 'application/pdf'
      ? Desk.el('iframe', { src, title: f.name, class: 'viewer-pdf' })
      : Desk.el('img', { src, alt: f.name, class: 'viewer-img' }),
  );
  Desk.fill('viewer-title', f.material + '　' + f.name);
  node('viewer-download').href = src + '?download=1';
  dlg.showModal();
}

function materialRows(c) {
  const mats = c.materials || [];
  Desk.fill(
    'material-rows',
    mats.map((m) =>
      Desk.el(
        'tr',
        { dataset: { material: m.name, state: m.state } },
        Desk.el('td', null, m.name),
        Desk.el(
          'td',
          null,
          Desk.el('span', { class: 'badge ' + (m.state === 'provided' ? 'ok' : m.state) }, T.matStates[m.state] || m.state),
        ),
      ),
    ),
  );
  node('materials-table').hidden = mats.length === 0;
  node('materials-empty').hidden = mats.length > 0;
}

function stepRows(c) {
  const steps = c.steps || [];
  Desk.fill(
    'step-rows',
    steps.map((s) =>
      Desk.el(
        'tr',
        { dataset: { step: s.step || s.step_zh, flag: s.flag || 'ok' } },
        Desk.el('td', null, s.step_zh || s.step),
        Desk.el('td', null, where(s.holder, s.holder_name)),
        Desk.el('td', { class: 'nowrap' }, s.due || Desk.T.none),
        Desk.el('td', null, s.done ? s.done_at || T.doneMark : T.notDone),
        Desk.el(
          'td',
          null,
          Desk.flagBadge(s.flag || 'ok', s.flag_zh),
          !s.done && s.days_left !== undefined && s.days_left !== null ? [' ', Desk.daysLeft(s.days_left)] : null,
        ),
      ),
    ),
  );
  node('steps-table').hidden = steps.length === 0;
  node('steps-empty').hidden = steps.length > 0;
}

// Words for what an event says beyond its kind.
function detail(ev) {
  const b = bodyOf(ev);
  const D = T.detail;
  const out = [];
  const add = (cond, text) => cond && out.push(text);
  switch (ev.kind) {
    case 'submitted': {
      const mats = b.materials || [];
      out.push(D.submitted(mats.length, mats.filter((m) => m.state === 'missing').length));
      break;
    }
    case 'accepted':
      add(b.dueDate, D.due(b.dueDate, b.limitDays));
      add(b.extendReason, D.extend(b.extendReason));
      break;
    case 'supplement_requested':
      out.push(D.missing(listed(b.missing)));
      break;
    case 'supplemented':
      out.push(D.provided(listed(b.provided)));
      break;
    case 'escalated':
      add(b.to, D.to(where(b.to)));
      break;
    case 'assigned':
      out.push(D.departments(listed(b.departments)));
      break;
    case 'opinion':
      out.push((b.department || '') + ' ' + (b.approve ? D.approve : D.reject));
      add(b.text, b.text);
      break;
    case 'decided':
      out.push(b.approved ? D.approved : D.refused);
      add(b.certificateNo, D.certificate(b.certificateNo));
      add(b.reason, D.reason(b.reason));
      add(b.legalBasis, D.basis(b.legalBasis));
      break;
    case 'not_accepted':
      add(b.reason, D.reason(b.reason));
      add(b.legalBasis, D.basis(b.legalBasis));
      break;
    case 'fee_collected':
      out.push(D.fee(Desk.yuan(b.amount), b.receiptNo || ''));
      add(b.reason, D.note(b.reason));
      break;
    case 'rated':
      out.push(T.ratings[b.score] || String(b.score || ''));
      add((b.reasons || []).length, D.reasons(listed(b.reasons)));
      add(b.comment, b.comment);
      add(b.channel === 'evaluator', D.evaluator);
      break;
    case 'delivered':
      add(b.method, b.method);
      break;
    case 'withdrawn':
      add(b.reason, D.reason(b.reason));
      break;
    case 'complaint':
      add(b.text, b.text);
      add(b.against, D.against([where(b.against), b.department, b.person].filter(Boolean).join(' ')));
      add(b.complainant || b.phone, D.complainant(b.complainant || Desk.T.none, b.phone));
      add(b.channel, D.channel(T.channels[b.channel] || b.channel));
      add(b.dueDate, D.answerBy(b.dueDate));
      break;
    case 'supervised':
      add(b.note, b.note);
      add(b.dueDate, D.order(b.dueDate, where(b.holder)));
      break;
    case 'answered':
      add(b.to === 'complaint', D.upheld(Boolean(b.upheld)));
      add(b.to === 'revisit', D.revisit(Number(b.score || 0)));
      add(b.text, b.text);
      break;
    case 'replied':
    case 'comment':
      add(b.text, b.text);
      break;
    default:
      break;
  }
  if (!['rated', 'fee_collected', 'supervised'].includes(ev.kind)) add(b.note, D.note(b.note));
  return out.join(T.semi);
}

function kindWords(ev) {
  if (ev.kind === 'answered') return T.answeredKinds[bodyOf(ev).to] || ev.kind_zh || ev.kind;
  return T.kinds[ev.kind] || ev.kind_zh || ev.kind;
}

function custody(ev) {
  const c = ev.custody;
  if (!c) return '';
  const C = T.custody;
  const words = [C.here];
  if (c.township === true) words.push(C.township);
  if (c.township === false) words.push(C.townshipNo);
  if (c.county === true) words.push(C.county);
  if (c.county === false) words.push(C.countyNo);
  const text = words.join(T.dot);
  if (c.refused) return [text, Desk.el('span', { class: 'detail no' }, C.refused(c.refused.text || c.refused.reason || ''))];
  return text;
}

// "王小红 · 代理员（代 李明）"; events the system makes: "系统".
function who(ev) {
  if (ev.actor === 'system' || ev.role === 'system') return Desk.roleZh('system');
  const role = ev.role ? T.dot + Desk.roleZh(ev.role, ev.role_zh) : '';
  return (ev.actor || '') + role + (ev.on_behalf_of ? T.behalf(ev.on_behalf_of) : '');
}

function historyRows(c) {
  const events = c.events || [];
  Desk.fill(
    'history-rows',
    events.map((ev) =>
      Desk.el(
        'tr',
        { dataset: { kind: ev.kind, event: ev.id }, class: ev.superseded ? 'superseded' : null },
        Desk.el('td', null, ev.time || ''),
        Desk.el(
          'td',
          null,
          Desk.el('span', { class: 'what' }, kindWords(ev)),
          ev.superseded ? T.superseded : null,
          detail(ev) ? Desk.el('span', { class: 'detail' }, detail(ev)) : null,
        ),
        Desk.el('td', { class: 'who' }, who(ev)),
        // The place by name; its code on hover (the column stays narrow).
        Desk.el('td', { class: 'place', title: ev.origin }, ev.origin_name || names[ev.origin] || where(ev.origin)),
        Desk.el('td', { class: 'custody' }, custody(ev)),
      ),
    ),
  );
}

// The printouts the server lists; 服务告知单 is the item's, always offered.
function prints(c) {
  const kinds = (c.prints || []).filter((k) => k !== 'service');
  if (c.item_code) kinds.push('service');
  const href = (k) =>
    '/print.html' + Desk.query(k === 'service' ? { kind: k, item: c.item_code } : { kind: k, id: c.case });
  Desk.fill(
    'prints',
    kinds.map((k) => Desk.el('a', { class: 'button secondary', dataset: { print: k }, href: href(k) }, T.prints[k] || k)),
  );
}

function actions(c) {
  const list = c.actions || [];
  Desk.fill(
    'actions',
    list.map((a) =>
      Desk.el(
        'button',
        {
          type: 'button',
          class: a.action === openAction ? '' : 'secondary',
          dataset: { action: a.action },
          'aria-expanded': a.action === openAction ? 'true' : 'false',
          // 评价 is the applicant's: the 评价器 fills the screen for them.
          onclick: () => (a.action === 'rate' ? location.assign('/rate.html' + Desk.query({ id: caseId })) : open(a)),
        },
        a.label_zh || a.action,
      ),
    ),
  );
  node('no-actions').hidden = list.length > 0;
}

// ---- action forms --------------------------------------------------------------------
//
// Each action's fields, by the JSON key each fills (node/app/act.h):
//   {key, type: text|textarea|date|select|radio|checks|money, label, hint,
//    required, options: [[value, words]] or a function of the case}.

function materialOptions(c, states) {
  return (c.materials || []).filter((m) => states.includes(m.state)).map((m) => [m.name, m.name]);
}

function levelsAbove(c) {
  const home = String(c.home || '');
  const out = [];
  for (const len of [12, 9, 6]) if (home.length >= len) out.push([home.slice(0, len), where(home.slice(0, len))]);
  return out;
}

const F = T.fields;
const FORMS = {
  accept: [
    { key: 'due', type: 'date', label: F.due, hint: F.dueHint },
    { key: 'extend_reason', type: 'text', label: F.extend_reason },
    { key: 'note', type: 'text', label: F.note },
  ],
  'request-supplement': [
    {
      key: 'missing',
      type: 'checks',
      label: F.missing,
      required: true,
      options: (c) => materialOptions(c, ['missing', 'later', 'provided']),
      checked: (c) => (c.missing || []).map((m) => (typeof m === 'string' ? m : m.name)),
    },
    { key: 'note', type: 'text', label: F.note },
  ],
  supplement: [
    {
      key: 'provided',
      type: 'checks',
      label: F.provided,
      required: true,
      options: (c) => materialOptions(c, ['missing', 'later']),
    },
    { key: 'files', type: 'files', label: T.files.supplementFiles, options: (c) => materialOptions(c, ['missing', 'later']) },
    { key: 'note', type: 'text', label: F.note },
  ],
  escalate: [
    { type: 'info', label: F.escalateHint },
    { key: 'note', type: 'text', label: F.note },
  ],
  assign: [
    {
      key: 'departments',
      type: 'checks',
      label: F.departments,
      required: true,
      options: () => ((item && item.departments) || []).map((d) => [d, d]),
    },
    { key: 'note', type: 'text', label: F.note },
  ],
  opinion: [
    {
      key: 'department',
      type: 'select',
      label: F.department,
      required: true,
      // The assigned departments ({department, opinion}) still without an opinion.
      options: (c) =>
        (c.departments || [])
          .filter((d) => typeof d === 'string' || !d.opinion)
          .map((d) => (typeof d === 'string' ? d : d.department))
          .map((n) => [n, n]),
    },
    {
      key: 'decision',
      type: 'radio',
      label: F.opinion,
      required: true,
      options: () => [['approve', F.approve], ['reject', F.reject]],
    },
    { key: 'text', type: 'textarea', label: F.text },
  ],
  decide: [
    {
      key: 'decision',
      type: 'radio',
      label: F.decision,
      required: true,
      options: () => [['approve', F.approve], ['reject', F.reject]],
    },
    { key: 'reason', type: 'textarea', label: F.reason, hint: F.reasonHint },
    { key: 'basis', type: 'text', wide: true, label: F.basis, value: () => (item && (item.basis || item.legal_basis)) || '' },
    { key: 'certificate', type: 'text', label: F.certificate },
    { key: 'files', type: 'files', label: T.files.decisionFiles, options: () => [[T.files.decisionPaper, T.files.decisionPaper]] },
  ],
  reply: [{ key: 'text', type: 'textarea', label: F.reply, required: true }],
  deliver: [
    { key: 'method', type: 'select', label: F.method, required: true, options: () => F.methods.map((m) => [m, m]) },
    { key: 'note', type: 'text', label: F.note },
  ],
  rate: [
    {
      key: 'score',
      type: 'radio',
      label: F.score,
      required: true,
      options: () => [5, 4, 3, 2, 1].map((n) => [String(n), T.ratings[n]]),
    },
    { key: 'comment', type: 'text', label: F.comment },
  ],
  'collect-fee': [
    {
      key: 'amount',
      type: 'money',
      label: F.amount,
      required: true,
      value: (c) => (c.fee_due_fen ? (c.fee_due_fen / 100).toFixed(2) : ''),
    },
    { key: 'receipt', type: 'text', label: F.receipt, required: true },
    { key: 'reason', type: 'text', label: F.feeReason },
  ],
  close: [{ key: 'note', type: 'text', label: F.note }],
  withdraw: [{ key: 'reason', type: 'textarea', label: F.withdrawReason, required: true }],
  'not-accept': [
    { key: 'reason', type: 'textarea', label: F.notAcceptReason, required: true },
    { key: 'basis', type: 'text', wide: true, label: F.basis, value: () => (item && (item.basis || item.legal_basis)) || '' },
  ],
  comment: [{ key: 'text', type: 'textarea', label: F.commentText, required: true }],
  complain: [
    { type: 'info', label: F.againstHint },
    { key: 'complainant', type: 'text', label: F.complainant },
    { key: 'phone', type: 'text', label: F.complainantPhone },
    {
      key: 'channel',
      type: 'select',
      label: F.channel,
      required: true,
      options: () => Object.entries(T.channels),
      // At a county or township the phone is the usual way in; at a village point, the desk.
      value: () => (String((Desk.session() || {}).node || '').length === 12 ? 'desk' : 'phone'),
    },
    {
      key: 'against',
      type: 'select',
      label: F.against,
      options: levelsAbove,
      value: (c) => c.handler || c.home,
    },
    { key: 'department', type: 'text', label: F.complainDepartment },
    { key: 'person', type: 'text', label: F.complainPerson },
    { key: 'text', type: 'textarea', label: F.complaint, required: true },
  ],
  supervise: [
    { type: 'info', label: (c) => F.superviseTo(c.handler ? where(c.handler, c.handler_name) : where(c.home, c.home_name)) },
    { key: 'note', type: 'textarea', label: F.superviseNote, hint: F.superviseNoteHint, required: true },
    { key: 'due', type: 'datepick', label: F.superviseDue, required: true, min: chinaToday },
  ],
  answer: [{ key: 'answer', type: 'custom', build: answerFields, read: readAnswer }],
};

// Today in China (YYYY-MM-DD), the earliest date an order may set.
function chinaToday() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

// ---- answering 督办, 效能投诉, 整改 and 回访 ------------------------------------------------------
//
// The open items this level answers on this case come from GET /api/desk
// `answers` (the server's rule of who answers what); at the county a
// decided case may also get its revisit (回访) recorded.

let answerItems = [];

function revisitOpen(c) {
  if (String((Desk.session() || {}).node || '').length !== 6) return false;
  const events = c.events || [];
  return (
    events.some((e) => e.kind === 'decided') &&
    !events.some((e) => e.kind === 'answered' && bodyOf(e).to === 'revisit')
  );
}

function answerChoices(c) {
  const out = answerItems.map((e) => ({
    value: e.kind + ':' + e.event,
    kind: e.kind,
    about: e.event,
    title: e.kind_zh || e.kind,
    text: e.text || '',
    due: e.due || '',
  }));
  if (revisitOpen(c)) out.push({ value: 'revisit:', kind: 'revisit', about: '', title: F.revisitItem, text: '', due: '' });
  return out;
}

function answerFields(c) {
  const choices = answerChoices(c);
  const wanted = Desk.param('about');
  const pick = choices.find((x) => x.about && x.about === wanted) || (choices.length === 1 ? choices[0] : null);
  const which = Desk.el(
    'fieldset',
    { class: 'field wide', dataset: { part: 'about' } },
    Desk.el('legend', { class: 'required' }, F.answerWhich),
    choices.length
      ? choices.map((x) =>
          Desk.el(
            'label',
            { class: 'choice block' },
            Desk.el('input', {
              type: 'radio',
              name: 'about',
              value: x.value,
              checked: x === pick,
              dataset: { kind: x.kind },
              onchange: () => answerKind(x.kind),
            }),
            Desk.el(
              'span',
              null,
              Desk.el('strong', null, x.title),
              x.text ? '：' + x.text : '',
              x.due ? Desk.el('span', { class: 'detail' }, F.answerDue(x.due)) : null,
            ),
          ),
        )
      : Desk.el('p', { class: 'muted' }, F.noAnswerItems),
  );
  const upheld = Desk.el(
    'fieldset',
    { class: 'field wide', id: 'act-upheld-box', dataset: { part: 'upheld' }, hidden: true },
    Desk.el('legend', { class: 'required' }, F.upheld),
    Desk.el(
      'div',
      { class: 'checks' },
      [['true', F.upheldYes], ['false', F.upheldNo]].map(([v, words]) =>
        Desk.el('label', { class: 'choice' }, Desk.el('input', { type: 'radio', name: 'upheld', value: v }), words),
      ),
    ),
  );
  const score = Desk.el(
    'div',
    { class: 'field', id: 'act-revisit-box', dataset: { part: 'score' }, hidden: true },
    Desk.el('label', { for: 'act-revisit-score', class: 'required' }, F.revisitScore),
    Desk.el(
      'select',
      { id: 'act-revisit-score' },
      Desk.el('option', { value: '' }, ''),
      [5, 4, 3, 2, 1].map((n) => Desk.el('option', { value: String(n) }, T.ratings[n])),
      Desk.el('option', { value: '0' }, F.notReached),
    ),
  );
  const text = Desk.el(
    'div',
    { class: 'field wide', dataset: { part: 'text' } },
    Desk.el('label', { for: 'act-text', class: 'required', id: 'act-text-label' }, F.answerText.order),
    Desk.el('textarea', { id: 'act-text', rows: 3, maxlength: 1000 }),
  );
  // The fields that depend on the item chosen are set once the form is in the page.
  setTimeout(() => answerKind(pick ? pick.kind : 'order'), 0);
  return [which, upheld, score, text];
}

function answerKind(kind) {
  const form = node('act-form');
  if (!form) return;
  node('act-upheld-box').hidden = kind !== 'complaint';
  node('act-revisit-box').hidden = kind !== 'revisit';
  node('act-text-label').textContent = F.answerText[kind] || F.answerText.order;
}

// Fills `body` from the answer form; an error {part, text} or null.
function readAnswer(form, body) {
  const on = form.querySelector('input[name="about"]:checked');
  if (!on) return { part: 'about', text: T.form.need(F.answerWhich) };
  const [kind, about] = on.value.split(':');
  body.answer_to = kind;
  if (about) body.about = about;
  if (kind === 'complaint') {
    const u = form.querySelector('input[name="upheld"]:checked');
    if (!u) return { part: 'upheld', text: T.form.need(F.upheld) };
    body.upheld = u.value === 'true';
  }
  if (kind === 'revisit') {
    const v = node('act-revisit-score').value;
    if (v === '') return { part: 'score', text: T.form.need(F.revisitScore) };
    body.score = Number(v);
  }
  const text = node('act-text').value.trim();
  if (!text) return { part: 'text', text: T.form.need(F.answerText[kind] || F.answerText.order) };
  body.text = text;
  return null;
}

function inputFor(spec, c) {
  const id = 'act-' + spec.key.replace(/_/g, '-');
  const value = spec.value ? spec.value(c) : '';
  switch (spec.type) {
    case 'textarea':
      return Desk.el('textarea', { id, rows: 2, maxlength: 1000, value });
    case 'date':
      return Desk.el('input', { type: 'text', id, value, placeholder: T.form.datePlaceholder, autocomplete: 'off' });
    case 'datepick':
      return Desk.el('input', { type: 'date', id, value, min: spec.min ? spec.min() : null });
    case 'money':
      return Desk.el('input', { type: 'text', id, inputmode: 'decimal', value, autocomplete: 'off' });
    case 'select': {
      const opts = spec.options(c);
      return Desk.el(
        'select',
        { id },
        spec.required && (opts.length === 1 || value) ? null : Desk.el('option', { value: '' }, ''),
        opts.map(([v, words]) => Desk.el('option', { value: v, selected: v === value }, words)),
      );
    }
    default:
      return Desk.el('input', { type: 'text', id, value, autocomplete: 'off' });
  }
}

function fieldFor(spec, c) {
  if (spec.type === 'info')
    return Desk.el('p', { class: 'field wide' }, typeof spec.label === 'function' ? spec.label(c) : spec.label);
  if (spec.type === 'custom') return spec.build(c);
  if (spec.type === 'files')
    return Desk.el(
      'fieldset',
      { class: 'field wide', 'data-part': 'files' },
      Desk.el('legend', null, spec.label),
      spec.options(c).map(([material, words]) =>
        Desk.el(
          'label',
          { class: 'file-pick' },
          words + '：',
          Desk.el('input', { type: 'file', accept: 'image/*,application/pdf', capture: 'environment', multiple: true, dataset: { material } }),
        ),
      ),
    );
  const label = spec.label;
  if (spec.type === 'radio' || spec.type === 'checks') {
    const multi = spec.type === 'checks';
    const checked = spec.checked ? spec.checked(c) : [];
    const boxes = spec.options(c).map(([v, words]) =>
      Desk.el(
        'label',
        { class: 'choice' },
        Desk.el('input', { type: multi ? 'checkbox' : 'radio', name: spec.key, value: v, checked: checked.includes(v) }),
        words,
      ),
    );
    const other = multi
      ? Desk.el(
          'div',
          { class: 'field' },
          Desk.el('label', { for: 'act-' + spec.key + '-other' }, T.form.other),
          Desk.el('input', { type: 'text', id: 'act-' + spec.key + '-other', autocomplete: 'off' }),
        )
      : null;
    return Desk.el(
      'fieldset',
      { class: 'field wide', dataset: { part: spec.key } },
      Desk.el('legend', { class: spec.required ? 'required' : null }, label),
      Desk.el('div', { class: 'checks' }, boxes),
      other,
    );
  }
  const input = inputFor(spec, c);
  const wide = spec.type === 'textarea' || spec.wide;
  return Desk.el(
    'div',
    { class: 'field' + (wide ? ' wide' : ''), dataset: { part: spec.key } },
    Desk.el('label', { for: input.id, class: spec.required ? 'required' : null }, label),
    input,
    spec.hint ? Desk.el('p', { class: 'hint' }, spec.hint) : null,
  );
}

function behalfField() {
  const colleagues = (Desk.session() && Desk.session().colleagues) || [];
  if (!colleagues.length) return null;
  return Desk.el(
    'div',
    { class: 'field', dataset: { part: 'on_behalf_of' } },
    Desk.el('label', { for: 'act-on-behalf' }, T.form.behalf),
    Desk.el(
      'select',
      { id: 'act-on-behalf' },
      Desk.el('option', { value: '' }, T.form.self),
      colleagues.map((n) => Desk.el('option', { value: n }, T.form.behalfOf(n))),
    ),
  );
}

function open(a) {
  close();
  openAction = a.action;
  const specs = FORMS[a.action] || [{ key: 'note', type: 'text', label: F.note }];
  const form = Desk.el(
    'form',
    { id: 'act-form', class: 'actform', dataset: { action: a.action }, novalidate: true },
    Desk.el('h3', null, a.label_zh || a.action),
    Desk.el('div', { class: 'grid' }, specs.map((s) => fieldFor(s, current)), behalfField()),
    Desk.el(
      'div',
      { class: 'buttons' },
      Desk.el('button', { type: 'submit', id: 'act-submit' }, T.form.submit),
      Desk.el('button', { type: 'button', class: 'secondary', id: 'act-cancel', onclick: close }, T.form.cancel),
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send(a, specs, form);
  });
  Desk.fill('act-area', form);
  // The message area sits in the form, above its buttons.
  form.insertBefore(node('message'), form.querySelector('.buttons'));
  Desk.say('');
  actions(current);
  const first = form.querySelector('input, select, textarea');
  if (first) first.focus();
}

function close() {
  const form = node('act-form');
  if (form) node('work').insertBefore(node('message'), node('act-area').nextSibling);
  Desk.fill('act-area');
  openAction = '';
  if (current) actions(current);
}

// The request body from the form, or null (the message says why).
function collect(a, specs, form) {
  const body = { action: a.action };
  for (const s of specs) {
    if (!s.key || s.type === 'files') continue;
    if (s.type === 'custom') {
      const err = s.read(form, body);
      if (err) return refuse(form, err.part, err.text);
    } else if (s.type === 'checks') {
      const list = [...form.querySelectorAll('input[name="' + s.key + '"]:checked')].map((i) => i.value);
      const other = form.querySelector('#act-' + s.key + '-other');
      if (other)
        for (const v of other.value.split(T.form.split))
          if (v.trim() && !list.includes(v.trim())) list.push(v.trim());
      if (s.required && !list.length) return refuse(form, s.key, T.form.needOne(s.label));
      body[s.key] = list;
    } else if (s.type === 'radio') {
      const on = form.querySelector('input[name="' + s.key + '"]:checked');
      if (s.required && !on) return refuse(form, s.key, T.form.need(s.label));
      if (!on) continue;
      if (s.key === 'decision') {
        body.approve = on.value === 'approve';
        body.reject = on.value === 'reject';
      } else if (s.key === 'score') {
        body.score = Number(on.value);
      } else {
        body[s.key] = on.value;
      }
    } else {
      const input = form.querySelector('#act-' + s.key.replace(/_/g, '-'));
      const v = input ? input.value.trim() : '';
      if (s.required && !v) return refuse(form, s.key, T.form.need(s.label));
      if (v && s.type === 'date' && !Desk.isDate(v)) return refuse(form, s.key, T.form.badDate(s.label));
      if (v) body[s.key] = v;
    }
  }
  const behalf = form.querySelector('#act-on-behalf');
  if (behalf && behalf.value) body.on_behalf_of = behalf.value;
  return body;
}

function refuse(form, part, text) {
  Desk.clear(form);
  Desk.say(text, 'error');
  const input = Desk.mark(part, form);
  if (input && input.focus) input.focus();
  return null;
}

async function send(a, specs, form) {
  Desk.clear(form);
  const body = collect(a, specs, form);
  if (!body) return;
  const button = node('act-submit');
  button.disabled = true;
  button.textContent = T.form.sending;
  try {
    const files = [];
    for (const input of form.querySelectorAll('input[type=file][data-material]'))
      for (const file of input.files) files.push({ material: input.dataset.material, file });
    const r = await Desk.post('/api/cases/' + encodeURIComponent(caseId) + '/act', body, { files });
    close();
    Desk.say(T.form.done(a.label_zh || a.action, r.status_zh || r.status || ''), 'ok');
    await load();
  } catch (err) {
    button.disabled = false;
    button.textContent = T.form.submit;
    Desk.showError(err, form);
  }
}

// ---- loading ------------------------------------------------------------------------------

async function load() {
  const c = await Desk.get('/api/cases/' + encodeURIComponent(caseId));
  if ((c.actions || []).some((a) => a.action === 'answer')) {
    const d = await Desk.get('/api/desk');
    answerItems = (d.answers || []).filter((e) => e.case === c.case);
  } else {
    answerItems = [];
  }
  current = c;
  for (const st of c.steps || []) if (st.holder && st.holder_name) names[st.holder] = st.holder_name;
  header(c);
  actions(c);
  prints(c);
  applicantFacts(c);
  handlingFacts(c);
  materialRows(c);
  fileList(c);
  stepRows(c);
  historyRows(c);
  if (c.lsn !== undefined) Desk.seen(c.lsn);
  if (!item && c.item_code) {
    try {
      item = await Desk.get('/api/catalog/' + encodeURIComponent(c.item_code));
      if (item && item.item) item = item.item;
    } catch (e) {
      item = {}; // not in the catalog held here: the forms go without it
    }
  }
}

Desk.start({
  page: 'case',
  strings: T,
  init: async () => {
    if (!caseId) {
      location.replace('/search.html');
      return;
    }
    document.title = caseId + ' ' + document.title;
    try {
      await load();
      // case.html?id=CASE&act=ACTION: that action's form, open (the 工作台's 答复).
      const wanted = (current.actions || []).find((a) => a.action === Desk.param('act'));
      if (wanted && wanted.action !== 'rate') open(wanted);
    } catch (err) {
      Desk.showError(err);
      if (err.status === 404) {
        node('work').hidden = false;
        Desk.fill('actions', Desk.el('a', { class: 'button', href: '/search.html' }, Desk.T.nav.search));
      }
    }
  },
  refresh: async () => {
    try {
      await load();
    } catch (err) {
      Desk.showError(err);
    }
  },
});
