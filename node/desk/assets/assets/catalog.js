// catalog.js: 事项目录 — the items of the catalog held here (GET /api/catalog),
// found by name or pinyin initials, each with its eight public items
// (八公开), a link to register a case for it and to print its 服务告知单.
//
// Ids: #catalog-search, #catalog-count, #catalog-list with buttons
// [data-item=CODE]; #detail, #detail-name, #detail-meta, #detail-facts,
// #new-from-item (new.html?item=CODE), #print-service
// (print.html?kind=service&item=CODE); #message. catalog.html?item=CODE
// opens that item.
const T = {
  title: '事项目录',
  heading: '事项目录',
  catalogTitle: (title, version) => (title || '') + '（第 ' + version + ' 版）',
  listHeading: '事项',
  search: '查找事项',
  searchHint: '输入名称或拼音首字母，如“宅基地”或“ZJD”',
  count: (n, all) => (n === all ? '共 ' + all + ' 项' : '找到 ' + n + ' 项（共 ' + all + ' 项）'),
  none: '没有找到这个事项。',
  noCatalog: '本机还没有收到县里发布的事项目录。请检查“同步状态”，联网后目录会自动下发。',
  pick: '在左边点选一个事项，查看它的办事依据、条件、程序、材料、时限、收费、经办人员和监督电话。',
  newFromItem: '按此事项登记新办件',
  printService: '打印服务告知单',
  meta: (code, category, level, handling) => [code, category, level, handling].filter(Boolean).join(' · '),
  levels: { village: '村代理点审批', township: '乡镇审批', county: '县级审批' },
  handling: { immediate: '即办件', promised: '承诺件', joint: '联办件', escalated: '上报件', consult: '咨询' },
  eight: {
    basis: '办事依据',
    conditions: '办理条件',
    procedure: '办理程序',
    materials: '申报材料',
    limit: '办理时限',
    fee: '收费标准',
    staff: '经办人员',
    phone: '监督电话',
  },
  limitWords: (n) => n + ' 个工作日',
  missing: '（未公布）',
  mat: { name: '材料名称', form: '原件/复印件', copies: '份数', note: '说明' },
  forms: { original: '原件', copy: '复印件' },
  later: '可容缺后补',
  sep: '；',
};

let items = [];

function node(id) {
  return document.getElementById(id);
}

function list() {
  const q = node('catalog-search').value.trim();
  const found = Desk.findItems(items, q);
  node('catalog-count').textContent = T.count(found.length, items.length);
  const chosen = Desk.param('item');
  Desk.fill(
    'catalog-list',
    found.length
      ? found.map((it) =>
          Desk.el(
            'li',
            { role: 'presentation' },
            Desk.el(
              'button',
              {
                type: 'button',
                role: 'option',
                dataset: { item: it.code },
                'aria-selected': it.code === chosen ? 'true' : 'false',
                onclick: () => show(it),
              },
              Desk.el('span', null, it.name),
              Desk.el('span', { class: 'code' }, it.code),
            ),
          ),
        )
      : Desk.el('li', { class: 'empty' }, T.none),
  );
}

function fact(label, ...value) {
  return [Desk.el('dt', null, label), Desk.el('dd', null, ...value)];
}

function materials(mats) {
  if (!mats || !mats.length) return T.missing;
  return Desk.el(
    'table',
    null,
    Desk.el(
      'thead',
      null,
      Desk.el(
        'tr',
        null,
        Desk.el('th', null, T.mat.name),
        Desk.el('th', null, T.mat.form),
        Desk.el('th', { class: 'num' }, T.mat.copies),
        Desk.el('th', null, T.mat.note),
      ),
    ),
    Desk.el(
      'tbody',
      null,
      mats.map((m) => {
        const later = m.later_allowed !== undefined ? m.later_allowed : m.later_ok;
        return Desk.el(
          'tr',
          { dataset: { material: m.name } },
          Desk.el('td', null, m.name),
          Desk.el('td', null, T.forms[m.form] || m.form || ''),
          Desk.el('td', { class: 'num' }, String(m.copies || m.count || 1)),
          Desk.el('td', null, [later ? T.later : '', m.note || ''].filter(Boolean).join(T.sep)),
        );
      }),
    ),
  );
}

async function show(summary) {
  Desk.clear();
  let it = summary;
  // The list may carry only part of an item: the whole one by its code.
  if (!it.materials || !(it.basis || it.legal_basis)) {
    try {
      const r = await Desk.get('/api/catalog/' + encodeURIComponent(summary.code));
      it = r.item || r;
    } catch (err) {
      Desk.showError(err);
    }
  }
  for (const b of document.querySelectorAll('#catalog-list [data-item]'))
    b.setAttribute('aria-selected', b.dataset.item === it.code ? 'true' : 'false');
  history.replaceState(null, '', location.pathname + Desk.query({ item: it.code }));
  node('detail-empty').hidden = true;
  node('detail').hidden = false;
  node('detail-name').textContent = it.name;
  node('detail-meta').textContent = T.meta(
    it.code,
    it.category,
    T.levels[it.level] || it.level_zh || '',
    T.handling[it.handling] || '',
  );
  node('new-from-item').href = '/new.html' + Desk.query({ item: it.code });
  node('print-service').href = '/print.html' + Desk.query({ kind: 'service', item: it.code });
  const days = it.limit_days !== undefined ? it.limit_days : it.time_limit_days;
  const E = T.eight;
  Desk.fill(
    'detail-facts',
    fact(E.basis, it.basis || it.legal_basis || T.missing),
    fact(E.conditions, it.conditions || T.missing),
    fact(
      E.procedure,
      it.procedure && it.procedure.length
        ? Desk.el(
            'ol',
            null,
            it.procedure.map((p) => Desk.el('li', null, p)),
          )
        : T.missing,
    ),
    fact(E.materials, materials(it.materials)),
    fact(E.limit, days ? T.limitWords(days) : T.missing),
    fact(E.fee, Desk.feeWords(it.fee_fen, it.fee_note)),
    fact(E.staff, it.staff || it.window || T.missing),
    fact(E.phone, it.complaint_phone || it.contact || T.missing),
  );
}

async function load() {
  const cat = await Desk.get('/api/catalog');
  items = cat.items || [];
  if (!items.length) Desk.say(T.noCatalog, 'error');
  node('catalog-title').textContent = cat.version ? T.catalogTitle(cat.title, cat.version) : '';
  list();
  const wanted = items.find((it) => it.code === Desk.param('item'));
  if (wanted) await show(wanted);
}

Desk.start({
  page: 'catalog',
  strings: T,
  init: async () => {
    node('catalog-search').addEventListener('input', list);
    node('catalog-search').addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      const first = document.querySelector('#catalog-list [data-item]');
      if (first) first.click();
    });
    await load();
    node('catalog-search').focus();
  },
});
