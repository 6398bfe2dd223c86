// Admin views: 交易开关 + 风控规则 (one page), 用户, 审计日志. Only built for an admin; the API
// refuses the rest anyway (403), so a hidden tab is convenience, not the guard.
import { api } from './api.js';
import { $, confirmDialog, fillTable, h, toast } from './dom.js';
import { when } from './fmt.js';
import { t } from './i18n.js';
import { store } from './state.js';

const RULES = [
  ['max_order_value', '单笔委托金额上限（元，仅买入）', 'money'],
  ['max_order_quantity', '单笔委托数量上限（股）', 'int'],
  ['max_position_value_per_stock', '单只股票持仓市值上限（元，仅买入）', 'money'],
  ['max_daily_orders', '每日委托笔数上限', 'int'],
  ['max_daily_turnover', '每日委托金额上限（元）', 'money'],
  ['max_price_deviation_pct', '委托价偏离最新价上限（%）', 'money'],
  ['duplicate_window_seconds', '重复委托检测窗口（秒）', 'float'],
  ['max_duplicate_orders', '窗口内相同委托上限', 'int'],
  ['blocked_codes', '禁止交易代码（逗号分隔）', 'codes'],
  ['allowed_codes', '只允许交易代码（逗号分隔）', 'codes'],
];
const AUDIT_ACTIONS = ['', 'order', 'order.place', 'order.cancel', 'risk', 'user', 'strategy'];

export function initAdmin() {}

export function showAdminView(view) {
  if (view === 'risk') renderRisk();
  if (view === 'users') renderUsers();
  if (view === 'audit') renderAudit();
}

// ---- 交易开关 + 风控规则 --------------------------------------------------------------------------
async function renderRisk() {
  const root = $('#view-risk');
  const [kill, rules] = await Promise.all([api('GET', '/api/v1/trading/kill-switch'), api('GET', '/api/v1/trading/risk-rules')]);
  const on = kill.trading_enabled;
  const killCard = h('section', { class: `panel kill ${on ? 'on' : 'off'}`, 'aria-label': t('交易开关') },
    h('h2', { class: 'panel-title' }, t('交易开关')),
    h('div', { class: 'kill-body' },
      h('div', { class: 'kill-state' }, h('span', { class: `big-dot ${on ? 'ok' : 'bad'}` }), h('strong', {}, t(on ? '交易开启' : '交易暂停'))),
      h('p', { class: 'muted' }, kill.updated_at ? `${when(kill.updated_at)} · ${kill.updated_by}${kill.reason ? ` · ${kill.reason}` : ''}` : ''),
      h('button', { type: 'button', id: 'kill-toggle', class: `btn ${on ? 'danger' : 'primary'}`, onclick: () => toggleKill(on) }, t(on ? '停止交易' : '恢复交易'))));
  const form = h('form', { class: 'rules-form', id: 'rules-form', novalidate: true, onsubmit: saveRules },
    ...RULES.map(([key, label, kind]) => {
      const v = rules[key];
      const value = kind === 'codes' ? (v || []).join(', ') : v ?? '';
      return h('div', { class: 'field' }, h('label', { for: `rule-${key}` }, t(label)),
        h('input', { id: `rule-${key}`, name: key, value, inputmode: kind === 'codes' ? 'text' : 'decimal', 'data-kind': kind, placeholder: kind === 'codes' ? '600000.SH, 000001.SZ' : '—' }));
    }),
    h('p', { class: 'muted span-all' }, t('留空或 0 表示不限制')),
    h('div', { class: 'span-all' }, h('button', { type: 'submit', class: 'btn primary' }, t('保存规则')), h('span', { id: 'rules-msg', class: 'msg', role: 'alert' })));
  root.replaceChildren(h('div', { class: 'admin-grid' }, killCard,
    h('section', { class: 'panel', 'aria-label': t('风控规则') }, h('h2', { class: 'panel-title' }, t('风控规则')), form)));
}

