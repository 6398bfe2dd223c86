// 策略: the files in STRATEGY_DIR, a run form (回测 / 实盘运行), the run list, one run's metrics,
// chart and whole log; 停止 for a running one.
import { api } from './api.js';
import { equityChart } from './chart.js';
import { $, confirmDialog, fillTable, h, toast } from './dom.js';
import { money, pct, trend, when } from './fmt.js';
import { t } from './i18n.js';
import { canTrade } from './state.js';

const POLL_MS = 2000;
const RUN_STATUS = { running: '运行中', finished: '已完成', failed: '失败', stopped: '已停止' };
const st = { files: [], selected: null, runs: [], runId: null, timer: null };

export function initStrategies() {}

export async function showStrategies() {
  const root = $('#view-strategies');
  if (!root.dataset.built) build(root);
  try {
    st.files = (await api('GET', '/api/v1/strategies')).items;
  } catch (err) { toast(err.message, 'error'); }
  renderFiles();
  await loadRuns();
  clearInterval(st.timer);
  st.timer = setInterval(() => { if (!root.hidden) loadRuns(); else clearInterval(st.timer); }, POLL_MS);
}

function build(root) {
  root.dataset.built = '1';
  const today = new Date();
  const yearAgo = new Date(today.getTime() - 365 * 864e5);
  const iso = (d) => d.toISOString().slice(0, 10);
  const form = h('form', { id: 'run-form', class: 'run-form', novalidate: true, onsubmit: (e) => e.preventDefault() },
    field('rf-codes', '代码', h('input', { id: 'rf-codes', value: '600000.SH', spellcheck: 'false' })),
    field('rf-period', '周期', h('select', { id: 'rf-period' }, h('option', { value: '1d' }, '1d'), h('option', { value: '1m' }, '1m'))),
    field('rf-start', '开始日期', h('input', { id: 'rf-start', type: 'date', value: iso(yearAgo) })),
    field('rf-end', '结束日期', h('input', { id: 'rf-end', type: 'date', value: iso(today) })),
    field('rf-cash', '初始资金', h('input', { id: 'rf-cash', value: '1000000', inputmode: 'decimal' })),
    field('rf-seed', '种子', h('input', { id: 'rf-seed', inputmode: 'numeric', placeholder: 'SIM_SEED' })),
    h('div', { class: 'field span-all' }, h('label', { for: 'rf-params' }, t('参数（每行 名称=值）')),
      h('textarea', { id: 'rf-params', rows: 3, spellcheck: 'false', placeholder: 'short=5\nlong=20' })),
    canTrade() ? h('div', { class: 'span-all run-actions' },
      h('button', { type: 'button', id: 'rf-backtest', class: 'btn primary', onclick: () => startRun('backtest') }, t('回测')),
      h('button', { type: 'button', id: 'rf-trade', class: 'btn danger-outline', onclick: () => startRun('trade') }, t('实盘运行')),
      h('span', { id: 'rf-msg', class: 'msg', role: 'alert' })) : '');
  root.replaceChildren(h('div', { class: 'strat-grid' },
    h('section', { class: 'panel', 'aria-label': t('策略文件') }, h('h2', { class: 'panel-title' }, t('策略文件')),
      h('ul', { id: 'strat-files', class: 'file-list' }), h('pre', { id: 'strat-desc', class: 'desc' })),
    h('section', { class: 'panel', 'aria-label': t('运行参数') }, h('h2', { class: 'panel-title' }, t('运行参数'), h('span', { id: 'rf-name', class: 'muted' })), form),
    h('section', { class: 'panel span-2', 'aria-label': t('运行记录') }, h('h2', { class: 'panel-title' }, t('运行记录')),
      h('div', { class: 'table-wrap' }, h('table', { id: 'runs', class: 'grid' }))),
    h('section', { class: 'panel span-2', id: 'run-detail', 'aria-label': t('运行') }, h('p', { class: 'muted' }, t('选择一次运行查看详情')))));
}

function field(id, label, input) {
  return h('div', { class: 'field' }, h('label', { for: id }, t(label)), input);
}

function renderFiles() {
  const ul = $('#strat-files');
  if (!st.selected && st.files.length) st.selected = st.files[0].name;
  ul.replaceChildren(...(st.files.length ? st.files.map((f) => h('li', {},
    h('button', { type: 'button', class: `file ${f.name === st.selected ? 'active' : ''}`, onclick: () => { st.selected = f.name; renderFiles(); } }, `${f.name}.py`)))
    : [h('li', { class: 'muted' }, t('无策略文件'))]));
  const cur = st.files.find((f) => f.name === st.selected);
  $('#strat-desc').textContent = cur ? cur.description : '';
  $('#rf-name').textContent = cur ? cur.name : '';
}

/** 'short=5' lines -> {short: 5}; numbers and true/false become numbers and booleans. */
function parseParams(text) {
  const out = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const i = line.indexOf('=');
    if (i < 1) throw new Error(`参数格式应为 名称=值 / expected name=value: ${line}`);
    const k = line.slice(0, i).trim(); const v = line.slice(i + 1).trim();
    out[k] = v === 'true' ? true : v === 'false' ? false : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return out;
}

