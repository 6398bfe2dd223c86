// Numbers, prices and times the way a Chinese terminal shows them (CONSOLE.md "Colours and numbers").
import { t } from './i18n.js';

const BJ = 'Asia/Shanghai';
const timeFmt = new Intl.DateTimeFormat('en-GB', { timeZone: BJ, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const dayFmt = new Intl.DateTimeFormat('en-CA', { timeZone: BJ, year: 'numeric', month: '2-digit', day: '2-digit' });
const money2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const int0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Decimals of a tick: '0.01' -> 2, '0.001' -> 3. */
export function tickDecimals(tick) {
  const s = String(tick ?? '0.01');
  return s.includes('.') ? s.split('.')[1].length : 0;
}

/** Stocks 2 decimals, ETFs and funds 3 (the code tells: 5xxxxx/1xxxxx are funds and bonds). */
export function decimalsForCode(code) {
  return /^(5|1)\d{5}\./.test(String(code || '')) ? 3 : 2;
}

export function price(v, decimals = 2) {
  if (v === null || v === undefined || v === '') return '—';
  return Number(v).toFixed(decimals);
}

export function money(v) {
  if (v === null || v === undefined || v === '') return '—';
  return money2.format(Number(v));
}

export function qty(v) {
  if (v === null || v === undefined) return '—';
  return int0.format(Number(v));
}

/** 万 / 亿 for big amounts; the exact value goes in a title. */
export function short(v) {
  const n = Number(v);
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a >= 1e8) return `${(n / 1e8).toFixed(2)}${t('亿')}`;
  if (a >= 1e4) return `${(n / 1e4).toFixed(2)}${t('万')}`;
  return money2.format(n);
}

/** 'up' | 'down' | 'flat' for a signed number: the class colours it (red up in China). */
export function trend(v) {
  const n = Number(v);
  if (!Number.isFinite(n) || n === 0) return 'flat';
  return n > 0 ? 'up' : 'down';
}

/** +1,234.00 / −1,234.00: a sign as well as a colour. */
export function signed(v, fmt = money) {
  const n = Number(v);
  if (!Number.isFinite(n)) return '—';
  const body = fmt(Math.abs(n));
  return n > 0 ? `+${body}` : n < 0 ? `−${body}` : body;
}

export function pct(v, digits = 2) {
  const n = Number(v);
  if (!Number.isFinite(n)) return '—';
  const body = `${Math.abs(n * 100).toFixed(digits)}%`;
  return n > 0 ? `+${body}` : n < 0 ? `−${body}` : body;
}

export const beijingDay = (d = new Date()) => dayFmt.format(d);

/** HH:MM:SS for today (Beijing), with the date in front for older rows. */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const hms = timeFmt.format(d);
  const day = dayFmt.format(d);
  return day === beijingDay() ? hms : `${day} ${hms}`;
}

/** Start of today in Beijing as ISO 8601 with offset: the `since` of "today's" lists. */
export function todayStartIso() {
  return `${beijingDay()}T00:00:00+08:00`;
}

export const SIDE = { buy: '买入', sell: '卖出' };
export const STATUS = {
  pending: '待报', reported: '已报', pending_cancel: '已报待撤', partially_filled: '部成',
  filled: '已成', cancelled: '已撤', partially_cancelled: '部撤', rejected: '废单',
};
export const OPEN_STATUSES = new Set(['pending', 'reported', 'partially_filled']);
export const SESSION = {
  closed: '休市', pre_open: '盘前', call_auction: '集合竞价', continuous: '连续竞价',
  lunch_break: '午间休市', closing_auction: '收盘集合竞价',
};

/** Account id masked for the live banner: SIM000001 -> SIM****01. */
export function mask(id) {
  const s = String(id || '');
  return s.length <= 4 ? s : `${s.slice(0, 3)}****${s.slice(-2)}`;
}
