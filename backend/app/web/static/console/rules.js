// The checks the API makes before an order reaches the broker (order_validation.py and
// xtquant_adapter/ashare/rules.py), in the API's own words, so a form the API would refuse is
// never sent. The API stays the authority: it also checks fees, risk rules and the session.
// Prices are compared as integers of 1/1000 yuan: no floating-point ticks.

const SCALE = 1000;

/** '1450.21' -> 1450210; null when it is not a plain decimal with at most 3 places. */
export function toMilli(text) {
  const s = String(text ?? '').trim();
  const m = /^(\d+)(?:\.(\d{0,3}))?$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * SCALE + Number((m[2] || '').padEnd(3, '0'));
}

export const fromMilli = (v, decimals) => (v / SCALE).toFixed(decimals);

/** STAR (科创板) and BSE (北交所): at least lot_size, then any whole share; elsewhere whole lots. */
export function lotRule(inst) {
  const oddStep = inst.board === 'star' || inst.board === 'bse';
  return { min: inst.lot_size, step: oddStep ? 1 : inst.lot_size };
}

/**
 * null if the API would accept the form, else the reason in the API's words.
 * form: {side, orderType, price (text), quantity (number)}; ctx: {inst, cash, sellable, session}.
 */
export function checkOrder(form, ctx) {
  const { inst } = ctx;
  if (!inst) return '请输入有效的证券代码 / enter a valid stock code';
  const q = form.quantity;
  if (!Number.isInteger(q) || q <= 0) return '委托数量必须为正整数 / quantity must be a positive integer';
  const rule = lotRule(inst);
  if (form.side === 'buy' && (q < rule.min || (q - rule.min) % rule.step)) {
    return rule.step === 1
      ? `买入数量须≥${rule.min}股 / buy at least ${rule.min} shares`
      : `买入数量须为${rule.step}的整数倍 / buy in multiples of ${rule.step}`;
  }
  let priceMilli = null;
  if (form.orderType === 'limit') {
    priceMilli = toMilli(form.price);
    const tick = toMilli(inst.price_tick);
    if (priceMilli === null || priceMilli <= 0) return '价格必须为正 / price must be positive';
    if (priceMilli % tick !== 0) {
      return `价格须为 ${inst.price_tick} 的整数倍 / price must be a multiple of ${inst.price_tick}`;
    }
    const up = toMilli(inst.limit_up);
    const down = toMilli(inst.limit_down);
    if (up !== null && down !== null && (priceMilli > up || priceMilli < down)) {
      return `价格 ${form.price} 超出涨跌停 [${inst.limit_down}, ${inst.limit_up}] / price outside [${inst.limit_down}, ${inst.limit_up}]`;
    }
  } else if (ctx.session && ctx.session !== 'continuous') {
    return '市价单仅在连续竞价时段接受 / market orders only in continuous trading';
  }
  if (form.side === 'buy') {
    // Limit: the order's price; market: the limit-up price, which is what the broker freezes.
    const at = priceMilli ?? toMilli(inst.limit_up);
    if (ctx.cash != null && at !== null) {
      const need = (at * q) / SCALE;
      if (need > Number(ctx.cash)) {
        return `可用资金不足：需要 ${need.toFixed(2)}，可用 ${Number(ctx.cash).toFixed(2)} / insufficient funds: need ${need.toFixed(2)} (before fees), available ${Number(ctx.cash).toFixed(2)}`;
      }
    }
    return null;
  }
  const sellable = ctx.sellable ?? 0;
  if (q > sellable) {
    return `可卖数量不足：可卖 ${sellable} 股（当日买入 T+1 才可卖）/ insufficient sellable position: ${sellable} sellable (shares bought today sell tomorrow, T+1)`;
  }
  if (rule.step === 1) {
    if (q < rule.min && q !== sellable) return `卖出数量须≥${rule.min}股或一次性卖出余额 / sell at least ${rule.min} or all`;
  } else if (q % rule.step !== 0 && q % rule.step !== sellable % rule.step) {
    return '零股须一次性卖出 / an odd lot must be sold in one order with the whole remainder';
  }
  return null;
}

/** Largest quantity for `side`: 可买 from cash at `priceText`, 可卖 from the position. */
export function capacity(side, ctx, priceText) {
  const { inst } = ctx;
  if (!inst) return null;
  const rule = lotRule(inst);
  if (side === 'sell') return ctx.sellable ?? 0;
  const p = toMilli(priceText) || toMilli(inst.limit_up);
  if (!p || ctx.cash == null) return null;
  const shares = Math.floor((Number(ctx.cash) * SCALE) / p);
  if (shares < rule.min) return 0;
  return rule.min + Math.floor((shares - rule.min) / rule.step) * rule.step;
}

/** `n` rounded down to a valid order size (for the 1/2, 1/3, 1/4 buttons). */
export function roundDownToLot(n, inst, side, sellable) {
  const rule = lotRule(inst);
  if (side === 'sell' && n === sellable) return n;
  if (n < rule.min) return 0;
  return rule.min + Math.floor((n - rule.min) / rule.step) * rule.step;
}
