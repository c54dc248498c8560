// print.js: the printouts, A4 (print.css) —
//   print.html?kind=receipt&id=CASE  受理回执 (with a QR code of the number)
//   kind=notice   一次性告知书        kind=refusal  不予受理通知书
//   kind=result   办结通知 / 送达回证  kind=fee      代收费收据
//   kind=service&item=CODE  服务告知单 (八公开): public, no login (its
//       data from GET /api/public/items/CODE); &from=public: 返回 goes
//       back to the public page (public.html)
// The case number and the promised date are plain text lines
// ("办件编号：…", "承诺办结日期：…") so they can be read back from a PDF.
//
// Ids: #print-button (window.print()), #print-back, #sheet (the page,
// [data-kind=KIND]), #print-title, #print-case (办件编号 line), #print-due
// (承诺办结日期 line), #qr (img), #print-amount (fee: 大写), #notice-days
// (notice only, on screen: the working days given to bring the materials),
// #message.
const T = {
  title: '打印',
  print: '打印',
  back: '返回',
  backCase: '返回办件',
  backCatalog: '返回事项目录',
  backPublic: '返回办事结果公开',
  noticeDaysLabel: '补正期限（工作日）',
  unknownKind: '不知道要打印什么。请从办件详情页点打印按钮进入。',
  noCase: '没有指定办件编号。',
  titles: {
    receipt: '受理回执',
    // Before 受理 (a 补办件 waiting for materials): a receipt of what was handed in.
    received: '收件回执',
    notice: '一次性告知书',
    refusal: '不予受理通知书',
    refusalDecision: '不予许可决定书',
    result: '办结通知书',
    proof: '送达回证',
    fee: '代收费收据',
    service: '服务告知单',
  },
  caseNo: (id) => '办件编号：' + id,
  dueLine: (d) => '承诺办结日期：' + d,
  dueUnknown: '受理后确定',
  dueAfter: (n) => '受理后确定（自受理之日起 ' + n + ' 个工作日内办结）',
  qrCaption: '凭编号或扫码查询进度',
  qrAlt: '办件编号二维码',
  f: {
    applicant: '申请人',
    idNumber: '公民身份号码',
    phone: '联系电话',
    address: '住址',
    item: '办理事项',
    received: '收件日期',
    accepted: '受理日期',
    limit: '办理时限',
    fee: '收费',
    office: '受理单位',
    staff: '经办人',
    officePhone: '联系电话',
    complaint: '监督电话',
    notYet: '待受理',
  },
  days: (n) => n + ' 个工作日',
  free: '不收费',
  materialsReceived: '已收材料',
  mat: { no: '序号', name: '材料名称', form: '原件/复印件', copies: '份数', note: '说明' },
  forms: { original: '原件', copy: '复印件' },
  noMaterials: '（登记时未列材料）',
  laterList: (list) => '容缺后补：' + list + '（须在发证前补齐）',
  missingList: (list) => '尚缺材料：' + list + '（另见一次性告知书）',
  nextHeading: '后续办理',
  next: {
    forward: (n) => '本点在 ' + n + ' 个工作日内将申请材料转报乡镇便民服务中心。',
    township: (n) => '乡镇在 ' + n + ' 个工作日内办理或上报。',
    county: (n) => '县级部门在 ' + n + ' 个工作日内审批。',
    reply: (n) => '结果在作出后 ' + n + ' 个工作日内回到本点。',
    notify: (n) => '本点在收到结果后 ' + n + ' 个工作日内通知您领取或送达。',
    plain: '本件按承诺时限办理，办结后本点将及时通知您。',
    keep: '请妥善保管本回执，查询进度或领取结果时请出示。',
  },
  signApplicant: '申请人签字：',
  signStaff: '受理人签字：',
  signDate: '日期：',
  dateBlank: '　　年　　月　　日',
  to: (name) => name + '：',
  notice: {
    body: (date, item, id) =>
      '您于 ' + date + ' 申请办理的“' + item + '”（办件编号：' + id + '），经审查，申请材料不齐全。根据一次性告知的规定，现将需要补正的全部材料一次性告知如下：',
    bring: (days, office) =>
      '请您自收到本告知书之日起 ' + days + ' 个工作日内，将上述材料送到' + office + '。材料补齐后即予受理，您不必为同一事项再跑第二趟。',
    later: (list) => '以下材料可容缺后补，须在发证前补齐：' + list + '。',
    none: '（本办件登记时材料齐全，没有需要补正的材料）',
    brought: '已补交',
    receivedBy: '申请人签收：',
  },
  refusal: {
    body: (date, item, id) => '您于 ' + date + ' 申请办理的“' + item + '”（办件编号：' + id + '），经审查，',
    notAccepted: '决定不予受理。',
    rejected: '决定不予许可。',
    reason: '理由：',
    basis: '依据：',
    remedy: '申请人如对本决定不服，可依法申请行政复议或者提起行政诉讼。',
    none: '（本办件没有不予受理或不予许可的记录）',
  },
  result: {
    body: (item, id) => '您申请办理的“' + item + '”（办件编号：' + id + '）已办结。',
    decision: '办理结果：',
    decidedBy: '决定机关：',
    approved: '准予',
    refused: '不予许可',
    certificate: '证照或批文编号：',
    reason: '理由：',
    basis: '依据：',
    collect: (office) => '请持本通知和本人身份证到' + office + '领取办理结果。',
    none: '（本办件尚未办结）',
    proofRows: {
      doc: '送达文书',
      docWords: (cert) => '办结通知书' + (cert ? '、证照 ' + cert : ''),
      to: '受送达人',
      place: '送达地点',
      method: '送达方式',
      by: '送达人',
      date: '送达日期',
      sign: '受送达人签收',
    },
  },
  fee: {
    receiptNo: (no) => '收据编号：' + no,
    payer: '缴款人',
    detail: '代收明细',
    item: '收费项目',
    reason: '说明',
    small: '金额（小写）',
    upper: '金额（大写）',
    total: '合计',
    payee: '代收单位',
    collector: '收款人',
    collectorSign: '收款人签字：',
    date: '收款日期',
    agency: '（代收）',
    none: '（本办件没有代收费记录）',
  },
  service: {
    intro: '本事项按以下“八公开”内容办理，欢迎监督。',
    basis: '一、办事依据',
    conditions: '二、办理条件',
    procedure: '三、办理程序',
    materials: '四、申报材料',
    limit: '五、办理时限',
    fee: '六、收费标准',
    staff: '七、经办人员',
    phone: '八、监督电话',
    limitWords: (n) => '承诺 ' + n + ' 个工作日内办结（自受理之日起，按工作日计算）。',
    steps: {
      village_forward: '村代理点转报乡镇',
      township_handle: '乡镇办理',
      county_decide: '县级审批',
      township_reply: '乡镇回传结果',
      village_notify: '村代理点送达',
    },
    later: '可容缺后补',
    none: '（未公布）',
  },
  issued: '出具单位：',
  printed: '打印日期：',
  ratings: { 5: '非常满意', 4: '满意', 3: '基本满意', 2: '不满意', 1: '非常不满意' },
  sep: '、',
  semi: '；',
  gap: '　',
  dateWords: (y, m, d) => y + '年' + m + '月' + d + '日',
  complaintLine: (phone) => '监督电话：' + phone,
  behalf: (name) => '（代 ' + name + '）',
  yuanSign: '¥',
  rmb: {
    digits: '零壹贰叁肆伍陆柒捌玖',
    units: ['', '拾', '佰', '仟'],
    groups: ['', '万', '亿', '万亿'],
    prefix: '人民币',
    yuan: '元',
    jiao: '角',
    fen: '分',
    whole: '整',
    zero: '零',
  },
};

