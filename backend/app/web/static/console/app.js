// The console's entry point: login, the role's views, snapshots + the live stream, the status line.
import { allPages, api, getToken, setToken, whenUnauthorized } from './api.js';
import { initAdmin, showAdminView } from './admin.js';
import { $, $$, h, toast } from './dom.js';
import { mask, SESSION, todayStartIso } from './fmt.js';
import { applyStatic, getLang, onLangChange, setLang, t } from './i18n.js';
import { canTrade, changed, isAdmin, putOrder, putPosition, putTrade, store, subscribe } from './state.js';
import { openStream } from './stream.js';
import { initStrategies, showStrategies } from './strategies.js';
import { focusCancel, initTables, renderAccount, renderOrders, renderPositions, renderTrades } from './tables.js';
import { fillFromPosition, initTicket, refresh as refreshTicket, renderBook } from './ticket.js';

const STATUS_EVERY_MS = 5000;
let stream = null;
let statusTimer = null;
let clockTimer = null;
let ticketReady = false;

// ---- colours: 红涨绿跌 by default, flipped on request --------------------------------------------
function applyColors() {
  const intl = localStorage.getItem('qmt.colors') === 'intl';
  document.body.classList.toggle('cn-colors', !intl);
  document.body.classList.toggle('intl-colors', intl);
  $('#colors-switch').textContent = intl ? t('绿涨红跌') : t('红涨绿跌');
}

// ---- login ------------------------------------------------------------------------------------
function showLogin(message = '') {
  stopLive();
  $('#app-view').hidden = true;
  $('#login-view').hidden = false;
  $('#login-error').textContent = message;
  $('#login-username').focus();
}

async function login(e) {
  e.preventDefault();
  const form = new URLSearchParams({ username: $('#login-username').value.trim(), password: $('#login-password').value });
  const btn = $('#login-form button[type=submit]');
  btn.disabled = true;
  try {
    const tok = await api('POST', '/api/v1/auth/token', { form });
    setToken(tok.access_token);
    $('#login-password').value = '';
    await start();
  } catch (err) {
    $('#login-error').textContent = err.message;
  } finally {
    btn.disabled = false;
  }
}

function logout() {
  setToken(null);
  location.reload(); // a clean page for the next user: no tables or ticket of this one
}

// ---- the signed-in console -----------------------------------------------------------------------
async function start() {
  store.me = await api('GET', '/api/v1/auth/me');
  $('#login-view').hidden = true;
  $('#app-view').hidden = false;
  document.body.dataset.role = store.me.role;
  $('#who').textContent = `${store.me.username} · ${store.me.role}`;
  for (const el of $$('[data-role="admin"]')) el.hidden = !isAdmin();
  for (const el of $$('[data-role="trader"]')) el.hidden = !canTrade();
  // A viewer gets no ticket at all: not a disabled one (CONSOLE.md "Roles and safety").
  const ticket = $('#ticket-panel');
  if (!canTrade() && ticket) ticket.remove();
  else if (canTrade() && !ticketReady) { initTicket(); ticketReady = true; }
  startLive(); // the socket opens while the status loads: one round trip less before the tables
  await refreshStatus();
  selectView('trade');
}

async function refreshStatus() {
  try {
    const [status, kill] = await Promise.all([
      api('GET', '/api/v1/trading/status'),
      api('GET', '/api/v1/trading/kill-switch'),
    ]);
    store.status = status;
    store.kill = kill;
    changed();
  } catch { /* shown as unknown in the status line until the next poll */ }
}

async function loadSnapshots() {
  const since = todayStartIso();
  const [account, positions, orders, trades] = await Promise.all([
    api('GET', '/api/v1/trading/account-info'),
    api('GET', '/api/v1/trading/positions'),
    allPages('/api/v1/trading/orders', { since }),
    allPages('/api/v1/trading/trades', { since }),
  ]);
  store.account = account;
  store.positions.clear();
  positions.items.forEach(putPosition);
  orders.forEach(putOrder);
  trades.forEach(putTrade);
  changed();
}

function onEvent(msg) {
  const d = msg.data || {};
  switch (msg.type) {
    case 'order': putOrder(d); break;
    case 'trade': putTrade(d); break;
    case 'position': putPosition(d); break;
    case 'asset': store.account = { ...store.account, ...d }; break;
    case 'connection':
      if (store.status && typeof d.connected === 'boolean') store.status = { ...store.status, connected: d.connected };
      break;
    default: return;
  }
  changed();
}

