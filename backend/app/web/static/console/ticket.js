// 下单: the order ticket and the five-level book beside it (CONSOLE.md "The order ticket").
// One submission = one client_order_id: the key is kept while the form says the same thing, so a
// double click, a held Enter or a retry after a timeout finds the order already placed (the API
// answers 200 with it and places nothing); any change to the form starts a new key.
import { api } from './api.js';
import { $, $$, h } from './dom.js';
import { price as fmtPrice, qty as fmtQty, tickDecimals } from './fmt.js';
import { getLang, t } from './i18n.js';
import { capacity, checkOrder, fromMilli, lotRule, roundDownToLot, toMilli } from './rules.js';
import { canTrade, changed, putOrder, store, tradingEnabled } from './state.js';

const CODE_RE = /^(?:(?:sh|sz|bj)\d{6}|\d{6}(?:\.(?:sh|sz|bj))?)$/i;
const QUOTE_EVERY_MS = 2000;
const DOUBLE_SUBMIT_WINDOW_MS = 2000;

const tk = {
  inst: null, quote: null, side: 'buy', lookupSeq: 0, quoteTimer: null,
  inflight: false, key: null, cid: null, placedAt: 0,
};

const el = {};

export function initTicket() {
  Object.assign(el, {
    form: $('#ticket-form'), code: $('#t-code'), name: $('#t-name'), inst: $('#t-inst'), type: $('#t-type'),
    price: $('#t-price'), qty: $('#t-qty'), msg: $('#t-msg'), buy: $('#t-buy'), sell: $('#t-sell'),
    up: $('#t-limit-up'), down: $('#t-limit-down'), canBuy: $('#t-can-buy'), canSell: $('#t-can-sell'),
    book: $('#book tbody'), last: $('#book-last'), halted: $('#ticket-halted'),
  });
  el.code.addEventListener('input', () => {
    const v = el.code.value.trim();
    if (CODE_RE.test(v)) lookup(v);
    else if (!v) clearInstrument();
  });
  el.code.addEventListener('change', () => { const v = el.code.value.trim(); if (v && !CODE_RE.test(v)) lookup(v); });
  el.type.addEventListener('change', () => { el.price.disabled = el.type.value === 'market'; refresh(); });
  el.price.addEventListener('blur', normalizePrice);
  for (const input of [el.price, el.qty, el.type, el.code]) input.addEventListener('input', refresh);
  for (const b of $$('[data-step]')) b.addEventListener('click', () => step(b.dataset.step, Number(b.dataset.dir)));
  el.up.addEventListener('click', () => setPrice(tk.inst?.limit_up));
  el.down.addEventListener('click', () => setPrice(tk.inst?.limit_down));
  el.canBuy.addEventListener('click', () => setSide('buy'));
  el.canSell.addEventListener('click', () => setSide('sell'));
  for (const b of $$('[data-frac]')) b.addEventListener('click', () => fraction(Number(b.dataset.frac)));
  el.buy.addEventListener('click', () => submit('buy'));
  el.sell.addEventListener('click', () => submit('sell'));
  el.form.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); submit(tk.side); }
    if (e.key === 'Escape') { e.preventDefault(); clearTicket(); }
  });
  el.form.addEventListener('submit', (e) => e.preventDefault());
  document.addEventListener('keydown', hotkeys);
  setSide('buy');
  renderBook();
}

function hotkeys(e) {
  if (!canTrade() || document.querySelector('dialog[open]')) return;
  if (e.key === 'F1' || e.key === 'F2') {
    e.preventDefault();
    setSide(e.key === 'F1' ? 'buy' : 'sell');
    el.code.focus();
    el.code.select();
  }
}

/** Which side Enter and the fractions act on; 买入 / 卖出 both stay clickable. */
export function setSide(side) {
  tk.side = side;
  el.canBuy.setAttribute('aria-pressed', String(side === 'buy'));
  el.canSell.setAttribute('aria-pressed', String(side === 'sell'));
  el.buy.classList.toggle('active', side === 'buy');
  el.sell.classList.toggle('active', side === 'sell');
  refresh();
}

function clearInstrument() {
  tk.inst = null; tk.quote = null;
  clearInterval(tk.quoteTimer);
  el.name.textContent = ''; el.inst.textContent = '';
  renderBook(); refresh();
}

export function clearTicket() {
  el.code.value = ''; el.price.value = ''; el.qty.value = ''; el.type.value = 'limit'; el.price.disabled = false;
  showMsg('');
  clearInstrument();
  el.code.focus();
}

/** Fill the ticket from a position row: sell side, 可卖 as the quantity. */
export async function fillFromPosition(p) {
  if (!canTrade()) return;
  el.code.value = p.stock_code;
  setSide('sell');
  await lookup(p.stock_code);
  el.qty.value = String(p.can_use_volume);
  refresh();
  el.price.focus();
}