const kind = Desk.param('kind');
let session = null;
// The node as GET /api/public/items names it, for a page without a session.
let publicNode = null;
let noticeDays = 5;

// ---- small helpers -------------------------------------------------------------------

const el = Desk.el;

function bodyOf(ev) {
  const b = (ev && ev.body) || {};
  const k = Object.keys(b)[0];
  return (k && b[k]) || {};
}

function lastEvent(c, kinds) {
  const list = (c.events || []).filter((e) => kinds.includes(e.kind) && !e.superseded);
  return list.length ? list[list.length - 1] : null;
}

function names(list) {
  return (list || []).map((m) => (typeof m === 'string' ? m : m.name)).join(T.sep);
}

// "2026-12-02 23:28:24" -> "2026年12月02日"
function chineseDate(text) {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})/.exec(String(text || ''));
  return m ? T.dateWords(m[1], m[2], m[3]) : '';
}

function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
}

// A place by the name the case's steps give it.
function placeIn(c, code) {
  const step = (c.steps || []).find((st) => st.holder === code && st.holder_name);
  return Desk.place(code, step ? step.holder_name : '');
}

// "李明（代 王小红）" for an act of a backup (AB角).
function actorWords(ev) {
  return (ev.actor || '') + (ev.on_behalf_of ? T.behalf(ev.on_behalf_of) : '');
}

