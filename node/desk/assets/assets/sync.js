// sync.js: 同步状态 (for whoever looks after the machine) — GET /api/sync:
// the links to the parent and the children, what waits to be
// acknowledged, events the level above refused that wait to be issued
// again, and the store's totals. Updated when the store changes.
//
// Ids: #sync-line (class "down" when a link is down), #not-running,
// #store-full, #links-table, #link-rows (tr[data-peer=CODE][data-state]),
// #refused-table, #refused-rows (tr[data-event][data-open]),
// #refused-empty, #totals (dd[data-total=events|cases|...]), #message.
// 数据包 (GET /api/bundle, POST /api/bundle/export): #bundle-card (shown
// where the node has an upstream), #bundle-drive (the USB drives found),
// #bundle-for, #bundle-export, #bundle-none, #bundle-result.
const T = {
  title: '同步状态',
  heading: '同步状态',
  notRunning: '联网服务未启动：本机办件照常登记，但不会上传。请启动联动服务（liandong run）。',
  storeFull: '本机存储已满：不能再记录新的办件，请联系技术人员清理磁盘或扩容。',
  linksHeading: '联网线路',
  col: {
    peer: '对方',
    direction: '方向',
    state: '状态',
    since: '已持续',
    rtt: '往返时延',
    unacked: '待确认事件',
    oldest: '最早待确认',
    lag: '滞后（序号）',
    traffic: '发送 / 接收',
  },
  up: '上级',
  standby: '当前未启用（另一条上级线路在用）',
  down: '下级',
  states: { up: '连通', down: '断开', connecting: '正在连接', handshake: '正在握手' },
  ms: (n) => (n < 10 ? n.toFixed(1) : Math.round(n)) + ' 毫秒',
  noLinks: '本机没有配置联网线路。',
  refusedHeading: '被拒收、待重新签发的事件',
  refusedHint: '上级拒收的事件不会再上传，须由办理人更正后重新办理。已重新签发的不再列出。',
  ref: { event: '事件', case: '办件', by: '拒收方', why: '原因', state: '处理情况' },
  open: '待重新签发',
  reissued: (id) => '已重新签发为 ' + id,
  closed: '已处理',
  noRefused: '没有被拒收的事件。',
  bundle: {
    heading: 'U盘数据包（断网时送乡镇）',
    hint: '联网线路长时间断开时，可把乡镇还没有收到的办件和扫描件导出到U盘，由代理员送到乡镇便民服务中心导入；乡镇导入后会给一个回执包，带回后请信息员在本机导入（命令 liandong bundle import）。数据包已签名并加密，只有乡镇能读取，U盘丢失不会泄露群众信息。',
    drive: 'U盘',
    for: '交给',
    export: '导出数据包到U盘',
    refresh: '重新查找U盘',
    none: '没有找到U盘：请插入U盘，稍等几秒后点“重新查找U盘”。',
    driveLabel: (d) => d.path + '（可用 ' + T.kb(d.free) + '）',
    working: '正在导出，请不要拔出U盘……',
    done: (r) =>
      '已写入U盘：' + r.name + '（' + T.kb(r.bytes) + '，事件 ' + r.events + ' 条，附件 ' + r.files + ' 个）。请把U盘交给乡镇便民服务中心导入。',
    partial: 'U盘空间不够，还有内容没有装下：乡镇导入后请再导出一次。',
  },
  totalsHeading: '本机存储',
  totals: {
    code: '本机代码',
    running: '联网服务',
    runningYes: (pid, since) => '运行中（进程 ' + pid + (since ? '，启动于 ' + since : '') + '）',
    runningNo: '未启动',
    events: '事件总数',
    cases: '办件总数',
    last_lsn: '最新存储序号',
    overdue: '红牌超期办件',
    warning: '黄牌预警办件',
    quarantined: '隔离待查事件',
    refused: '被拒收事件',
    refused_open: '待重新签发',
  },
  duration: {
    none: '—',
    lessMinute: '不到 1 分钟',
    days: (d, h) => d + ' 天' + (h ? ' ' + h + ' 小时' : ''),
    hours: (h, m) => h + ' 小时' + (m ? ' ' + m + ' 分钟' : ''),
    minutes: (m) => m + ' 分钟',
  },
  kb: (n) => (n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KB' : (n / 1048576).toFixed(1) + ' MB'),
};

function node(id) {
  return document.getElementById(id);
}

function duration(ms) {
  const D = T.duration;
  if (ms === null || ms === undefined || ms < 0) return D.none;
  const min = Math.floor(ms / 60000);
  if (min < 1) return D.lessMinute;
  const h = Math.floor(min / 60);
  if (h >= 24) return D.days(Math.floor(h / 24), h % 24);
  if (h >= 1) return D.hours(h, min % 60);
  return D.minutes(min);
}

function linkRow(l, names, upOk) {
  const up = l.state === 'up';
  const lag = l.direction === 'up' && l.top_lsn !== undefined ? Math.max(0, l.top_lsn - l.acked_lsn) : null;
  return Desk.el(
    'tr',
    { dataset: { peer: l.peer, state: l.state } },
    Desk.el('td', null, Desk.place(l.peer, l.peer_name || names[l.peer])),
    Desk.el('td', null, l.direction === 'up' ? T.up : T.down),
    Desk.el(
      'td',
      null,
      Desk.el('span', { class: 'badge ' + (up ? 'ok' : 'overdue') }, T.states[l.state] || l.state),
      l.direction === 'up' && l.active === false && !up && upOk ? Desk.el('span', { class: 'detail' }, T.standby) : null,
    ),
    Desk.el('td', null, l.for_ms ? duration(l.for_ms) : T.duration.none),
    Desk.el('td', { class: 'num' }, typeof l.rtt_ms === 'number' ? T.ms(l.rtt_ms) : T.duration.none),
    Desk.el('td', { class: 'num' }, String(l.unacked_events || 0)),
    Desk.el('td', null, duration(l.oldest_unacked_age_ms)),
    Desk.el('td', { class: 'num' }, lag === null ? T.duration.none : String(lag)),
    Desk.el('td', { class: 'num' }, T.kb(l.bytes_sent || 0) + ' / ' + T.kb(l.bytes_received || 0)),
  );
}

function refusedRow(r) {
  const state = r.reissued_as ? T.reissued(r.reissued_as) : r.open ? T.open : T.closed;
  return Desk.el(
    'tr',
    { dataset: { event: r.event, open: String(Boolean(r.open)) } },
    Desk.el('td', { class: 'nowrap' }, r.event || ''),
    Desk.el(
      'td',
      { class: 'nowrap' },
      r.case ? Desk.el('a', { href: '/case.html' + Desk.query({ id: r.case }) }, r.case) : '',
    ),
    Desk.el('td', null, Desk.place(r.by)),
    Desk.el('td', null, r.text || r.reason || r.cause || ''),
    Desk.el('td', null, r.open ? Desk.el('strong', null, state) : state),
  );
}

function totals(s) {
  const t = s.totals || {};
  const R = T.totals;
  // YYYY-MM-DD HH:MM:SS in China time, as every other time on the desk.
  const started = s.started_ms ? new Date(s.started_ms + 8 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ') : '';
  const rows = [
    [R.code, 'code', Desk.place(s.code || (Desk.session() || {}).node, (Desk.session() || {}).node_name)],
    [R.running, 'running', s.running ? R.runningYes(s.pid, started) : R.runningNo],
  ];
  for (const k of ['events', 'cases', 'last_lsn', 'overdue', 'warning', 'quarantined', 'refused', 'refused_open'])
    if (t[k] !== undefined) rows.push([R[k], k, String(t[k])]);
  Desk.fill(
    'totals',
    rows.map(([label, key, value]) => [
      Desk.el('dt', null, label),
      Desk.el('dd', { dataset: { total: key } }, value),
    ]),
  );
}

// Names of the neighbours, from the last /api/sync.
let placeNames = {};

async function bundles() {
  const b = await Desk.get('/api/bundle');
  node('bundle-card').hidden = !b.can_export;
  if (!b.can_export) return;
  const drives = b.drives || [];
  const keep = node('bundle-drive').value;
  Desk.fill(
    'bundle-drive',
    drives.map((d) => Desk.el('option', { value: d.path, selected: d.path === keep }, T.bundle.driveLabel(d))),
  );
  Desk.fill(
    'bundle-for',
    (b.upstreams || []).map((c) => Desk.el('option', { value: c }, Desk.place(c, placeNames[c]))),
  );
  const one = (b.upstreams || []).length < 2;
  node('bundle-for').hidden = one;
  document.querySelector('label[for="bundle-for"]').hidden = one;
  node('bundle-none').hidden = drives.length > 0;
  node('bundle-export').disabled = drives.length === 0;
  node('bundle-drive').hidden = drives.length === 0;
}

async function exportBundle(ev) {
  ev.preventDefault();
  const button = node('bundle-export');
  const result = node('bundle-result');
  button.disabled = true;
  result.hidden = false;
  result.className = 'message info';
  result.textContent = T.bundle.working;
  try {
    const r = await Desk.post('/api/bundle/export', { drive: node('bundle-drive').value, for: node('bundle-for').value });
    result.className = 'message ok';
    result.textContent = T.bundle.done(r) + (r.complete ? '' : ' ' + T.bundle.partial);
  } catch (e) {
    result.className = 'message error';
    result.textContent = e.message;
  } finally {
    button.disabled = false;
  }
}

async function refresh() {
  const s = await Desk.get('/api/sync');
  // SYNC_WORDS: in "sync", or merged into the status itself.
  const words = s.sync || { last_sync_zh: s.last_sync_zh, pending_up_zh: s.pending_up_zh, links: s.links };
  Desk.showSync(node('sync-line'), words);
  const names = {};
  for (const l of words.links || []) if (l.peer_name) names[l.peer] = l.peer_name;
  placeNames = names;
  node('not-running').hidden = s.running !== false;
  node('store-full').hidden = !s.store_full;
  const links = s.links || [];
  const upOk = links.some((l) => l.direction === 'up' && l.state === 'up');
  Desk.fill('link-rows', links.map((l) => linkRow(l, names, upOk)));
  node('links-table').hidden = links.length === 0;
  node('links-empty').hidden = links.length > 0;
  const refused = (s.refused || []).filter((r) => r.open || !r.reissued_as);
  refused.sort((a, b) => Number(Boolean(b.open)) - Number(Boolean(a.open)));
  Desk.fill('refused-rows', refused.map(refusedRow));
  node('refused-table').hidden = refused.length === 0;
  node('refused-empty').hidden = refused.length > 0;
  totals(s);
  if (typeof s.lsn === 'number') Desk.seen(s.lsn);
}

async function init() {
  node('bundle-form').addEventListener('submit', exportBundle);
  node('bundle-refresh').addEventListener('click', () => bundles().catch((e) => Desk.say(e.message, 'error')));
  await refresh();
  await bundles();
}

Desk.start({ page: 'sync', strings: T, init, refresh });
