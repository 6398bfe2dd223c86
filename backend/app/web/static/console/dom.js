// Tiny DOM helpers: the console is plain ES modules, no framework (see docs/console.md).

/** h('td', {class: 'num', title: 'x'}, 'text', childNode) -> element. `on*` keys add listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** Replace a table's content: one header row and the body rows. */
export function fillTable(table, headers, rows, empty) {
  const thead = h('thead', {}, h('tr', {}, headers.map(([label, cls]) => h('th', { class: cls || '' }, label))));
  const tbody = h('tbody', {});
  if (rows.length === 0) {
    tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: headers.length }, empty)));
  } else {
    tbody.append(...rows);
  }
  table.replaceChildren(thead, tbody);
}

let toastSeq = 0;
/** A short note in the corner; errors stay longer. */
export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast ${kind}`, 'data-n': ++toastSeq }, text);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 3500);
}

/** A modal confirmation (the native <dialog>); resolves true on 确定. */
export function confirmDialog({ title, body, okText, danger = false, extra = null }) {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-body').textContent = body;
  const slot = document.getElementById('confirm-extra');
  slot.replaceChildren(...(extra ? [extra] : []));
  const ok = document.getElementById('confirm-ok');
  ok.textContent = okText;
  ok.className = `btn ${danger ? 'danger' : 'primary'}`;
  dlg.returnValue = '';
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
  });
}