function masked(id) {
  const v = String(id || '');
  return v.length === 18 ? v.slice(0, 6) + '********' + v.slice(14) : v;
}

function office() {
  return Desk.office(session || publicNode);
}

function officeLine() {
  const who = session || publicNode;
  return who ? Desk.place(who.node, Desk.office(who)) : '';
}

// Amount in fen -> 人民币壹拾伍元伍角 (GB/T: 大写金额).
function rmbUpper(fen) {
  const R = T.rmb;
  const n = Math.round(Number(fen) || 0);
  const yuan = Math.floor(n / 100);
  const jiao = Math.floor(n / 10) % 10;
  const cents = n % 10;
  let out = '';
  if (yuan > 0) {
    const s = String(yuan);
    let zeros = 0;
    for (let i = 0; i < s.length; i++) {
      const d = Number(s[i]);
      const pos = s.length - 1 - i;
      if (d === 0) {
        zeros++;
      } else {
        if (zeros > 0 && out) out += R.zero;
        zeros = 0;
        out += R.digits[d] + R.units[pos % 4];
      }
      if (pos % 4 === 0 && pos > 0 && /[1-9]/.test(s.slice(Math.max(0, i - 3), i + 1))) out += R.groups[pos / 4];
    }
    out += R.yuan;
  }
  if (jiao === 0 && cents === 0) return R.prefix + (out || R.zero + R.yuan) + R.whole;
  if (jiao > 0) out += R.digits[jiao] + R.jiao;
  else if (yuan > 0) out += R.zero;
  if (cents > 0) out += R.digits[cents] + R.fen;
  return R.prefix + out;
}

function money(fen) {
  return T.yuanSign + (Number(fen || 0) / 100).toFixed(2);
}

function header(title) {
  return [
    el('p', { class: 'issuer' }, office()),
    el('h1', { id: 'print-title' }, title),
  ];
}

function docNumber(c, withQr, days) {
  return el(
    'div',
    { class: 'docno' },
    el(
      'div',
      { class: 'lines' },
      el('p', { class: 'key', id: 'print-case' }, T.caseNo(c.case)),
      withQr
        ? el('p', { class: 'key', id: 'print-due' }, T.dueLine(dueOf(c) || (days ? T.dueAfter(days) : T.dueUnknown)))
        : null,
    ),
    withQr
      ? el(
          'div',
          { class: 'qr' },
          el('img', { id: 'qr', src: '/api/qr' + Desk.query({ text: c.case }), alt: T.qrAlt }),
          T.qrCaption,
        )
      : null,
  );
}

function dueOf(c) {
  return c.due_date || (c.promise && c.promise.due_date) || '';
}

// A table of label / value pairs, two pairs a row; a row given as
// [label, value, 'wide'] takes the whole width.
function formTable(rows, one) {
  const list = rows.filter(Boolean);
  const trs = [];
  for (let i = 0; i < list.length; i++) {
    const [k, v, wide] = list[i];
    const next = list[i + 1];
    if (one || wide || !next || next[2]) {
      trs.push(el('tr', null, el('th', null, k), el('td', { colspan: one ? null : 3 }, v)));
    } else {
      trs.push(el('tr', null, el('th', null, k), el('td', null, v), el('th', null, next[0]), el('td', null, next[1])));
      i++;
    }
  }
  return el('table', { class: 'form' }, el('tbody', null, trs));
}

function sign(left, right) {
  const one = (who) =>
    el('div', null, el('p', null, who, el('span', { class: 'line' }, '')), el('p', null, T.signDate, T.dateBlank));
  return el('div', { class: 'sign' }, one(left), right ? one(right) : null);
}

