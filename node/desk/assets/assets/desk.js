// desk.js: what every page of the desk shares (docs/DESK.md is the API).
//
//   Desk.start({page, init, refresh, nav})  checks the session (401: to
//       /login.html), draws the top bar, fills [data-t] texts (and the
//       header cells of <tr data-cols="KEY num:KEY ...">), calls
//       init(session), then polls GET /api/changes?since=LSN every 3 s and
//       calls refresh() when the store changed.
//   Desk.get(path) / Desk.post(path, body)  JSON calls; a POST carries the
//       session's X-CSRF-Token. A failure throws Desk.ApiError {status,
//       error, part, retry_after}; 401 goes to /login.html.
//   Desk.showError(err, scope) / Desk.say(text, kind)  the #message area;
//       with `part`, the field [data-part=PART] in scope is marked.
//   Desk.findItems(items, typed)  catalog items by name or pinyin initials.
//   Desk.showSync(node, sync)  the sync state in words (SYNC_WORDS).
//   Desk.officeName(code, name)  "南安镇便民服务中心" from the place "南安镇".
//   Desk.el(tag, props, ...children)  builds DOM. Data from the API only
//       ever goes into textContent or attributes, never into innerHTML.
//
// Ids: top bar #topbar, its links [data-nav=index|new|search|catalog|
// supervision|reports|sync] (电子监察 for township and county staff only),
// #who (name and role), #logout, #live (polling state); #message on every
// page.
const Desk = (function () {
  'use strict';

  const T = {
    nav: {
      index: '工作台',
      new: '新办件',
      search: '办件查询',
      catalog: '事项目录',
      supervision: '电子监察',
      reports: '统计报表',
      sync: '同步状态',
    },
    logout: '退出',
    live: '实时更新',
    liveOff: '与本机服务的连接中断，正在重试…',
    unreachable: '连不上本机的联动服务。请确认本机联动服务在运行，稍后再试。',
    badAnswer: '本机服务的回答无法读取，请刷新页面再试。',
    failed: '操作未成功',
    failedCode: (n) => '操作未成功（' + n + '）',
    failedWith: (why) => '操作未成功：' + why,
    paren: (text) => '（' + text + '）',
    // A place name that already names an office.
    officeWords: /服务|代理点|中心/,
    statusWords: {
      400: '填写的内容有误',
      403: '无权进行此操作',
      404: '没有找到',
      409: '当前办件状态不允许此操作',
      413: '提交的内容太大',
      503: '本机服务正忙，请稍后再试',
    },
    levelOf: { 12: '村代理点', 9: '乡镇', 6: '县' },
    // What a node's office is called after its place's name.
    officeOf: { 12: '便民服务代理点', 9: '便民服务中心', 6: '行政服务中心' },
    roles: {
      agent: '代理员',
      clerk: '窗口人员',
      reviewer: '审查员',
      officer: '首席代表',
      director: '分管领导',
      system: '系统',
    },
    yuan: '元',
    free: '不收费',
    daysLeft: (n) => (n > 0 ? '剩 ' + n + ' 个工作日' : n === 0 ? '今日到期' : '已超期 ' + -n + ' 个工作日'),
    none: '—',
    syncOk: '联网正常',
    linkDown: (name) => '与' + name + '断开',
    sep: ' · ',
    titleSuffix: ' - 联动办事台',
  };

  const POLL_MS = 3000;
  let session = null;
  let lsn = null;
  let refreshFn = null;
  let pollTimer = null;

  class ApiError extends Error {
    constructor(status, error, part, retryAfter) {
      super(error);
      this.status = status;
      this.error = error;
      this.part = part || '';
      this.retry_after = retryAfter;
    }
  }

  // el('a', {href: '/', class: 'x', dataset: {case: id}, onclick: f}, 'text', child)
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'value') node[k] = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      if (Array.isArray(c)) append(node, c);
      else if (c instanceof Node) node.appendChild(c);
      else node.appendChild(document.createTextNode(String(c)));
    }
  }

  // Replaces the children of `node` (an element or its id).
  function fill(node, ...children) {
    const n = typeof node === 'string' ? document.getElementById(node) : node;
    n.replaceChildren();
    append(n, children);
    return n;
  }

  function toLogin() {
    const here = location.pathname + location.search;
    const next = here === '/' || here.startsWith('/login.html') ? '' : '?next=' + encodeURIComponent(here);
    location.replace('/login.html' + next);
  }

  // One JSON call. opts: {method, body, noRedirect, files}. files: [{material,
  // file}] sent with the body as multipart/form-data (the body as the part
  // "request", each file as "attach:" + material; docs/DESK.md).
  async function call(path, opts) {
    const o = opts || {};
    const headers = { Accept: 'application/json' };
    const init = { method: o.method || 'GET', headers, credentials: 'same-origin', cache: 'no-store' };
    if (init.method !== 'GET') {
      if (session && session.csrf) headers['X-CSRF-Token'] = session.csrf;
      if (o.files && o.files.length) {
        const form = new FormData();
        form.append('request', JSON.stringify(o.body || {}));
        for (const f of o.files) form.append('attach:' + f.material, f.file, f.file.name);
        init.body = form;
      } else {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(o.body || {});
      }
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, T.unreachable);
    }
    let data = null;
    try {
      const text = await res.text();
      data = text ? JSON.parse(text) : {};
    } catch (e) {
      data = null;
    }
    if (res.status === 401 && !o.noRedirect) {
      toLogin();
      throw new ApiError(401, (data && data.error) || '');
    }
    if (!res.ok) {
      const words = (data && data.error) || T.statusWords[res.status] || T.failedCode(res.status);
      throw new ApiError(res.status, words, data && data.part, data && data.retry_after);
    }
    if (data === null) throw new ApiError(res.status, T.badAnswer);
    return data;
  }

  const get = (path, opts) => call(path, Object.assign({}, opts, { method: 'GET' }));
  const post = (path, body, opts) => call(path, Object.assign({}, opts, { method: 'POST', body }));

  // A query string from an object, skipping empty values.
  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    return s ? '?' + s : '';
  }

  function param(name) {
    return new URLSearchParams(location.search).get(name) || '';
  }

  // ---- the message area ----------------------------------------------------

  function messageBox() {
    return document.getElementById('message');
  }

  // kind: 'error', 'ok' or 'info'; '' text hides it.
  function say(text, kind) {
    const box = messageBox();
    if (!box) return;
    box.className = 'message ' + (kind || 'info');
    box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    box.textContent = text || '';
    if (text) {
      const r = box.getBoundingClientRect();
      if (r.top < 0 || r.bottom > window.innerHeight) box.scrollIntoView({ block: 'center', behavior: 'smooth' });
    }
  }

  function clearMarks(scope) {
    for (const n of (scope || document).querySelectorAll('.invalid')) n.classList.remove('invalid');
    for (const n of (scope || document).querySelectorAll('[aria-invalid="true"]')) n.removeAttribute('aria-invalid');
  }

  // Marks the field [data-part=part] in scope (its input, select or fieldset).
  function mark(part, scope) {
    if (!part) return null;
    const box = (scope || document).querySelector('[data-part="' + CSS.escape(part) + '"]');
    if (!box) return null;
    box.classList.add('invalid');
    const input = box.matches('input, select, textarea') ? box : box.querySelector('input, select, textarea');
    if (input) input.setAttribute('aria-invalid', 'true');
    return input || box;
  }

  function showError(err, scope) {
    clearMarks(scope);
    const text = err instanceof ApiError ? err.error : T.failedWith(String((err && err.message) || err));
    say(text, 'error');
    const target = err && err.part ? mark(err.part, scope) : null;
    if (target && target.focus) target.focus({ preventScroll: true });
  }

  function clear(scope) {
    clearMarks(scope);
    say('');
  }

  // ---- words -----------------------------------------------------------------

  // A table's header row written once: <tr data-cols="col.case num:col.rtt">
  // gets a <th data-t=KEY> per key ("num:" right-aligns the column).
  function headerCells(root) {
    for (const tr of root.querySelectorAll('tr[data-cols]')) {
      if (tr.childElementCount > 0) continue;
      for (const key of tr.dataset.cols.split(/\s+/).filter(Boolean)) {
        const num = key.startsWith('num:');
        tr.appendChild(el('th', { class: num ? 'num' : null, dataset: { t: num ? key.slice(4) : key } }));
      }
    }
  }

  // Fills [data-t=key] (text), [data-t-placeholder=key] and [data-t-label=key]
  // (aria-label) from a page's string table, after the header rows of
  // [data-cols]; a key may be "a.b".
  function texts(table, root) {
    const look = (key) => key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), table);
    const r = root || document;
    headerCells(r);
    for (const n of r.querySelectorAll('[data-t]')) {
      const v = look(n.dataset.t);
      if (typeof v === 'string') n.textContent = v;
    }
    for (const n of r.querySelectorAll('[data-t-placeholder]')) {
      const v = look(n.dataset.tPlaceholder);
      if (typeof v === 'string') n.placeholder = v;
    }
    for (const n of r.querySelectorAll('[data-t-label]')) {
      const v = look(n.dataset.tLabel);
      if (typeof v === 'string') n.setAttribute('aria-label', v);
    }
    if (typeof table.title === 'string') document.title = table.title + T.titleSuffix;
  }

  // The catalog items matching what was typed, best first: the name
  // contains it, the pinyin initials start with it or contain it, the code
  // starts with it, or its letters come in order in the initials ("DB"
  // finds 最低生活保障, ZDSHBZ).
  function findItems(items, typed) {
    const q = String(typed || '').trim();
    const upper = q.toUpperCase();
    const rank = (it) => {
      if (!q) return 0;
      const initials = String(it.initials || '').toUpperCase();
      if (String(it.name || '').includes(q)) return 0;
      if (initials.startsWith(upper)) return 1;
      if (initials.includes(upper)) return 2;
      if (String(it.code || '').toUpperCase().startsWith(upper)) return 3;
      if (!/^[A-Z]{2,}$/.test(upper)) return -1;
      let at = 0;
      for (const ch of upper) {
        at = initials.indexOf(ch, at) + 1;
        if (at === 0) return -1;
      }
      return 4;
    };
    return items
      .map((it, i) => ({ it, i, r: rank(it) }))
      .filter((x) => x.r >= 0)
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.it);
  }

  // True for a real calendar date written YYYY-MM-DD.
  function isDate(text) {
    const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(String(text || ''));
    if (!m) return false;
    const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    return d.getFullYear() === Number(m[1]) && d.getMonth() === Number(m[2]) - 1 && d.getDate() === Number(m[3]);
  }

  // This node's office: "水城村便民服务代理点" from the place "水城村";
  // `of` ({node, node_name}) names it on a page without a session.
  function office(of) {
    const who = of || session;
    if (!who) return '';
    const name = who.node_name || who.node || '';
    if (T.officeWords.test(name)) return name;
    return name + (T.officeOf[String(who.node || '').length] || '');
  }

  // The office at `code` by its place's name: "南安镇" -> "南安镇便民服务中心"
  // (a name that already names an office is kept); the code when unnamed.
  function officeName(code, name) {
    if (!name) return place(code);
    // The server's "大余县（360723）": the name without its code.
    const bare = String(name).replace(/（[0-9]+）$/, '');
    if (T.officeWords.test(bare)) return bare;
    return bare + (T.officeOf[String(code || '').length] || '');
  }

  function paren(text) {
    return T.paren(text);
  }

  function levelOf(code) {
    return T.levelOf[String(code || '').length] || '';
  }

  // "水城村便民服务代理点（360723101007）" when the name is known.
  function place(code, name) {
    if (!code) return T.none;
    if (!name && session && code === session.node) name = session.node_name;
    if (name && name !== code) return name + T.paren(code);
    return (levelOf(code) ? levelOf(code) + ' ' : '') + code;
  }

  function roleZh(role, zh) {
    return zh || T.roles[role] || role || '';
  }

  function yuan(fen) {
    const n = Number(fen || 0);
    return (n / 100).toFixed(2) + ' ' + T.yuan;
  }

  // An item's fee in words: "15.50 元（工本费）", or its note / 不收费.
  function feeWords(fen, note) {
    if (Number(fen || 0) > 0) return yuan(fen) + (note ? T.paren(note) : '');
    return note || T.free;
  }

  function flagBadge(flag, words) {
    if (!flag) return null;
    return el('span', { class: 'badge ' + flag, dataset: { flag } }, words || flag);
  }

  function daysLeft(n) {
    if (n === undefined || n === null || n === '') return T.none;
    return T.daysLeft(Number(n));
  }

  // SYNC_WORDS (docs/DESK.md) as one line: {text, down (links down)}.
  // An outage is an upward link that is down and not a standby (the
  // server marks a standby: down while another upward link is up); the
  // children's links come counted in the server's words, not one by one.
  function syncLine(sync) {
    const s = sync || {};
    const links = s.links || [];
    const down = links.filter((l) => l.upstream && l.state !== 'up' && !l.standby);
    const parts = [];
    if (!down.length) parts.push(T.syncOk);
    if (s.last_sync_zh) parts.push(s.last_sync_zh);
    if (s.pending_up_zh) parts.push(s.pending_up_zh);
    for (const w of s.words_zh || []) parts.push(w);
    return { text: parts.join(T.sep), down: down.length };
  }

  // Shows SYNC_WORDS in `node`: class "down" and data-down=N when links are down.
  function showSync(node, sync) {
    const line = syncLine(sync);
    node.textContent = line.text;
    node.classList.toggle('down', line.down > 0);
    node.dataset.down = String(line.down);
  }

  // ---- the top bar ------------------------------------------------------------

  // 电子监察 is watched at a township hub and the county center, not at a
  // village point (GET /api/supervision answers 403 there).
  function navKeys() {
    const village = String((session && session.node) || '').length === 12;
    return Object.keys(T.nav).filter((key) => !(village && key === 'supervision'));
  }

  function topbar(page) {
    const links = navKeys().map((key) => {
      const href = key === 'index' ? '/' : '/' + key + '.html';
      return el(
        'li',
        null,
        el('a', { href, dataset: { nav: key }, 'aria-current': key === page ? 'page' : null }, T.nav[key]),
      );
    });
    const p = session.person || {};
    const bar = el(
      'header',
      { class: 'topbar', id: 'topbar' },
      el('span', { class: 'node', id: 'node-name' }, office()),
      el('nav', { 'aria-label': T.nav.index }, el('ul', null, links)),
      el(
        'span',
        { class: 'who' },
        el('span', { class: 'live', id: 'live' }, T.live),
        el('span', { id: 'who' }, (p.name || '') + ' · ' + roleZh(p.role, p.role_zh)),
        el('button', { type: 'button', class: 'logout', id: 'logout', onclick: logout }, T.logout),
      ),
    );
    document.body.insertBefore(bar, document.body.firstChild);
  }

  async function logout() {
    try {
      await post('/api/logout', {}, { noRedirect: true });
    } catch (e) {
      // Gone already: the login page either way.
    }
    location.replace('/login.html');
  }

  // ---- polling -----------------------------------------------------------------

  function setLive(ok) {
    const n = document.getElementById('live');
    if (!n) return;
    n.textContent = ok ? T.live : T.liveOff;
    n.classList.toggle('off', !ok);
  }

  async function poll() {
    pollTimer = null;
    if (!document.hidden) {
      try {
        const r = await get('/api/changes' + query({ since: lsn === null ? 0 : lsn }));
        setLive(true);
        const first = lsn === null;
        if (r.changed && !first && r.lsn !== lsn) {
          lsn = r.lsn;
          await refreshFn();
        } else {
          lsn = r.lsn;
        }
      } catch (e) {
        if (e.status === 401) return;
        setLive(false);
      }
    }
    pollTimer = setTimeout(poll, POLL_MS);
  }

  // The page read its data at store position n: changes after it count.
  function seen(n) {
    if (typeof n === 'number') lsn = n;
  }

  // spec: {page, strings, init(session), refresh(), nav (default true),
  // login (default true: needs a session)}.
  async function start(spec) {
    const run = async () => {
      if (spec.strings) texts(spec.strings);
      if (spec.login !== false) {
        try {
          session = await get('/api/session');
        } catch (e) {
          if (e.status !== 401) showError(e);
          return;
        }
        if (spec.nav !== false) topbar(spec.page);
      }
      try {
        if (spec.init) await spec.init(session);
      } catch (e) {
        showError(e);
      }
      if (spec.refresh) {
        refreshFn = spec.refresh;
        if (!pollTimer) pollTimer = setTimeout(poll, lsn === null ? 0 : POLL_MS);
      }
    };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
    else run();
  }

  return {
    ApiError,
    T,
    el,
    fill,
    get,
    post,
    query,
    param,
    say,
    showError,
    clear,
    mark,
    texts,
    isDate,
    findItems,
    levelOf,
    office,
    officeName,
    paren,
    place,
    roleZh,
    yuan,
    feeWords,
    flagBadge,
    daysLeft,
    showSync,
    seen,
    start,
    session: () => session,
  };
})();