function startLive() {
  stopLive();
  stream = openStream({
    onEvent,
    onOpen: () => loadSnapshots().catch((err) => toast(err.message, 'error')),
    onState: (s) => {
      store.stream = s;
      if (s === 'unauthorized') showLogin(t('登录已失效，请重新登录'));
      changed();
    },
  });
  window.qmtStream = stream; // the browser tests drop it to check the reconnection
  statusTimer = setInterval(refreshStatus, STATUS_EVERY_MS);
  clockTimer = setInterval(renderClock, 1000);
}

function stopLive() {
  if (stream) stream.close();
  stream = null;
  clearInterval(statusTimer);
  clearInterval(clockTimer);
}

// ---- chrome: banners and the status line -------------------------------------------------------------
function renderChrome() {
  const s = store.status;
  const live = s && s.mode === 'live';
  const badge = $('#mode-badge');
  badge.textContent = s ? (live ? t('实盘') : t('模拟盘')) : '';
  badge.className = `mode-badge ${live ? 'live' : 'sim'}`;
  const banner = $('#live-banner');
  banner.hidden = !live;
  if (live) banner.textContent = `${t('实盘')} · ${mask(s.account_id)} · ${s.account_type || ''}`;
  const halted = s && s.trading_enabled === false;
  const halt = $('#halt-banner');
  halt.hidden = !halted;
  if (halted) halt.textContent = `${t('交易暂停')} — ${t('交易已暂停：交易开关已关闭，新委托不会被接受；撤单仍可进行。')}${store.kill?.reason ? ` ${t('原因')}: ${store.kill.reason}` : ''}`;
  const streamState = { open: ['ok', '已连接'], connecting: ['warn', '重连中'], reconnecting: ['warn', '重连中'], unauthorized: ['bad', '未连接'] }[store.stream] || ['warn', '重连中'];
  const st = $('#st-stream');
  st.className = `dot ${streamState[0]}`;
  st.textContent = `${t('推送')}: ${t(streamState[1])}`;
  st.dataset.state = store.stream;
  const br = $('#st-broker');
  br.className = `dot ${s ? (s.connected ? 'ok' : 'bad') : 'warn'}`;
  br.textContent = s ? t(s.connected ? '券商已连接' : '券商未连接') : '';
  $('#st-session').textContent = s ? t(SESSION[s.session] || s.session) : '';
  const tr = $('#st-trading');
  tr.textContent = s ? t(halted ? '交易暂停' : '交易开启') : '';
  tr.className = halted ? 'bad-text' : '';
}

function renderClock() {
  $('#st-time').textContent = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', hour12: false, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).format(new Date());
}

// ---- views --------------------------------------------------------------------------------------
let currentView = 'trade';
function selectView(view) {
  if ((view === 'risk' || view === 'users' || view === 'audit') && !isAdmin()) view = 'trade';
  currentView = view;
  for (const b of $$('[role=tab][data-view]')) b.setAttribute('aria-selected', String(b.dataset.view === view));
  for (const v of $$('.view')) v.hidden = v.id !== `view-${view}`;
  if (view === 'strategies') showStrategies();
  if (view === 'risk' || view === 'users' || view === 'audit') showAdminView(view);
}

function init() {
  applyColors();
  applyStatic();
  document.documentElement.lang = getLang() === 'en' ? 'en' : 'zh-CN';
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  for (const b of $$('.lang-switch')) b.addEventListener('click', () => setLang(getLang() === 'en' ? 'zh' : 'en'));
  $('#colors-switch').addEventListener('click', () => {
    localStorage.setItem('qmt.colors', localStorage.getItem('qmt.colors') === 'intl' ? 'cn' : 'intl');
    applyColors();
  });
  for (const b of $$('[role=tab][data-view]')) b.addEventListener('click', () => selectView(b.dataset.view));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'F3' && canTrade()) { e.preventDefault(); selectView('trade'); focusCancel(); }
  });
  document.addEventListener('qmt:refresh-status', refreshStatus);
  document.addEventListener('qmt:kill-switch', (e) => { store.kill = e.detail; store.status = { ...store.status, trading_enabled: e.detail.trading_enabled }; changed(); });
  onLangChange(() => {
    applyColors();
    delete $('#view-strategies').dataset.built; // its form is built in the language of the moment
    changed();
    if (canTrade()) renderBook();
    selectView(currentView);
  });
  initTables({ pickPosition: fillFromPosition });
  initStrategies();
  initAdmin();
  subscribe(() => {
    renderChrome(); renderAccount(); renderPositions(); renderOrders(); renderTrades();
    if (canTrade()) refreshTicket();
  });
  whenUnauthorized(() => showLogin(t('登录已失效，请重新登录')));
  if (getToken()) start().catch(() => showLogin());
  else showLogin();
}

init();