async function lookup(raw) {
  const seq = ++tk.lookupSeq;
  try {
    const [inst, quote] = await Promise.all([
      api('GET', `/api/v1/market/instruments/${encodeURIComponent(raw)}`),
      api('GET', `/api/v1/market/quote/${encodeURIComponent(raw)}`),
    ]);
    if (seq !== tk.lookupSeq) return; // the user typed on
    const changedCode = !tk.inst || tk.inst.stock_code !== inst.stock_code;
    tk.inst = inst; tk.quote = quote;
    store.names.set(inst.stock_code, inst.stock_name);
    el.name.textContent = inst.stock_name;
    const lot = lotRule(inst);
    el.inst.textContent = `${t('每手')} ${inst.lot_size}${lot.step === 1 ? '+1' : ''} · ${t('最小变动')} ${inst.price_tick} · ${t('昨收')} ${inst.pre_close}`;
    el.price.step = inst.price_tick;
    el.price.min = inst.limit_down; el.price.max = inst.limit_up;
    el.qty.step = String(lot.step); el.qty.min = String(lot.min);
    if (changedCode || !el.price.value) setPrice(defaultPrice(quote), false);
    if (!el.qty.value) el.qty.value = String(lot.min);
    showMsg('');
    clearInterval(tk.quoteTimer);
    tk.quoteTimer = setInterval(pollQuote, QUOTE_EVERY_MS);
  } catch (err) {
    if (seq !== tk.lookupSeq) return;
    tk.inst = null; tk.quote = null;
    el.name.textContent = ''; el.inst.textContent = '';
    showMsg(err.message, 'error');
  }
  renderBook();
  refresh();
}

/** Buying starts at 卖一 and selling at 买一, as terminals do; else the last price. */
function defaultPrice(q) {
  const level = tk.side === 'buy' ? q.ask?.[0] : q.bid?.[0];
  return level && Number(level[0]) > 0 ? level[0] : q.last_price;
}

async function pollQuote() {
  if (!tk.inst || document.hidden) return;
  try {
    tk.quote = await api('GET', `/api/v1/market/quote/${tk.inst.stock_code}`);
    renderBook();
    refresh();
  } catch { /* the next poll tries again; the ticket still shows the last book */ }
}

function setPrice(v, focus = true) {
  if (v == null || !tk.inst) return;
  el.price.value = Number(v).toFixed(tickDecimals(tk.inst.price_tick));
  refresh();
  if (focus) el.qty.focus();
}

function normalizePrice() {
  if (!tk.inst || el.price.value === '') return;
  const m = toMilli(el.price.value);
  if (m !== null && m % toMilli(tk.inst.price_tick) === 0) el.price.value = fromMilli(m, tickDecimals(tk.inst.price_tick));
}

function step(which, dir) {
  if (!tk.inst) return;
  if (which === 'price') {
    const tick = toMilli(tk.inst.price_tick);
    const cur = toMilli(el.price.value) ?? toMilli(tk.quote?.last_price) ?? 0;
    let next = (Math.round(cur / tick) + dir) * tick;
    next = Math.min(Math.max(next, toMilli(tk.inst.limit_down)), toMilli(tk.inst.limit_up));
    el.price.value = fromMilli(next, tickDecimals(tk.inst.price_tick));
  } else {
    const rule = lotRule(tk.inst);
    const cur = Number(el.qty.value) || 0;
    const by = rule.step === 1 ? 1 : rule.step;
    el.qty.value = String(Math.max(rule.min, cur + dir * by));
  }
  refresh();
}

function ctx() {
  const pos = tk.inst ? store.positions.get(tk.inst.stock_code) : null;
  return {
    inst: tk.inst,
    cash: store.account ? store.account.available_cash : null,
    sellable: pos ? Number(pos.can_use_volume) : 0,
    session: store.status?.session,
  };
}

function fraction(n) {
  if (!tk.inst) return;
  const c = ctx();
  const cap = capacity(tk.side, c, el.price.value);
  if (!cap) return;
  el.qty.value = String(n === 1 ? cap : roundDownToLot(Math.floor(cap / n), tk.inst, tk.side, c.sellable));
  refresh();
}

function formValues(side) {
  return {
    side, orderType: el.type.value, price: el.price.value.trim(),
    quantity: el.qty.value === '' ? NaN : Number(el.qty.value),
  };
}

