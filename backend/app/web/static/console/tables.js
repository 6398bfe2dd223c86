// 资产 / 持仓 / 当日委托 / 当日成交: the live tables (CONSOLE.md "The tables").
import { api, ApiError } from './api.js';
import { $, $$, confirmDialog, fillTable, h, toast } from './dom.js';
import {
  decimalsForCode, money, OPEN_STATUSES, pct, price, qty, short, SIDE, signed, STATUS, trend, when,
} from './fmt.js';
import { t } from './i18n.js';
import { canTrade, changed, putOrder, store } from './state.js';

let ordersFilter = 'all';
let onPickPosition = () => {};

export function initTables({ pickPosition }) {
  onPickPosition = pickPosition;
  for (const b of $$('[data-orders-filter]')) {
    b.addEventListener('click', () => setOrdersFilter(b.dataset.ordersFilter));
  }
  $('#cancel-all').addEventListener('click', cancelAll);
}

export function setOrdersFilter(f) {
  ordersFilter = f;
  for (const b of $$('[data-orders-filter]')) b.setAttribute('aria-pressed', String(b.dataset.ordersFilter === f));
  changed();
}

const num = (text, cls = '') => h('td', { class: `num ${cls}` }, text);
const sideCell = (side) => h('td', { class: side === 'buy' ? 'buy-text' : 'sell-text' }, t(SIDE[side] || side));

export function renderAccount() {
  const a = store.account;
  $('#account-id').textContent = a ? a.account_id : '';
  const cells = [
    ['总资产', a && a.total_value, ''],
    ['可用资金', a && a.available_cash, ''],
    ['冻结资金', a && a.frozen_cash, ''],
    ['持仓市值', a && a.market_value, ''],
    ['浮动盈亏', a && a.total_profit_loss, 'pl'],
  ];
  $('#account').replaceChildren(...cells.map(([label, v, kind]) => h('div', { class: 'acc-cell' },
    h('dt', {}, t(label)),
    h('dd', { class: `mono ${kind === 'pl' ? trend(v) : ''}`, title: v == null ? '' : money(v), 'data-field': label },
      v == null ? '—' : kind === 'pl' ? signed(v) : money(v)))));
}

export function renderPositions() {
  const rows = [...store.positions.values()].sort((a, b) => a.stock_code.localeCompare(b.stock_code));
  $('#positions-count').textContent = rows.length ? `${rows.length}` : '';
  fillTable($('#positions'), [
    [t('证券代码')], [t('证券名称')], [t('持仓数量'), 'num'], [t('可用数量'), 'num'], [t('冻结数量'), 'num'],
    [t('成本价'), 'num'], [t('现价'), 'num'], [t('市值'), 'num'], [t('浮动盈亏'), 'num'], [t('盈亏比例'), 'num'],
  ], rows.map((p) => {
    const d = decimalsForCode(p.stock_code);
    const ratio = Number(p.avg_price) > 0 ? Number(p.last_price) / Number(p.avg_price) - 1 : null;
    return h('tr', {
      class: canTrade() ? 'clickable' : '', 'data-code': p.stock_code,
      title: canTrade() ? t('卖出') : '', onclick: () => canTrade() && onPickPosition(p),
    },
    h('td', { class: 'mono' }, p.stock_code), h('td', {}, p.stock_name || ''),
    num(qty(p.volume)), num(qty(p.can_use_volume)), num(qty(p.frozen_volume)),
    num(price(p.avg_price, d + 1 > 3 ? 3 : d + 1)), num(price(p.last_price, d), trend(Number(p.last_price) - Number(p.avg_price))),
    num(money(p.market_value)), num(signed(p.profit_loss), trend(p.profit_loss)),
    num(ratio === null ? '—' : pct(ratio), trend(ratio)));
  }), t('无持仓'));
}

function statusCell(o) {
  const word = t(STATUS[o.status] || o.status);
  const tip = o.status_msg ? `${o.status_msg}${o.broker_status != null ? ` (${o.broker_status})` : ''}` : '';
  return h('td', { class: `status st-${o.status}`, title: tip, 'data-status': o.status }, word);
}

