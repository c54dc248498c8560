// new.js: 新办件 — pick the item (name or pinyin initials), the applicant,
// the materials checklist, POST /api/cases; then the case number and the
// printouts.
//
// Ids: #item-search (type a name or initials), #item-list with buttons
// [data-item=CODE], #item-chosen, #item-name, #item-facts, #item-change,
// #item-service; #applicant-name, #id-number (+ #id-number-hint, class
// good/bad), #phone (+ #phone-hint), #address, #summary, the item's own
// fields [data-field=NAME]; material rows tr[data-material=NAME] with radios
// value provided / missing / later (later only where the catalog allows it),
// #materials-all-provided, #materials-summary, #submit-note (the 补办件
// warning); #on-behalf-of (AB角, when the session has colleagues);
// #submit-case; #message. After success: #result,
// #case-number, #result-words, #print-receipt, #print-notice (only when
// materials are missing), #view-case, #new-another.
// Opening new.html?item=CODE picks that item.
const T = {
  title: '新办件',
  heading: '登记新办件',
  step1: '第一步　选择办理事项',
  itemSearch: '办理事项',
  itemSearchHint: '输入事项名称或拼音首字母，例如“低保”或“DB”，再点选。',
  noMatch: '没有找到这个事项。换个说法试试，或到“事项目录”里查找。',
  noCatalog: '本机还没有收到县里发布的事项目录，暂时不能登记。请检查“同步状态”，联网后目录会自动下发。',
  itemChange: '重新选择',
  itemService: '打印本事项的服务告知单',
  facts: {
    limit: '办理时限',
    fee: '收费',
    level: '审批层级',
    handling: '办件类型',
    materials: '申报材料',
    conditions: '办理条件',
  },
  limitDays: (n) => n + ' 个工作日',
  materialsCount: (n, later) => '共 ' + n + ' 项' + (later ? '，其中 ' + later + ' 项可容缺后补' : ''),
  handling: {
    immediate: '即办件',
    promised: '承诺件',
    joint: '联办件（多部门并联审批）',
    escalated: '上报件（上级审批）',
    consult: '咨询',
  },
  levels: { village: '村', township: '乡镇', county: '县' },
  step2: '第二步　申请人信息',
  applicant: '申请人姓名',
  idNumber: '公民身份号码',
  idHint: '18 位，最后一位可能是 X',
  phone: '联系电话',
  phoneHint: '11 位手机号，或带区号的固定电话，如 0797-8712345',
  address: '住址',
  summary: '申请事项说明',
  step3: '第三步　核对申报材料',
  materialsPickItem: '选好办理事项后，这里列出应交的全部材料。',
  allProvided: '全部已收',
  mat: { name: '材料名称', form: '原件/复印件', copies: '份数', state: '收取情况', photo: '拍照或上传扫描件' },
  photoHint: '可拍照或选 JPG、PNG、HEIC 照片、PDF 扫描件，每个不超过 20 MB',
  forms: { original: '原件', copy: '复印件' },
  states: { provided: '已收', missing: '缺', later: '容缺后补' },
  step4: '第四步　提交登记',
  behalf: '办理身份（AB角）',
  self: '本人办理',
  behalfOf: (name) => '代 ' + name + ' 办理',
  submit: '提交登记',
  submitting: '正在提交…',
  id: {
    typing: (n) => '已输入 ' + n + ' 位，还差 ' + (18 - n) + ' 位',
    tooLong: '超过了 18 位，请核对',
    chars: '只能是数字，最后一位可以是 X',
    date: '第 7 到 14 位的出生日期不是真实的日期，请核对',
    future: '出生日期晚于今天，请核对',
    old: '出生日期太早，请核对',
    check: '校验位不符：号码中有输错的数字，请逐位核对证件',
    ok: (birth, sex) => '号码有效　出生日期 ' + birth + '　' + sex,
    male: '男',
    female: '女',
  },
  phoneCheck: {
    mobile: '手机号应为 11 位数字，以 1 开头，第二位是 3 到 9',
    landline: '固定电话请写区号，如 0797-8712345',
    chars: '只能填数字和“-”',
    ok: '号码格式正确',
  },
  need: {
    item: '请先选择办理事项',
    applicant: '请填写申请人姓名',
    idNumber: '请填写公民身份号码',
    idBad: '公民身份号码有误：',
    phoneBad: '联系电话有误：',
    materials: (names) => '还有材料没有核对：' + names + '。请逐项选择“已收”“缺”或“容缺后补”。',
    field: (name) => '请填写' + name,
  },
  missingWords: (names) =>
    '缺 ' + names.length + ' 项材料：' + names.join('、') + '。提交后本件登记为补办件，请向申请人一次性告知所缺的全部材料（可打印一次性告知书）。',
  laterWords: (names) => '容缺后补 ' + names.length + ' 项：' + names.join('、') + '，须在发证前补齐。',
  allIn: '材料齐全。',
  willBeSupplement: (n) => '注意：缺 ' + n + ' 项材料，本件将登记为补办件。',
  done: '登记成功',
  caseNumber: '办件编号',
  doneWords: '请打印受理回执交给申请人，并告诉申请人凭办件编号查询进度。',
  doneSupplement: (names) =>
    '本件材料不全，已登记为补办件。所缺材料：' + names.join('、') + '。请打印一次性告知书交给申请人，补齐后再受理。',
  filesSaved: (n) => '已保存材料照片和扫描件 ' + n + ' 个，将随办件报送上级。',
  printReceipt: '打印受理回执',
  printNotice: '打印一次性告知书',
  viewCase: '查看办件',
  newAnother: '再登记一件',
  sep: '、',
};

