// The live event stream (GET /api/v1/trading/stream) with reconnection. Each message may carry a
// `seq`; on reconnect we pass `?since=<last seq>` so the server replays what we missed (servers
// without replay ignore it, and the app reloads its snapshots on every (re)connect anyway).
import { getToken } from './api.js';

const CLOSE_UNAUTHORIZED = 4401;

export function openStream({ onEvent, onOpen, onState }) {
  let ws = null;
  let lastSeq = null;
  let delay = 500;
  let stopped = false;
  let timer = null;

  function url() {
    const u = new URL('/api/v1/trading/stream', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('token', getToken() || '');
    if (lastSeq !== null) u.searchParams.set('since', String(lastSeq));
    return u;
  }

  function connect() {
    if (stopped) return;
    onState('connecting');
    ws = new WebSocket(url());
    ws.onopen = () => { delay = 500; onState('open'); onOpen(); };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (typeof msg.seq === 'number') {
        if (lastSeq !== null && msg.seq <= lastSeq) return; // a replayed event we already have
        lastSeq = msg.seq;
      }
      onEvent(msg);
    };
    ws.onclose = (e) => {
      ws = null;
      if (stopped) return;
      if (e.code === CLOSE_UNAUTHORIZED) { onState('unauthorized'); return; }
      onState('reconnecting');
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 8000);
    };
  }

  connect();
  return {
    close() { stopped = true; clearTimeout(timer); if (ws) ws.close(1000); },
    /** For tests and the status line: drop the socket as a network would. */
    drop() { if (ws) ws.close(4000, 'client drop'); },
    get lastSeq() { return lastSeq; },
  };
}