export function renderOrders() {
  const all = [...store.orders.values()].sort((a, b) => (b.created_at || '').localeCompare(a.created_at || '') || b.order_id - a.order_id);
  const rows = ordersFilter === 'open' ? all.filter((o) => OPEN_STATUSES.has(o.status)) : all;
  const open = all.filter((o) => OPEN_STATUSES.has(o.status)).length;
  const cancelAllBtn = $('#cancel-all');
  if (cancelAllBtn) cancelAllBtn.disabled = open === 0;
  const headers = [[t('委托时间')], [t('证券代码')], [t('证券名称')], [t('买卖')], [t('委托价格'), 'num'],
    [t('委托数量'), 'num'], [t('成交数量'), 'num'], [t('成交均价'), 'num'], [t('状态')]];
  if (canTrade()) headers.push([t('撤单')]);
  fillTable($('#orders'), headers, rows.map((o) => {
    const d = decimalsForCode(o.stock_code);
    const tr = h('tr', { 'data-order-id': o.order_id, 'data-status': o.status },
      h('td', { class: 'mono' }, when(o.created_at)), h('td', { class: 'mono' }, o.stock_code),
      h('td', {}, o.stock_name || store.names.get(o.stock_code) || ''), sideCell(o.side),
      num(o.order_type === 'market' ? t('市价') : price(o.price, d)), num(qty(o.quantity)),
      num(qty(o.filled_quantity)), num(o.avg_fill_price ? price(o.avg_fill_price, d) : '—'), statusCell(o));
    if (canTrade()) {
      tr.append(h('td', {}, OPEN_STATUSES.has(o.status)
        ? h('button', { type: 'button', class: 'btn tiny cancel', 'aria-label': `${t('撤单')} ${o.order_id}`, onclick: (e) => cancelOne(o, e.currentTarget) }, t('撤单'))
        : ''));
    }
    return tr;
  }), ordersFilter === 'open' ? t('无可撤委托') : t('今日无委托'));
}

export function renderTrades() {
  const rows = [...store.trades.values()].sort((a, b) => (b.traded_at || '').localeCompare(a.traded_at || ''));
  $('#trades-count').textContent = rows.length ? `${rows.length}` : '';
  fillTable($('#trades'), [[t('成交时间')], [t('证券代码')], [t('证券名称')], [t('买卖')], [t('成交价格'), 'num'],
    [t('成交数量'), 'num'], [t('成交金额'), 'num'], [t('费用'), 'num']], rows.map((x) => {
    const d = decimalsForCode(x.stock_code);
    const name = x.stock_name || store.orders.get(x.order_id)?.stock_name || store.names.get(x.stock_code) || '';
    return h('tr', { 'data-trade-id': x.trade_id, 'data-order-id': x.order_id },
      h('td', { class: 'mono' }, when(x.traded_at)), h('td', { class: 'mono' }, x.stock_code), h('td', {}, name),
      sideCell(x.side), num(price(x.price, d)), num(qty(x.quantity)),
      h('td', { class: 'num', title: money(x.amount) }, short(x.amount)), num(money(x.commission)));
  }), t('今日无成交'));
}

async function cancelOne(order, button) {
  if (button) button.disabled = true;
  try {
    const o = await api('DELETE', `/api/v1/trading/orders/${order.order_id}`);
    putOrder(o);
    changed();
    toast(`${t('撤单已提交')} #${order.order_id}`);
  } catch (err) {
    toast(err.message, 'error');
    if (button) button.disabled = false;
  }
}

/** 全部撤单: the bulk endpoint when the server has it, else one DELETE per open order. */
export async function cancelAll() {
  const open = [...store.orders.values()].filter((o) => OPEN_STATUSES.has(o.status));
  if (open.length === 0) { toast(t('没有可撤的委托')); return; }
  const ok = await confirmDialog({
    title: t('全部撤单'), body: `${t('撤销全部可撤委托？')} (${open.length})`, okText: t('全部撤单'), danger: true,
  });
  if (!ok) return;
  let results;
  try {
    const res = await api('DELETE', '/api/v1/trading/orders');
    results = (res.items || []).map((it) => ({ ok: it.ok, order: it.order, detail: it.detail, id: it.order_id }));
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 405)) { toast(err.message, 'error'); return; }
    results = await Promise.all(open.map((o) => api('DELETE', `/api/v1/trading/orders/${o.order_id}`)
      .then((order) => ({ ok: true, order, id: o.order_id }))
      .catch((e) => ({ ok: false, detail: e.message, id: o.order_id }))));
  }
  for (const r of results) if (r.order) putOrder(r.order);
  changed();
  const failed = results.filter((r) => !r.ok);
  toast(`${t('撤单已提交')}: ${results.length - failed.length}/${results.length}`, failed.length ? 'error' : 'info');
  for (const f of failed.slice(0, 3)) toast(`#${f.id} ${f.detail}`, 'error');
}

/** F3: show the open orders and put the focus on the first 撤单. */
export function focusCancel() {
  setOrdersFilter('open');
  requestAnimationFrame(() => requestAnimationFrame(() => $('#orders button.cancel')?.focus()));
}