let items = [];
let chosen = null;

function node(id) {
  return document.getElementById(id);
}

// Catalog keys as docs/DESK.md names them, with the CLI's as a fallback.
function matCopies(m) {
  return m.copies !== undefined ? m.copies : m.count !== undefined ? m.count : 1;
}
function matLater(m) {
  return Boolean(m.later_allowed !== undefined ? m.later_allowed : m.later_ok);
}
function itemDays(it) {
  return it.limit_days !== undefined ? it.limit_days : it.time_limit_days;
}

// ---- ID number and phone, checked as typed ---------------------------------------

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

// {ok, bad, text}: GB 11643 (18 characters, a real birth date not in the
// future, the check character).
function checkId(raw) {
  const v = raw.trim().toUpperCase();
  if (!v) return { ok: false, bad: false, text: T.idHint };
  if (!/^[0-9]*X?$/.test(v) || (v.endsWith('X') && v.length !== 18)) return { ok: false, bad: true, text: T.id.chars };
  if (v.length > 18) return { ok: false, bad: true, text: T.id.tooLong };
  if (v.length < 14) return { ok: false, bad: false, text: T.id.typing(v.length) };
  const y = Number(v.slice(6, 10));
  const m = Number(v.slice(10, 12));
  const d = Number(v.slice(12, 14));
  const birth = new Date(y, m - 1, d);
  if (birth.getFullYear() !== y || birth.getMonth() !== m - 1 || birth.getDate() !== d)
    return { ok: false, bad: true, text: T.id.date };
  if (birth > new Date()) return { ok: false, bad: true, text: T.id.future };
  if (y < 1890) return { ok: false, bad: true, text: T.id.old };
  if (v.length < 18) return { ok: false, bad: false, text: T.id.typing(v.length) };
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(v[i]) * ID_WEIGHTS[i];
  if (ID_CHECK[sum % 11] !== v[17]) return { ok: false, bad: true, text: T.id.check };
  const sex = Number(v[16]) % 2 === 1 ? T.id.male : T.id.female;
  return { ok: true, bad: false, text: T.id.ok(v.slice(6, 10) + '-' + v.slice(10, 12) + '-' + v.slice(12, 14), sex) };
}

// {ok, bad, text}; an empty phone is neither.
function checkPhone(raw) {
  const v = raw.trim();
  if (!v) return { ok: false, bad: false, text: T.phoneHint };
  if (!/^[0-9-]+$/.test(v)) return { ok: false, bad: true, text: T.phoneCheck.chars };
  if (v.startsWith('1')) {
    if (/^1[3-9][0-9]{9}$/.test(v)) return { ok: true, bad: false, text: T.phoneCheck.ok };
    return { ok: false, bad: v.length >= 11, text: T.phoneCheck.mobile };
  }
  if (/^0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}$/.test(v)) return { ok: true, bad: false, text: T.phoneCheck.ok };
  return { ok: false, bad: v.replace(/-/g, '').length >= 11, text: T.phoneCheck.landline };
}

function showCheck(hintId, result) {
  const hint = node(hintId);
  hint.textContent = result.text;
  hint.classList.toggle('bad', result.bad);
  hint.classList.toggle('good', result.ok);
  const box = hint.closest('.field');
  box.classList.toggle('invalid', result.bad);
}

// ---- the item --------------------------------------------------------------------

function listItems() {
  const q = node('item-search').value.trim();
  const found = Desk.findItems(items, q);
  const list = node('item-list');
  if (found.length === 0) {
    Desk.fill(list, Desk.el('li', { class: 'empty' }, items.length ? T.noMatch : T.noCatalog));
  } else {
    Desk.fill(
      list,
      found.map((it, i) =>
        Desk.el(
          'li',
          { role: 'presentation' },
          Desk.el(
            'button',
            {
              type: 'button',
              role: 'option',
              dataset: { item: it.code },
              'aria-selected': i === 0 && q ? 'true' : 'false',
              onclick: () => pick(it),
            },
            Desk.el('span', null, it.name),
            Desk.el('span', { class: 'code' }, it.code + (it.initials ? ' · ' + it.initials : '')),
          ),
        ),
      ),
    );
  }
  node('item-search').setAttribute('aria-expanded', 'true');
  return found;
}