/** Re-draw what depends on the form and the account: 涨停/跌停, 可买/可卖, halted state. */
export function refresh() {
  if (!el.form) return;
  const c = ctx();
  el.up.querySelector('b').textContent = tk.inst ? tk.inst.limit_up : '—';
  el.down.querySelector('b').textContent = tk.inst ? tk.inst.limit_down : '—';
  const canBuy = capacity('buy', c, el.price.value);
  el.canBuy.querySelector('b').textContent = canBuy == null ? '—' : fmtQty(canBuy);
  el.canSell.querySelector('b').textContent = tk.inst ? fmtQty(c.sellable) : '—';
  const halted = !tradingEnabled();
  el.halted.hidden = !halted;
  // Until the status is known the form stays hidden: never a form that turns out unsendable.
  el.form.hidden = halted || !store.status;
  if (halted) {
    const reason = store.kill?.reason || store.status?.detail || '';
    el.halted.replaceChildren(h('strong', {}, t('交易暂停')), h('p', {}, t('交易已暂停：交易开关已关闭，新委托不会被接受；撤单仍可进行。')),
      reason ? h('p', { class: 'muted' }, `${t('原因')}: ${reason}`) : '');
  }
  el.buy.disabled = tk.inflight; el.sell.disabled = tk.inflight;
}

function showMsg(text, kind = '') {
  el.msg.textContent = text;
  el.msg.className = `msg ${kind}`;
}

function newId() {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return `web-${[...a].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export async function submit(side) {
  if (tk.inflight || !canTrade()) return;
  if (!tradingEnabled()) { refresh(); return; }
  setSide(side);
  const form = formValues(side);
  const problem = checkOrder(form, ctx());
  if (problem) { showMsg(problem, 'error'); return; }
  const body = {
    stock_code: tk.inst.stock_code, side, quantity: form.quantity, order_type: form.orderType,
    ...(form.orderType === 'limit' ? { price: form.price } : {}),
  };
  const key = JSON.stringify(body);
  // Same content within the double-submit window, or after an unanswered try: same key.
  const sameSubmission = key === tk.key && tk.cid && (tk.placedAt === 0 || Date.now() - tk.placedAt < DOUBLE_SUBMIT_WINDOW_MS);
  if (!sameSubmission) { tk.key = key; tk.cid = newId(); tk.placedAt = 0; }
  tk.inflight = true;
  refresh();
  showMsg('…');
  try {
    const { status, data } = await api('POST', '/api/v1/trading/order', { body: { ...body, client_order_id: tk.cid }, full: true });
    tk.placedAt = Date.now();
    putOrder(data);
    changed();
    showMsg(status === 200 ? `${t('重复提交，未再下单')} #${data.order_id}` : `${t('委托已提交')} #${data.order_id} ${t(side === 'buy' ? '买入' : '卖出')} ${data.stock_name} ${fmtQty(data.quantity)}`, 'ok');
  } catch (err) {
    if (err.definitive) { tk.key = null; tk.cid = null; }
    showMsg(err.message, 'error');
    if (err.code === 'TRADING_DISABLED') document.dispatchEvent(new CustomEvent('qmt:refresh-status'));
  } finally {
    tk.inflight = false;
    refresh();
  }
}

export function renderBook() {
  if (!el.book) return;
  const q = tk.quote;
  const d = tk.inst ? tickDecimals(tk.inst.price_tick) : 2;
  const pre = q ? Number(q.pre_close) : null;
  const cls = (p) => (pre == null || !p ? 'flat' : Number(p) > pre ? 'up' : Number(p) < pre ? 'down' : 'flat');
  const row = (label, level, kind) => {
    const [p, v] = level || [null, null];
    return h('tr', { class: `book-row ${kind}`, onclick: () => p && setPrice(p), title: p ? t('委托价格') : '' },
      h('th', {}, label), h('td', { class: `num ${cls(p)}` }, p ? fmtPrice(p, d) : '—'),
      h('td', { class: 'num vol' }, v != null ? fmtQty(Math.round(v / 100)) : '—'));
  };
  const nums = ['一', '二', '三', '四', '五'];
  const label = (side, i) => (getLang() === 'en' ? `${side === '卖' ? 'Ask' : 'Bid'} ${i + 1}` : `${side}${nums[i]}`);
  const asks = [4, 3, 2, 1, 0].map((i) => row(label('卖', i), q?.ask?.[i], 'ask'));
  const bids = [0, 1, 2, 3, 4].map((i) => row(label('买', i), q?.bid?.[i], 'bid'));
  el.book.replaceChildren(...asks, h('tr', { class: 'book-sep' }, h('td', { colspan: 3 })), ...bids);
  if (q) {
    const chg = Number(q.last_price) - pre;
    const pctv = pre ? chg / pre : 0;
    el.last.className = `book-last ${cls(q.last_price)}`;
    el.last.textContent = `${fmtPrice(q.last_price, d)}  ${chg >= 0 ? '+' : '−'}${Math.abs(chg).toFixed(d)}  ${chg >= 0 ? '+' : '−'}${Math.abs(pctv * 100).toFixed(2)}%`;
  } else {
    el.last.textContent = '';
  }
}
