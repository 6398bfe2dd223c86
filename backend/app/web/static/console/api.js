// The REST client: bearer token, JSON in and out, problem+json errors as ApiError (with the API's
// own `detail`, which is already "中文 / English").

const TOKEN_KEY = 'qmt.token';
let onUnauthorized = () => {};

export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (tok) => (tok ? sessionStorage.setItem(TOKEN_KEY, tok) : sessionStorage.removeItem(TOKEN_KEY));
export const whenUnauthorized = (fn) => { onUnauthorized = fn; };

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || (status === 0 ? 'NETWORK' : `HTTP_${status}`);
    this.problem = problem;
  }
  /** Refused on purpose (4xx): sending the same request again gets the same answer. */
  get definitive() { return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429; }
}

/** Validation errors carry an `errors` list; show its first message with the field. */
function detailOf(problem) {
  const first = Array.isArray(problem.errors) ? problem.errors[0] : null;
  if (problem.code === 'VALIDATION_ERROR' && first) {
    const loc = Array.isArray(first.loc) ? first.loc.filter((p) => p !== 'body').join('.') : '';
    return `${problem.detail || ''} ${loc ? `${loc}: ` : ''}${first.msg || ''}`.trim();
  }
  return problem.detail || problem.title;
}

/**
 * api('GET', '/api/v1/trading/positions') -> parsed JSON.
 * opts: body (JSON), form (URLSearchParams), query (object), timeout ms, full (return {status, data}).
 */
export async function api(method, path, opts = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(opts.query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = { Accept: 'application/json' };
  const tok = getToken();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  let body;
  if (opts.form) body = opts.form;
  else if (opts.body !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.body); }
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), opts.timeout ?? 15000);
  let res;
  try {
    res = await fetch(url, { method, headers, body, signal: ctrl.signal });
  } catch (err) {
    throw new ApiError(0, { detail: `网络错误，请重试 / network error, retry (${err.name})`, code: 'NETWORK' });
  } finally {
    clearTimeout(timer);
  }
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => ({})) : await res.blob();
  if (!res.ok) {
    const problem = type.includes('json') ? data : { detail: `HTTP ${res.status}` };
    problem.detail = detailOf(problem);
    const err = new ApiError(res.status, problem);
    if (res.status === 401 && !path.endsWith('/auth/token')) onUnauthorized(err);
    throw err;
  }
  return opts.full ? { status: res.status, data } : data;
}

/** Every page of a cursor-paged list (bounded: a console shows a day, not history). */
export async function allPages(path, query = {}, maxPages = 10) {
  const items = [];
  let cursor;
  for (let i = 0; i < maxPages; i += 1) {
    const page = await api('GET', path, { query: { ...query, limit: 500, cursor } });
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}