function fact(label, ...value) {
  return [Desk.el('dt', null, label), Desk.el('dd', null, ...value)];
}

function pick(it) {
  chosen = it;
  node('item-picker').hidden = true;
  node('item-chosen').hidden = false;
  node('item-name').textContent = it.name;
  node('item-code').textContent = it.code;
  const mats = it.materials || [];
  const later = mats.filter(matLater).length;
  Desk.fill(
    'item-facts',
    fact(T.facts.limit, T.limitDays(itemDays(it))),
    fact(T.facts.fee, Desk.feeWords(it.fee_fen, it.fee_note)),
    fact(T.facts.level, it.level_zh || T.levels[it.level] || it.level || ''),
    fact(T.facts.handling, T.handling[it.handling] || it.handling_zh || it.handling || ''),
    fact(T.facts.materials, T.materialsCount(mats.length, later)),
    it.conditions ? fact(T.facts.conditions, it.conditions) : null,
  );
  node('item-service').href = '/print.html' + Desk.query({ kind: 'service', item: it.code });
  node('item-chosen').closest('[data-part]').classList.remove('invalid');
  itemFields(it);
  materials(it);
  node('applicant-name').focus();
}

function unpick() {
  chosen = null;
  node('item-picker').hidden = false;
  node('item-chosen').hidden = true;
  Desk.fill('item-fields');
  materials(null);
  listItems();
  node('item-search').focus();
}

// The item's own form fields: names, or {name, required}.
function itemFields(it) {
  const fields = (it.fields || []).map((f) => (typeof f === 'string' ? { name: f } : f));
  Desk.fill(
    'item-fields',
    fields.map((f, i) =>
      Desk.el(
        'div',
        { class: 'field', dataset: { part: 'field:' + f.name } },
        Desk.el('label', { for: 'field-' + i, class: f.required ? 'required' : null }, f.label || f.name),
        Desk.el('input', {
          type: 'text',
          id: 'field-' + i,
          dataset: { field: f.name, required: f.required ? '1' : '' },
          autocomplete: 'off',
        }),
      ),
    ),
  );
}

// ---- materials -------------------------------------------------------------------

function materials(it) {
  const mats = it ? it.materials || [] : [];
  node('materials').hidden = mats.length === 0;
  node('materials-none').hidden = Boolean(it);
  const rows = mats.map((m, i) => {
    const states = matLater(m) ? ['provided', 'missing', 'later'] : ['provided', 'missing'];
    return Desk.el(
      'tr',
      { dataset: { material: m.name, form: m.form || 'copy' } },
      Desk.el('td', null, m.name, m.note ? Desk.el('span', { class: 'mat-note' }, m.note) : null),
      Desk.el('td', null, T.forms[m.form] || m.form || ''),
      Desk.el('td', { class: 'num' }, String(matCopies(m))),
      Desk.el(
        'td',
        null,
        states.map((s) =>
          Desk.el(
            'label',
            { class: 'choice' },
            Desk.el('input', { type: 'radio', name: 'mat-' + i, value: s, onchange: materialSummary }),
            T.states[s],
          ),
        ),
      ),
      Desk.el(
        'td',
        null,
        Desk.el('input', {
          type: 'file',
          accept: 'image/*,application/pdf',
          capture: 'environment',
          multiple: true,
          title: T.photoHint,
          'aria-label': T.mat.photo + '：' + m.name,
          dataset: { material: m.name },
        }),
      ),
    );
  });
  Desk.fill('material-rows', rows);
  materialSummary();
}

function materialStates() {
  return [...document.querySelectorAll('#material-rows tr')].map((tr) => {
    const on = tr.querySelector('input[type=radio]:checked');
    return { name: tr.dataset.material, form: tr.dataset.form, state: on ? on.value : '', row: tr };
  });
}

function materialSummary() {
  const all = materialStates();
  for (const m of all) m.row.className = m.state ? 'state-' + m.state : '';
  const missing = all.filter((m) => m.state === 'missing').map((m) => m.name);
  const later = all.filter((m) => m.state === 'later').map((m) => m.name);
  const box = node('materials-summary');
  const words = [];
  if (missing.length) words.push(T.missingWords(missing));
  if (later.length) words.push(T.laterWords(later));
  if (!missing.length && !later.length && all.length && all.every((m) => m.state)) words.push(T.allIn);
  box.textContent = words.join(' ');
  box.className = 'message ' + (missing.length ? 'error' : 'info');
  if (all.every((m) => m.state)) node('materials').classList.remove('invalid');
  node('submit-note').textContent = missing.length ? T.willBeSupplement(missing.length) : '';
}