function issued(date) {
  return el('p', { class: 'seal' }, office(), el('br'), chineseDate(date || today()));
}

// The materials as registered (the submitted event gives form and copies).
function registeredMaterials(c) {
  const sub = bodyOf(lastEvent(c, ['submitted']));
  const byName = new Map((sub.materials || []).map((m) => [m.name, m]));
  return (c.materials || []).map((m) => Object.assign({}, byName.get(m.name) || {}, m));
}

function catalogMaterial(item, name) {
  return ((item && item.materials) || []).find((m) => m.name === name) || {};
}

function formOf(m, cat) {
  if (m.original === true) return T.forms.original;
  if (m.original === false) return T.forms.copy;
  return T.forms[cat.form] || '';
}

function copiesOf(m, cat) {
  return String(m.count || cat.copies || cat.count || 1);
}

// ---- 受理回执 ------------------------------------------------------------------------------

function nextSteps(c, item) {
  const L = (item && item.limits) || {};
  const out = [];
  const home = String(c.home || '');
  if (home.length === 12 && L.village_forward) out.push(T.next.forward(L.village_forward));
  if (L.township_handle) out.push(T.next.township(L.township_handle));
  if (L.county_decide) out.push(T.next.county(L.county_decide));
  if (home.length === 12 && L.township_reply && (item.level === 'county' || item.level === 'township'))
    out.push(T.next.reply(L.township_reply));
  if (L.village_notify && home.length === 12) out.push(T.next.notify(L.village_notify));
  if (!out.length) out.push(T.next.plain);
  return [el('p', { class: 'indent' }, out.join('')), el('p', { class: 'indent' }, T.next.keep)];
}

function receipt(c, item) {
  const accepted = lastEvent(c, ['accepted']);
  const sub = lastEvent(c, ['submitted']);
  const mats = registeredMaterials(c);
  const got = mats.filter((m) => m.state === 'provided');
  const later = mats.filter((m) => m.state === 'later').map((m) => m.name);
  const missing = mats.filter((m) => m.state === 'missing').map((m) => m.name);
  const fee = Number((item && item.fee_fen) || c.fee_due_fen || 0);
  const limitDays = (c.promise && c.promise.limit_days) || (item && (item.limit_days || item.time_limit_days));
  const staff = actorWords(accepted || sub || {});
  return [
    header(accepted ? T.titles.receipt : T.titles.received),
    docNumber(c, true, limitDays),
    formTable([
      [T.f.applicant, c.applicant_name || ''],
      [T.f.idNumber, masked(c.applicant_id)],
      c.applicant_phone ? [T.f.phone, c.applicant_phone] : null,
      [T.f.item, c.item_name || c.item_code || ''],
      [T.f.received, chineseDate(c.submitted_at)],
      accepted ? [T.f.accepted, chineseDate(accepted.time)] : null,
      limitDays ? [T.f.limit, T.days(limitDays)] : null,
      [T.f.fee, fee > 0 ? money(fee) : (item && item.fee_note) || T.free],
    ]),
    el('h2', null, T.materialsReceived),
    got.length
      ? el(
          'table',
          null,
          el(
            'thead',
            null,
            el('tr', null, el('th', null, T.mat.no), el('th', null, T.mat.name), el('th', null, T.mat.form), el('th', { class: 'num' }, T.mat.copies)),
          ),
          el(
            'tbody',
            null,
            got.map((m, i) => {
              const cat = catalogMaterial(item, m.name);
              return el(
                'tr',
                null,
                el('td', null, String(i + 1)),
                el('td', null, m.name),
                el('td', null, formOf(m, cat)),
                el('td', { class: 'num' }, copiesOf(m, cat)),
              );
            }),
          ),
        )
      : el('p', null, T.noMaterials),
    later.length ? el('p', null, T.laterList(later.join(T.sep))) : null,
    missing.length ? el('p', null, T.missingList(missing.join(T.sep))) : null,
    el('h2', null, T.nextHeading),
    nextSteps(c, item),
    formTable([
      [T.f.office, officeLine(), 'wide'],
      [T.f.staff, staff],
      [T.f.officePhone, (session && (session.node_phone || session.contact)) || el('span', { class: 'line' }, '')],
      item && (item.complaint_phone || item.contact) ? [T.f.complaint, item.complaint_phone || item.contact] : null,
    ]),
    sign(T.signApplicant, T.signStaff),
  ];
}