async function toggleKill(currentlyOn) {
  const reason = h('input', { id: 'kill-reason', 'aria-label': t('原因'), placeholder: t('原因'), maxlength: 500 });
  const ok = await confirmDialog({
    title: t(currentlyOn ? '停止交易' : '恢复交易'),
    body: t(currentlyOn ? '关闭后所有新委托都会被拒绝（TRADING_DISABLED），撤单仍可进行。' : '打开后恢复接受新委托。'),
    okText: t(currentlyOn ? '停止交易' : '恢复交易'), danger: currentlyOn, extra: reason,
  });
  if (!ok) return;
  try {
    const kill = await api('PUT', '/api/v1/trading/kill-switch', { body: { trading_enabled: !currentlyOn, reason: reason.value || null } });
    document.dispatchEvent(new CustomEvent('qmt:kill-switch', { detail: kill }));
    toast(t(kill.trading_enabled ? '交易开启' : '交易暂停'), kill.trading_enabled ? 'info' : 'error');
  } catch (err) {
    toast(err.message, 'error');
  }
  renderRisk();
}

async function saveRules(e) {
  e.preventDefault();
  const body = {};
  for (const input of e.target.querySelectorAll('input[name]')) {
    const raw = input.value.trim();
    const kind = input.dataset.kind;
    if (kind === 'codes') body[input.name] = raw ? raw.split(/[\s,，;]+/).filter(Boolean) : [];
    else if (raw === '') body[input.name] = null;
    else body[input.name] = kind === 'int' ? Number(raw) : raw;
  }
  const msg = $('#rules-msg');
  try {
    await api('PUT', '/api/v1/trading/risk-rules', { body });
    msg.textContent = t('规则已保存'); msg.className = 'msg ok';
    await renderRisk();
    const m = $('#rules-msg'); m.textContent = t('规则已保存'); m.className = 'msg ok';
  } catch (err) {
    msg.textContent = err.message; msg.className = 'msg error';
  }
}

// ---- 用户 --------------------------------------------------------------------------------------------
async function renderUsers() {
  const root = $('#view-users');
  const users = await api('GET', '/api/v1/auth/users');
  const table = h('table', { class: 'grid', id: 'users' });
  fillTable(table, [[t('用户名')], [t('角色')], [t('启用')], [t('创建时间')], [t('操作')]], users.items.map((u) => {
    const role = h('select', { 'aria-label': `${t('角色')} ${u.username}`, disabled: u.username === store.me.username },
      ...['viewer', 'trader', 'admin'].map((r) => h('option', { value: r, selected: r === u.role }, r)));
    role.addEventListener('change', () => patchUser(u.username, { role: role.value }));
    return h('tr', { 'data-username': u.username }, h('td', {}, u.username), h('td', {}, role),
      h('td', {}, t(u.is_active ? '是' : '否')), h('td', { class: 'mono' }, when(u.created_at)),
      h('td', {}, u.username === store.me.username ? '' : h('button', {
        type: 'button', class: 'btn tiny', onclick: () => patchUser(u.username, { is_active: !u.is_active }),
      }, t(u.is_active ? '停用' : '启用'))));
  }), '');
  const form = h('form', { class: 'inline-form', onsubmit: addUser },
    h('label', { for: 'nu-name' }, t('用户名')), h('input', { id: 'nu-name', required: true, maxlength: 64, autocomplete: 'off' }),
    h('label', { for: 'nu-pass' }, t('密码')), h('input', { id: 'nu-pass', type: 'password', required: true, autocomplete: 'new-password' }),
    h('label', { for: 'nu-role' }, t('角色')), h('select', { id: 'nu-role' }, ...['viewer', 'trader', 'admin'].map((r) => h('option', { value: r }, r))),
    h('button', { type: 'submit', class: 'btn primary' }, t('创建')), h('span', { id: 'nu-msg', class: 'msg', role: 'alert' }));
  root.replaceChildren(h('section', { class: 'panel', 'aria-label': t('用户') }, h('h2', { class: 'panel-title' }, t('用户')),
    h('div', { class: 'table-wrap' }, table)), h('section', { class: 'panel', 'aria-label': t('新增用户') },
    h('h2', { class: 'panel-title' }, t('新增用户')), form));
}

