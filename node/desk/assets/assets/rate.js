// rate.js: 评价器 (好差评, 一事一评) — the screen the agent turns towards the
// applicant after the result is delivered: five large buttons, 非常满意 to
// 非常不满意; for 不满意 and 非常不满意 the reasons (at least one); a
// confirm step; then POST /api/cases/CASE/act {"action": "rate", "score",
// "reasons", "comment", "channel": "evaluator"}, thanks, and back to the
// case page. No top bar: the applicant sees only this.
//
// Ids: #rate-case (the case and item), #rate-choose, #rate-buttons
// (button[data-score=5..1][aria-pressed]), #rate-reasons (shown for 2 and
// 1; checkboxes name=reason), #rate-other, #rate-comment, #rate-next,
// #rate-cancel, #rate-confirm, #rate-summary, #rate-submit, #rate-back,
// #rate-thanks, #rate-return, #message.
const T = {
  title: '评价器',
  forApplicant: '请申请人本人评价',
  heading: '请您对本次办事服务进行评价',
  caseWords: (c) => '办件 ' + c.case + '　' + (c.item_name || '') + (c.applicant_name ? '　申请人 ' + c.applicant_name : ''),
  chooseHeading: '满意程度',
  scores: [
    [5, '非常满意'],
    [4, '满意'],
    [3, '基本满意'],
    [2, '不满意'],
    [1, '非常不满意'],
  ],
  reasonsHeading: '请选择不满意的原因（可多选）',
  reasons: ['办事效率低', '服务态度差', '多次跑腿', '材料要求不清', '乱收费', '其他'],
  other: '其他',
  otherLabel: '其他原因（选“其他”时请写明）',
  commentLabel: '您的意见或建议（可不填）',
  next: '下一步',
  cancel: '返回办件',
  needScore: '请先选择您的评价',
  needReason: '请至少选择一项不满意的原因',
  needOther: '请写明“其他”原因',
  confirmHeading: '请确认您的评价',
  summary: (words, reasons) => '您的评价：' + words + (reasons.length ? '（' + reasons.join('、') + '）' : ''),
  submit: '确认提交',
  back: '重新选择',
  sending: '正在提交…',
  thanks: '谢谢您的评价！',
  thanksPoor: '您的意见已记录，服务中心将在 5 个工作日内整改并答复。',
  thanksGood: '您的评价已记录。',
  returning: (n) => n + ' 秒后返回办件页。',
  returnNow: '返回办件',
  cannot: '本办件目前不能评价（须在结果送达后由申请人评价，且只评价一次）。',
  poor: 2,
  returnSeconds: 5,
};

const caseId = Desk.param('id');
let score = 0;
let info = null;

function node(id) {
  return document.getElementById(id);
}

function caseUrl() {
  return '/case.html' + Desk.query({ id: caseId });
}

function words(n) {
  const hit = T.scores.find(([s]) => s === n);
  return hit ? hit[1] : String(n);
}

function choose(n) {
  score = n;
  Desk.clear();
  for (const b of node('rate-buttons').querySelectorAll('button'))
    b.setAttribute('aria-pressed', Number(b.dataset.score) === n ? 'true' : 'false');
  node('rate-reasons').hidden = n > T.poor;
  node('rate-next').disabled = false;
  if (n <= T.poor) node('rate-reasons').scrollIntoView({ block: 'nearest' });
}

// The reasons ticked, "其他" replaced by what was written; or null (the message says why).
function reasons() {
  if (score > T.poor) return [];
  const ticked = [...document.querySelectorAll('input[name="reason"]:checked')].map((i) => i.value);
  const other = node('rate-other').value.trim();
  const out = ticked.filter((r) => r !== T.other);
  if (ticked.includes(T.other) || other) {
    if (!other) return refuse('reasons', T.needOther, node('rate-other'));
    out.push(T.other + '：' + other);
  }
  if (!out.length) return refuse('reasons', T.needReason);
  return out;
}

function refuse(part, text, focus) {
  Desk.clear();
  Desk.say(text, 'error');
  const input = Desk.mark(part);
  const f = focus || input;
  if (f && f.focus) f.focus();
  return null;
}

function next() {
  if (!score) return refuse('', T.needScore);
  const r = reasons();
  if (r === null) return;
  Desk.clear();
  node('rate-summary').textContent = T.summary(words(score), r);
  node('rate-summary').dataset.score = String(score);
  node('rate-choose').hidden = true;
  node('rate-confirm').hidden = false;
  node('rate-submit').focus();
}

function back() {
  node('rate-confirm').hidden = true;
  node('rate-choose').hidden = false;
}

async function submit() {
  const r = reasons();
  if (r === null) return back();
  const button = node('rate-submit');
  button.disabled = true;
  button.textContent = T.sending;
  const body = { action: 'rate', score, reasons: r, channel: 'evaluator' };
  const comment = node('rate-comment').value.trim();
  if (comment) body.comment = comment;
  try {
    await Desk.post('/api/cases/' + encodeURIComponent(caseId) + '/act', body);
  } catch (err) {
    button.disabled = false;
    button.textContent = T.submit;
    Desk.showError(err);
    return;
  }
  node('rate-confirm').hidden = true;
  node('rate-thanks').hidden = false;
  node('rate-thanks').dataset.score = String(score);
  let left = T.returnSeconds;
  const more = () => {
    node('rate-thanks-more').textContent = (score <= T.poor ? T.thanksPoor : T.thanksGood) + T.returning(left);
  };
  more();
  const tick = setInterval(() => {
    left -= 1;
    if (left <= 0) {
      clearInterval(tick);
      location.assign(caseUrl());
      return;
    }
    more();
  }, 1000);
}

function build() {
  Desk.fill(
    'rate-buttons',
    T.scores.map(([n, w]) =>
      Desk.el(
        'button',
        { type: 'button', class: 'rate-button score-' + n, dataset: { score: String(n) }, 'aria-pressed': 'false', onclick: () => choose(n) },
        w,
      ),
    ),
  );
  Desk.fill(
    'rate-reason-list',
    T.reasons.map((r) =>
      Desk.el(
        'label',
        { class: 'choice' },
        Desk.el('input', { type: 'checkbox', name: 'reason', value: r, onchange: () => Desk.clear() }),
        r,
      ),
    ),
  );
  node('rate-other').addEventListener('input', () => Desk.clear());
  node('rate-next').addEventListener('click', next);
  node('rate-submit').addEventListener('click', submit);
  node('rate-back').addEventListener('click', back);
  node('rate-cancel').href = caseUrl();
  node('rate-return').href = caseUrl();
}

Desk.start({
  page: 'rate',
  strings: T,
  nav: false,
  init: async () => {
    if (!caseId) {
      location.replace('/search.html');
      return;
    }
    build();
    info = await Desk.get('/api/cases/' + encodeURIComponent(caseId));
    node('rate-case').textContent = T.caseWords(info);
    if (!(info.actions || []).some((a) => a.action === 'rate')) {
      Desk.say(T.cannot, 'error');
      node('rate-thanks').hidden = false;
      node('rate-thanks').querySelector('h2').hidden = true;
      return;
    }
    node('rate-choose').hidden = false;
  },
});