// ---- 一次性告知书 ----------------------------------------------------------------------------

// The materials the notice asks for: those of the last 补正 request, or
// those missing at registration; with the ones brought since.
function noticeList(c) {
  const req = lastEvent(c, ['supplement_requested']);
  const sub = lastEvent(c, ['submitted']);
  let asked = req ? (bodyOf(req).missing || []).map((m) => m.name) : [];
  if (!asked.length) asked = (bodyOf(sub).materials || []).filter((m) => m.state === 'missing').map((m) => m.name);
  const still = (c.missing || []).map((m) => (typeof m === 'string' ? m : m.name));
  for (const m of still) if (!asked.includes(m)) asked.push(m);
  return { asked, still, at: req ? req.time : c.submitted_at };
}

function notice(c, item) {
  const { asked: missing, still, at } = noticeList(c);
  const later = (c.later || []).map((m) => (typeof m === 'string' ? m : m.name));
  const mats = registeredMaterials(c);
  const reg = (name) => mats.find((m) => m.name === name) || {};
  const N = T.notice;
  return [
    header(T.titles.notice),
    docNumber(c, false),
    el('p', { class: 'salute' }, T.to(c.applicant_name || '')),
    el('p', { class: 'indent' }, N.body(chineseDate(c.submitted_at), c.item_name || '', c.case)),
    missing.length
      ? el(
          'table',
          { id: 'notice-missing' },
          el(
            'thead',
            null,
            el(
              'tr',
              null,
              el('th', null, T.mat.no),
              el('th', null, T.mat.name),
              el('th', null, T.mat.form),
              el('th', { class: 'num' }, T.mat.copies),
              el('th', null, T.mat.note),
            ),
          ),
          el(
            'tbody',
            null,
            missing.map((name, i) => {
              const cat = catalogMaterial(item, name);
              return el(
                'tr',
                { dataset: { material: name } },
                el('td', null, String(i + 1)),
                el('td', null, name),
                el('td', null, formOf(reg(name), cat)),
                el('td', { class: 'num' }, copiesOf(reg(name), cat)),
                el('td', null, [still.includes(name) ? '' : N.brought, cat.note || ''].filter(Boolean).join(T.semi)),
              );
            }),
          ),
        )
      : el('p', null, N.none),
    later.length ? el('p', { class: 'indent' }, N.later(later.join(T.sep))) : null,
    el('p', { class: 'indent', id: 'notice-bring' }, N.bring(noticeDays, officeLine())),
    item && (item.complaint_phone || item.contact) ? el('p', null, T.complaintLine(item.complaint_phone || item.contact)) : null,
    issued(at),
    sign(N.receivedBy, T.signStaff),
  ];
}

// ---- 不予受理通知书 / 不予许可决定书 ------------------------------------------------------------

function refusal(c) {
  const na = lastEvent(c, ['not_accepted']);
  const dec = lastEvent(c, ['decided']);
  const rejected = !na && dec && !bodyOf(dec).approved ? dec : null;
  const ev = na || rejected;
  const R = T.refusal;
  if (!ev) return [header(T.titles.refusal), docNumber(c, false), el('p', null, R.none)];
  const b = bodyOf(ev);
  return [
    header(na ? T.titles.refusal : T.titles.refusalDecision),
    docNumber(c, false),
    el('p', { class: 'salute' }, T.to(c.applicant_name || '')),
    el('p', { class: 'indent' }, R.body(chineseDate(c.submitted_at), c.item_name || '', c.case), na ? R.notAccepted : R.rejected),
    el('p', { class: 'indent' }, R.reason, b.reason || ''),
    el('p', { class: 'indent' }, R.basis, b.legalBasis || ''),
    el('p', { class: 'indent' }, R.remedy),
    issued(ev.time),
    sign(T.notice.receivedBy, T.signStaff),
  ];
}

// ---- 办结通知书 + 送达回证 ---------------------------------------------------------------------