function allProvided() {
  for (const tr of document.querySelectorAll('#material-rows tr')) {
    const r = tr.querySelector('input[value=provided]');
    if (r) r.checked = true;
  }
  materialSummary();
}

// ---- submit ----------------------------------------------------------------------

function refuse(part, text) {
  Desk.clear(node('new-form'));
  Desk.say(text, 'error');
  const input = Desk.mark(part, node('new-form'));
  if (input && input.focus) input.focus();
  return false;
}

function check() {
  if (!chosen) return refuse('item', T.need.item);
  if (!node('applicant-name').value.trim()) return refuse('applicant', T.need.applicant);
  if (!node('id-number').value.trim()) return refuse('id_number', T.need.idNumber);
  const id = checkId(node('id-number').value);
  if (!id.ok) return refuse('id_number', T.need.idBad + id.text);
  const phone = checkPhone(node('phone').value);
  if (node('phone').value.trim() && !phone.ok) return refuse('phone', T.need.phoneBad + phone.text);
  for (const input of document.querySelectorAll('#item-fields input[data-required="1"]'))
    if (!input.value.trim()) return refuse('field:' + input.dataset.field, T.need.field(input.dataset.field));
  const open = materialStates().filter((m) => !m.state);
  if (open.length) return refuse('materials', T.need.materials(open.map((m) => m.name).join(T.sep)));
  return true;
}

async function submit(ev) {
  ev.preventDefault();
  if (!check()) return;
  Desk.clear(node('new-form'));
  const fields = {};
  for (const input of document.querySelectorAll('#item-fields input[data-field]'))
    if (input.value.trim()) fields[input.dataset.field] = input.value.trim();
  const body = {
    item: chosen.code,
    applicant: node('applicant-name').value.trim(),
    id_number: node('id-number').value.trim().toUpperCase(),
    phone: node('phone').value.trim(),
    address: node('address').value.trim(),
    summary: node('summary').value.trim(),
    fields,
    materials: materialStates().map((m) => ({ name: m.name, state: m.state, form: m.form })),
    on_behalf_of: node('on-behalf-of').value || '',
  };
  const button = node('submit-case');
  button.disabled = true;
  button.textContent = T.submitting;
  try {
    const files = [];
    for (const input of document.querySelectorAll('#material-rows input[type=file]'))
      for (const file of input.files) files.push({ material: input.dataset.material, file });
    const r = await Desk.post('/api/cases', body, { files });
    done(r);
  } catch (err) {
    Desk.showError(err, node('new-form'));
  } finally {
    button.disabled = false;
    button.textContent = T.submit;
  }
}

function done(r) {
  const id = r.case;
  const missing = r.missing || [];
  node('new-form').hidden = true;
  node('result').hidden = false;
  node('case-number').textContent = id;
  node('result-words').textContent =
    (r.supplement_case || missing.length ? T.doneSupplement(missing) : T.doneWords) +
    (r.files ? ' ' + T.filesSaved(r.files) : '');
  node('result-words').className = r.supplement_case || missing.length ? 'message error' : 'message ok';
  node('print-receipt').href = '/print.html' + Desk.query({ kind: 'receipt', id });
  node('print-notice').href = '/print.html' + Desk.query({ kind: 'notice', id });
  node('print-notice').hidden = !(r.supplement_case || missing.length);
  node('view-case').href = '/case.html' + Desk.query({ id });
  window.scrollTo(0, 0);
  (r.supplement_case || missing.length ? node('print-notice') : node('print-receipt')).focus();
}

function behalf(session) {
  const colleagues = (session && session.colleagues) || [];
  if (!colleagues.length) return;
  Desk.fill(
    'on-behalf-of',
    Desk.el('option', { value: '' }, T.self),
    colleagues.map((c) => Desk.el('option', { value: c }, T.behalfOf(c))),
  );
  node('behalf-box').hidden = false;
}

Desk.start({
  page: 'new',
  strings: T,
  init: async (session) => {
    behalf(session);
    const search = node('item-search');
    search.addEventListener('input', listItems);
    search.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      const found = listItems();
      if (found.length >= 1 && search.value.trim()) pick(found[0]);
    });
    node('item-change').addEventListener('click', unpick);
    node('materials-all-provided').addEventListener('click', allProvided);
    node('id-number').addEventListener('input', (e) => showCheck('id-number-hint', checkId(e.target.value)));
    node('phone').addEventListener('input', (e) => showCheck('phone-hint', checkPhone(e.target.value)));
    node('new-form').addEventListener('submit', submit);
    const cat = await Desk.get('/api/catalog');
    items = cat.items || [];
    const wanted = items.find((it) => it.code === Desk.param('item'));
    if (wanted) pick(wanted);
    else {
      listItems();
      search.focus();
    }
  },
});
