// login.js: 登录 and 首次登录 / 重设密码 (POST /api/login, POST /api/password).
//
// Ids: tabs #tab-login, #tab-reset; login form #login-form with
// #login-name (select), #login-password, #login-submit; first login /
// reset form #reset-form with #reset-name (select), #reset-code,
// #reset-password, #reset-password2, #reset-submit; #node-title; #message.
const T = {
  title: '登录',
  heading: '登录办事台',
  tabLogin: '登录',
  tabReset: '首次登录 / 重设密码',
  name: '姓名',
  password: '密码',
  submit: '登录',
  loginHint: '第一次使用，或忘记了密码：请向本点管理员要一个设置码，再点上面的“首次登录 / 重设密码”。',
  resetIntro: '用管理员给您的设置码设置自己的密码。设置码只能用一次，72 小时内有效。',
  code: '设置码',
  codeHint: '管理员发给您的一次性设置码',
  newPassword: '新密码',
  newPassword2: '再输一遍新密码',
  passwordRule: '至少 8 位，不能全是数字',
  resetSubmit: '设置密码并登录',
  choose: '请选择您的姓名',
  noPeople: '本点的人员名册中还没有人员，暂时无法登录。请联系管理员发布人员名册。',
  needName: '请选择您的姓名',
  needPassword: '请输入密码',
  needCode: '请输入设置码',
  weak: '新密码至少 8 位，且不能全是数字',
  notSame: '两次输入的新密码不一样',
  wrong: '姓名或密码不对，请重新输入。',
  wrongCode: '设置码不对或已过期，请向管理员要新的设置码。',
  locked: '账号已被锁定。请 30 分钟后再试，或请管理员发放新的设置码解锁。',
  wait: (s) => '密码错误次数较多，请等 ' + s + ' 秒后再试。',
  waiting: (s) => '请等 ' + s + ' 秒',
  welcome: '登录成功，正在进入工作台…',
};

let countdown = null;

function node(id) {
  return document.getElementById(id);
}

function showTab(which) {
  const login = which === 'login';
  node('tab-login').setAttribute('aria-selected', String(login));
  node('tab-reset').setAttribute('aria-selected', String(!login));
  node('login-form').hidden = !login;
  node('reset-form').hidden = login;
  Desk.clear();
  (login ? node('login-password') : node('reset-code')).focus();
}

function fillNames(select, names) {
  const opts = [Desk.el('option', { value: '' }, T.choose)];
  for (const n of names) opts.push(Desk.el('option', { value: n }, n));
  Desk.fill(select, opts);
}

function goOn() {
  const next = Desk.param('next');
  // Only a path of this desk, never another site.
  const safe = next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login.html');
  location.replace(safe ? next : '/');
}

// Disables `button` for `seconds`, showing the wait on it and in #message.
function waitThenRetry(button, seconds) {
  const label = button.textContent;
  let left = Math.max(1, Math.ceil(Number(seconds) || 1));
  clearInterval(countdown);
  button.disabled = true;
  const tick = () => {
    if (left <= 0) {
      clearInterval(countdown);
      button.disabled = false;
      button.textContent = label;
      Desk.say('');
      return;
    }
    button.textContent = T.waiting(left);
    Desk.say(T.wait(left), 'error');
    left -= 1;
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function explain(err, form, button, wrongWords) {
  if (err.status === 429) return waitThenRetry(button, err.retry_after);
  if (err.status === 423) return Desk.say(err.error || T.locked, 'error');
  if (err.status === 401) {
    Desk.say(err.error || wrongWords, 'error');
    return;
  }
  Desk.showError(err, form);
}

async function login(ev) {
  ev.preventDefault();
  const form = node('login-form');
  Desk.clear(form);
  const name = node('login-name').value;
  const password = node('login-password').value;
  if (!name) return markOnly(form, 'name', T.needName);
  if (!password) return markOnly(form, 'password', T.needPassword);
  try {
    await Desk.post('/api/login', { name, password }, { noRedirect: true });
    Desk.say(T.welcome, 'ok');
    goOn();
  } catch (err) {
    node('login-password').value = '';
    explain(err, form, node('login-submit'), T.wrong);
    node('login-password').focus();
  }
}

function markOnly(form, part, text) {
  Desk.say(text, 'error');
  const input = Desk.mark(part, form);
  if (input) input.focus();
}

async function reset(ev) {
  ev.preventDefault();
  const form = node('reset-form');
  Desk.clear(form);
  const name = node('reset-name').value;
  const code = node('reset-code').value.trim();
  const password = node('reset-password').value;
  if (!name) return markOnly(form, 'name', T.needName);
  if (!code) return markOnly(form, 'code', T.needCode);
  if (password.length < 8 || /^[0-9]+$/.test(password)) return markOnly(form, 'password', T.weak);
  if (password !== node('reset-password2').value) return markOnly(form, 'password2', T.notSame);
  try {
    await Desk.post('/api/password', { name, code, password }, { noRedirect: true });
    Desk.say(T.welcome, 'ok');
    goOn();
  } catch (err) {
    explain(err, form, node('reset-submit'), T.wrongCode);
  }
}

Desk.start({
  page: 'login',
  strings: T,
  login: false,
  init: async () => {
    node('tab-login').addEventListener('click', () => showTab('login'));
    node('tab-reset').addEventListener('click', () => showTab('reset'));
    node('login-form').addEventListener('submit', login);
    node('reset-form').addEventListener('submit', reset);
    const people = await Desk.get('/api/people', { noRedirect: true });
    node('node-title').textContent = Desk.place(people.node, people.node_name);
    const names = people.names || [];
    fillNames(node('login-name'), names);
    fillNames(node('reset-name'), names);
    if (names.length === 0) Desk.say(T.noPeople, 'error');
    if (names.length === 1) {
      node('login-name').value = names[0];
      node('reset-name').value = names[0];
    }
    (names.length === 1 ? node('login-password') : node('login-name')).focus();
  },
});