function result(c) {
  const dec = lastEvent(c, ['decided', 'replied']);
  const R = T.result;
  if (!dec) return [header(T.titles.result), docNumber(c, false), el('p', null, R.none)];
  const b = bodyOf(dec);
  const approved = dec.kind === 'replied' || b.approved;
  const delivered = lastEvent(c, ['delivered']);
  const dv = bodyOf(delivered);
  const P = R.proofRows;
  return [
    header(T.titles.result),
    docNumber(c, false),
    el('p', { class: 'salute' }, T.to(c.applicant_name || '')),
    el('p', { class: 'indent' }, R.body(c.item_name || '', c.case)),
    dec.kind === 'decided' ? el('p', { class: 'indent' }, R.decision, approved ? R.approved : R.refused) : null,
    dec.kind === 'replied' ? el('p', { class: 'indent' }, b.text || '') : null,
    dec.origin ? el('p', { class: 'indent' }, R.decidedBy, placeIn(c, dec.origin)) : null,
    b.certificateNo ? el('p', { class: 'indent' }, R.certificate, b.certificateNo) : null,
    b.reason ? el('p', { class: 'indent' }, R.reason, b.reason) : null,
    b.legalBasis ? el('p', { class: 'indent' }, R.basis, b.legalBasis) : null,
    !approved ? el('p', { class: 'indent' }, T.refusal.remedy) : null,
    el('p', { class: 'indent' }, R.collect(officeLine())),
    issued(dec.time),
    el('hr', { class: 'cut' }),
    el('h1', null, T.titles.proof),
    el('p', { class: 'key' }, T.caseNo(c.case)),
    formTable([
      [P.doc, P.docWords(b.certificateNo)],
      [P.to, c.applicant_name || ''],
      [P.place, c.applicant_address || officeLine()],
      [P.method, dv.method || el('span', { class: 'line' }, '')],
      [P.by, (delivered && actorWords(delivered)) || el('span', { class: 'line' }, '')],
      [P.date, delivered ? chineseDate(delivered.time) : T.dateBlank],
      [P.sign, el('span', null, el('span', { class: 'line' }, ''), ' ', T.signDate, T.dateBlank)],
    ], true),
  ];
}

// ---- 代收费收据 ---------------------------------------------------------------------------------

function fee(c) {
  const F = T.fee;
  const paid = (c.events || []).filter((e) => e.kind === 'fee_collected' && !e.superseded);
  if (!paid.length) return [header(T.titles.fee), docNumber(c, false), el('p', null, F.none)];
  const total = paid.reduce((s, e) => s + Number(bodyOf(e).amount || 0), 0);
  const last = paid[paid.length - 1];
  return [
    header(T.titles.fee),
    el(
      'div',
      { class: 'docno' },
      el(
        'div',
        { class: 'lines' },
        el('p', { class: 'key', id: 'print-case' }, T.caseNo(c.case)),
        el('p', { class: 'key' }, F.receiptNo(paid.map((e) => bodyOf(e).receiptNo).join(T.sep))),
      ),
    ),
    formTable([
      [F.payer, c.applicant_name || ''],
      [F.item, (c.item_name || '') + F.agency],
      ...paid.map((e) => [
        F.detail,
        [chineseDate(e.time), money(bodyOf(e).amount), bodyOf(e).reason || ''].filter(Boolean).join(T.gap),
      ]),
      [F.small, el('span', { class: 'upper' }, money(total))],
      [F.upper, el('span', { class: 'upper', id: 'print-amount' }, rmbUpper(total))],
      [F.payee, officeLine() + F.agency],
      [F.collector, actorWords(last)],
      [F.date, chineseDate(last.time)],
    ], true),
    sign(T.notice.receivedBy, F.collectorSign),
  ];
}

// ---- 服务告知单 -------------------------------------------------------------------------------