async function startRun(mode) {
  const msg = $('#rf-msg');
  if (!st.selected) return;
  let body;
  try {
    body = {
      mode, params: parseParams($('#rf-params').value),
      stock_codes: $('#rf-codes').value.split(/[\s,，]+/).filter(Boolean), period: $('#rf-period').value,
    };
    if (mode === 'backtest') {
      Object.assign(body, { start: $('#rf-start').value || null, end: $('#rf-end').value || null, initial_cash: $('#rf-cash').value || '1000000' });
      if ($('#rf-seed').value) body.seed = Number($('#rf-seed').value);
    }
  } catch (err) { msg.textContent = err.message; msg.className = 'msg error'; return; }
  if (mode === 'trade') {
    const ok = await confirmDialog({ title: t('确认以实盘账户运行策略？'), body: t('策略将通过本网关的券商账户下单（模拟盘或实盘），直到停止。'), okText: t('实盘运行'), danger: true });
    if (!ok) return;
  }
  try {
    const run = await api('POST', `/api/v1/strategies/${encodeURIComponent(st.selected)}/runs`, { body });
    msg.textContent = `${t('运行已开始')} #${run.run_id}`; msg.className = 'msg ok';
    st.runId = run.run_id;
    await loadRuns();
  } catch (err) { msg.textContent = err.message; msg.className = 'msg error'; }
}

async function loadRuns() {
  try { st.runs = (await api('GET', '/api/v1/strategies/runs', { query: { limit: 50 } })).items; } catch { return; }
  const table = $('#runs');
  if (!table) return;
  const headers = [['#'], [t('策略')], [t('模式')], [t('状态')], [t('收益率'), 'num'], [t('最大回撤'), 'num'], [t('夏普'), 'num'], [t('胜率'), 'num'], [t('开始')], [t('操作')]];
  fillTable(table, headers, st.runs.map((r) => {
    const res = r.result || {};
    return h('tr', { class: `clickable ${r.run_id === st.runId ? 'selected' : ''}`, 'data-run-id': r.run_id, onclick: () => { st.runId = r.run_id; loadRuns(); } },
      h('td', { class: 'mono' }, r.run_id), h('td', {}, r.strategy), h('td', {}, t(r.mode === 'backtest' ? '回测' : '实盘运行')),
      h('td', { class: `run-${r.status}` }, t(RUN_STATUS[r.status] || r.status)),
      h('td', { class: `num ${trend(res.total_return)}` }, res.total_return == null ? '—' : pct(res.total_return)),
      h('td', { class: 'num' }, res.max_drawdown == null ? '—' : pct(-Math.abs(res.max_drawdown))),
      h('td', { class: 'num' }, res.sharpe == null ? '—' : Number(res.sharpe).toFixed(2)),
      h('td', { class: 'num' }, res.win_rate == null ? '—' : `${(res.win_rate * 100).toFixed(1)}%`),
      h('td', { class: 'mono' }, when(r.started_at)),
      h('td', {}, r.status === 'running' && canTrade() ? h('button', { type: 'button', class: 'btn tiny cancel', onclick: (e) => { e.stopPropagation(); stopRun(r.run_id); } }, t('停止')) : ''));
  }), t('暂无运行'));
  const run = st.runs.find((r) => r.run_id === st.runId);
  if (run) renderDetail(run);
}

async function stopRun(id) {
  try { await api('DELETE', `/api/v1/strategies/runs/${id}`); } catch (err) { toast(err.message, 'error'); }
  loadRuns();
}

function renderDetail(run) {
  const res = run.result || {};
  const metric = (label, v, cls = '') => h('div', { class: 'metric' }, h('span', { class: 'muted' }, t(label)), h('b', { class: cls }, v));
  const log = Array.isArray(res.log) ? res.log : [];
  const total = res.log_total ?? log.length;
  const detail = $('#run-detail');
  const pre = detail.querySelector('pre.log');
  const keepScroll = pre && pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  const logBox = h('pre', { class: 'log', tabindex: 0, 'aria-label': t('运行日志') }, log.join('\n'));
  detail.replaceChildren(
    h('h2', { class: 'panel-title' }, `#${run.run_id} ${run.strategy} · ${t(RUN_STATUS[run.status] || run.status)}`,
      h('span', { class: 'muted' }, `${when(run.started_at)}${run.finished_at ? ` → ${when(run.finished_at)}` : ''}`)),
    run.error ? h('p', { class: 'msg error' }, run.error) : '',
    h('div', { class: 'metrics' },
      metric('收益率', res.total_return == null ? '—' : pct(res.total_return), trend(res.total_return)),
      metric('年化', res.annual_return == null ? '—' : pct(res.annual_return), trend(res.annual_return)),
      metric('最大回撤', res.max_drawdown == null ? '—' : pct(-Math.abs(res.max_drawdown)), 'down'),
      metric('夏普', res.sharpe == null ? '—' : Number(res.sharpe).toFixed(2)),
      metric('胜率', res.win_rate == null ? '—' : `${(res.win_rate * 100).toFixed(1)}%`),
      metric('成交笔数', res.trades_count ?? '—'),
      metric('期末权益', res.final_equity == null ? '—' : money(res.final_equity))),
    h('div', { class: 'run-body' },
      Array.isArray(res.equity_curve) && res.equity_curve.length > 1
        ? h('div', { class: 'chart-box' }, h('h3', {}, `${t('权益曲线与回撤')}`, h('span', { class: 'muted' }, ` — ${t('上')}: ${t('总资产')} · ${t('下')}: ${t('回撤')}`)), equityChart(res.equity_curve, run.config?.initial_cash ?? res.equity_curve[0][1], { title: t('权益曲线与回撤'), equity: t('总资产'), drawdown: t('回撤') }))
        : h('div', {}),
      h('div', { class: 'log-box' },
        h('h3', {}, t('运行日志'), h('span', { class: 'muted' }, total > log.length ? ` ${t('日志共')} ${total} ${t('行')}，${t('显示最近')} ${log.length} ${t('行')}` : ` ${total}`)),
        logBox)));
  if (!pre || keepScroll) logBox.scrollTop = logBox.scrollHeight;
  else logBox.scrollTop = pre.scrollTop;
}