async function addUser(e) {
  e.preventDefault();
  const body = { username: $('#nu-name').value.trim(), password: $('#nu-pass').value, role: $('#nu-role').value };
  try {
    await api('POST', '/api/v1/auth/users', { body });
    toast(`${t('用户已创建')}: ${body.username}`);
    await renderUsers();
  } catch (err) {
    $('#nu-msg').textContent = err.message; $('#nu-msg').className = 'msg error';
  }
}

async function patchUser(username, changes) {
  try {
    await api('PATCH', `/api/v1/auth/users/${encodeURIComponent(username)}`, { body: changes });
    toast(`${t('已更新')}: ${username}`);
  } catch (err) {
    toast(err.message, 'error');
  }
  renderUsers();
}

// ---- 审计日志 ----------------------------------------------------------------------------------------
let auditCursor = null;
async function renderAudit() {
  const root = $('#view-audit');
  const form = h('form', { class: 'inline-form', id: 'audit-filters', onsubmit: (e) => { e.preventDefault(); loadAudit(false); } },
    h('label', { for: 'au-action' }, t('动作')),
    h('select', { id: 'au-action' }, ...AUDIT_ACTIONS.map((a) => h('option', { value: a }, a || t('全部动作')))),
    h('label', { for: 'au-user' }, t('用户名')), h('input', { id: 'au-user', maxlength: 64 }),
    h('label', { for: 'au-since' }, t('起始时间')), h('input', { id: 'au-since', type: 'date' }),
    h('button', { type: 'submit', class: 'btn primary' }, t('查询')));
  root.replaceChildren(h('section', { class: 'panel', 'aria-label': t('审计日志') }, h('h2', { class: 'panel-title' }, t('审计日志')), form,
    h('div', { class: 'table-wrap tall' }, h('table', { class: 'grid', id: 'audit' })),
    h('button', { type: 'button', id: 'audit-more', class: 'btn ghost', hidden: true, onclick: () => loadAudit(true) }, t('加载更多'))));
  await loadAudit(false);
}

const auditRows = [];
async function loadAudit(more) {
  if (!more) { auditRows.length = 0; auditCursor = null; }
  const day = $('#au-since').value;
  try {
    const page = await api('GET', '/api/v1/trading/audit', { query: {
      action: $('#au-action').value, username: $('#au-user').value.trim(),
      since: day ? `${day}T00:00:00+08:00` : '', limit: 100, cursor: more ? auditCursor : '',
    } });
    auditRows.push(...page.items);
    auditCursor = page.next_cursor;
  } catch (err) {
    toast(err.message, 'error');
  }
  $('#audit-more').hidden = !auditCursor;
  fillTable($('#audit'), [[t('时间')], [t('用户名')], [t('动作')], [t('对象')], [t('结果')], [t('来源地址')], [t('详情')]],
    auditRows.map((a) => h('tr', { class: a.outcome === 'ok' ? '' : 'warn-row' },
      h('td', { class: 'mono' }, when(a.created_at)), h('td', {}, a.username), h('td', { class: 'mono' }, a.action),
      h('td', { class: 'mono' }, a.target), h('td', { class: a.outcome === 'ok' ? '' : 'bad-text' }, a.outcome),
      h('td', { class: 'mono' }, a.client_ip), h('td', { class: 'detail', title: JSON.stringify(a.detail) }, summarize(a.detail)))), '—');
}

function summarize(detail) {
  if (!detail) return '';
  if (detail.detail) return detail.detail;
  return Object.entries(detail).slice(0, 6).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ');
}