function service(item) {
  const S = T.service;
  const none = S.none;
  const mats = item.materials || [];
  const limits = item.limits || {};
  const days = item.limit_days !== undefined ? item.limit_days : item.time_limit_days;
  const steps = Object.keys(S.steps)
    .filter((k) => limits[k])
    .map((k) => S.steps[k] + ' ' + T.days(limits[k]));
  const feeFen = Number(item.fee_fen || 0);
  const procedure =
    item.procedure && item.procedure.length
      ? el(
          'ol',
          null,
          item.procedure.map((p) => el('li', null, p)),
        )
      : none;
  const materials = mats.length
    ? el(
        'table',
        { class: 'inner' },
        el(
          'thead',
          null,
          el(
            'tr',
            null,
            el('th', null, T.mat.no),
            el('th', null, T.mat.name),
            el('th', null, T.mat.form),
            el('th', { class: 'num' }, T.mat.copies),
            el('th', null, T.mat.note),
          ),
        ),
        el(
          'tbody',
          null,
          mats.map((m, i) => {
            const later = m.later_allowed !== undefined ? m.later_allowed : m.later_ok;
            const note = [later ? S.later : '', m.note || ''].filter(Boolean).join(T.semi);
            return el(
              'tr',
              null,
              el('td', null, String(i + 1)),
              el('td', null, m.name),
              el('td', null, T.forms[m.form] || m.form || ''),
              el('td', { class: 'num' }, String(m.copies || m.count || 1)),
              el('td', null, note),
            );
          }),
        ),
      )
    : none;
  const limit = days
    ? [el('p', null, S.limitWords(days)), steps.length ? el('p', { class: 'small' }, steps.join(T.semi)) : null]
    : none;
  const fee = feeFen > 0 ? money(feeFen) + (item.fee_note ? Desk.paren(item.fee_note) : '') : item.fee_note || T.free;
  return [
    header(T.titles.service),
    el('p', { class: 'key', id: 'print-item' }, item.name + Desk.paren(item.code)),
    el('p', null, S.intro),
    el(
      'table',
      { class: 'form eight' },
      el(
        'tbody',
        null,
        [
          [S.basis, item.basis || item.legal_basis || none],
          [S.conditions, item.conditions || none],
          [S.procedure, procedure],
          [S.materials, materials],
          [S.limit, limit],
          [S.fee, fee],
          [S.staff, item.staff || item.window || none],
          [S.phone, item.complaint_phone || item.contact || none],
        ].map(([k, v]) => el('tr', null, el('th', null, k), el('td', null, v))),
      ),
    ),
    el('p', { class: 'seal' }, officeLine(), el('br'), T.printed + chineseDate(today())),
  ];
}

// ---- the page --------------------------------------------------------------------------------

async function itemOf(code) {
  if (!code) return null;
  try {
    const r = await Desk.get('/api/catalog/' + encodeURIComponent(code));
    return r.item || r;
  } catch (e) {
    return null; // not in the catalog held here: printed without it
  }
}

async function draw() {
  const sheet = document.getElementById('sheet');
  sheet.dataset.kind = kind;
  const back = document.getElementById('print-back');
  if (kind === 'service') {
    const code = Desk.param('item');
    const r = await Desk.get('/api/public/items/' + encodeURIComponent(code));
    publicNode = { node: r.node, node_name: r.node_name };
    const pub = Desk.param('from') === 'public';
    back.href = pub ? '/public.html' : '/catalog.html' + Desk.query({ item: code });
    back.textContent = pub ? T.backPublic : T.backCatalog;
    Desk.fill(sheet, service(r.item));
    document.title = T.titles.service + ' ' + (r.item.name || code);
    return;
  }
  const builders = { receipt, notice, refusal, result, fee };
  if (!builders[kind]) {
    Desk.say(T.unknownKind, 'error');
    return;
  }
  const id = Desk.param('id');
  if (!id) {
    Desk.say(T.noCase, 'error');
    return;
  }
  back.href = '/case.html' + Desk.query({ id });
  back.textContent = T.backCase;
  const c = await Desk.get('/api/cases/' + encodeURIComponent(id));
  const item = await itemOf(c.item_code);
  Desk.fill(sheet, builders[kind](c, item));
  document.title = T.titles[kind] + ' ' + id;
  if (kind === 'notice') document.getElementById('notice-days-box').hidden = false;
}

Desk.start({
  page: 'print',
  strings: T,
  nav: false,
  // The 服务告知单 is public (办事结果公开): no login asked for it.
  login: kind !== 'service',
  init: async (s) => {
    session = s;
    document.getElementById('print-button').addEventListener('click', () => window.print());
    const days = document.getElementById('notice-days');
    days.addEventListener('input', () => {
      const n = Math.round(Number(days.value));
      if (n >= 1 && n <= 60) {
        noticeDays = n;
        const p = document.getElementById('notice-bring');
        if (p) p.textContent = T.notice.bring(noticeDays, officeLine());
      }
    });
    await draw();
  },
});
