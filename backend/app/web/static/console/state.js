// What the console knows: snapshots from REST, kept current by stream events. Panels subscribe
// and re-render on the next animation frame (many events in one burst make one render).

export const store = {
  me: null, // {username, role}
  status: null, // GET /trading/status
  kill: null, // GET /trading/kill-switch
  account: null,
  positions: new Map(), // stock_code -> position
  orders: new Map(), // order_id -> order
  trades: new Map(), // trade_id -> trade
  names: new Map(), // stock_code -> stock_name
  stream: 'connecting',
};

const subscribers = new Set();
let scheduled = false;

export function subscribe(fn) { subscribers.add(fn); }

export function changed() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    subscribers.forEach((fn) => fn(store));
  });
}

export const canTrade = () => store.me && (store.me.role === 'trader' || store.me.role === 'admin');
export const isAdmin = () => store.me && store.me.role === 'admin';
export const tradingEnabled = () => !store.status || store.status.trading_enabled !== false;

export function rememberName(code, name) {
  if (code && name) store.names.set(code, name);
}

/** An order from REST or the stream: the newer of two copies wins (updated_at). */
export function putOrder(o) {
  const old = store.orders.get(o.order_id);
  if (old && old.updated_at && o.updated_at && old.updated_at > o.updated_at) return;
  store.orders.set(o.order_id, { ...old, ...o });
  rememberName(o.stock_code, o.stock_name);
}

export function putPosition(p) {
  rememberName(p.stock_code, p.stock_name);
  if (Number(p.volume) === 0 && Number(p.frozen_volume || 0) === 0) store.positions.delete(p.stock_code);
  else store.positions.set(p.stock_code, p);
}

export function putTrade(tr) { store.trades.set(tr.trade_id, tr); }
