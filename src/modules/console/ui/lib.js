// Shared by every page: the session (tokens in sessionStorage: gone with the tab; the access token is
// renewed with the refresh token on a 401), the API client, and small components (tables, charts).
import { h } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);
const KEY = 'arbiter.console.session';

export function getSession() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch {
    return null;
  }
}
export function setSession(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  window.dispatchEvent(new Event('arbiter-session'));
}

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

let refreshing = null;
async function refreshAccess(s) {
  refreshing ??= fetch('/api/v1/auth/refresh/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: s.refresh }) })
    .then(async (res) => {
      if (!res.ok) return false;
      const t = await res.json();
      setSession({ ...getSession(), access: t.access, refresh: t.refresh ?? s.refresh });
      return true;
    })
    .catch(() => false)
    .finally(() => (refreshing = null));
  return refreshing;
}

/** fetch with the person's token; a 401 is retried once after a refresh, then signs out. */
export async function authFetch(path, init = {}) {
  const once = () => {
    const s = getSession();
    const headers = { ...(init.headers || {}) };
    if (s?.access) headers.authorization = `Bearer ${s.access}`;
    return fetch(path, { ...init, headers });
  };
  let res = await once();
  if (res.status === 401 && getSession()?.refresh) {
    if (await refreshAccess(getSession())) res = await once();
    else setSession(null);
  }
  return res;
}

/** JSON in and out; non-2xx throws ApiError carrying the API's {"detail"}. Returns {body, total, headers}. */
export async function api(method, path, body, opts = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    if (opts.contentType) {
      init.headers['content-type'] = opts.contentType;
      init.body = body;
    } else {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  const res = await authFetch(path, init);
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!res.ok) throw new ApiError(res.status, (parsed && parsed.detail) || `${res.status} ${res.statusText}`, parsed);
  const total = res.headers.get('x-total-count');
  return { body: parsed, total: total === null ? null : Number(total), headers: res.headers, status: res.status };
}

/** Loads on mount and when deps change: {data, error, loading, reload}. A 404 route sets error.status 404. */
export function useApi(path, deps = []) {
  const [state, setState] = useState({ data: null, total: null, error: null, loading: true });
  const load = useCallback(async () => {
    if (!path) return setState({ data: null, total: null, error: null, loading: false });
    setState((s) => ({ ...s, loading: true }));
    try {
      const r = await api('GET', path);
      setState({ data: r.body, total: r.total, error: null, loading: false });
    } catch (error) {
      setState({ data: null, total: null, error, loading: false });
    }
  }, [path, ...deps]);
  useEffect(() => {
    load();
  }, [load]);
  return { ...state, reload: load };
}

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const fmt = {
  num: (x, d = 3) => (x === null || x === undefined || Number.isNaN(Number(x)) ? '–' : Number(x).toFixed(d)),
  time: (iso) => (iso ? new Date(iso).toLocaleString() : '–'),
  json: (v) => JSON.stringify(v),
};

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">${error.status ? `${error.status}: ` : ''}${error.message}</div>`;
}

export function Loading({ when }) {
  return when ? html`<p class="note" aria-live="polite">Loading…</p>` : null;
}

/** columns: [{key, label, num?, render?(row)}] */
export function Table({ columns, rows, empty = 'Nothing yet.', rowClass, caption }) {
  if (!rows || !rows.length) return html`<p class="note">${empty}</p>`;
  return html`<div class="scroll"><table>
    ${caption && html`<caption class="note">${caption}</caption>`}
    <thead><tr>${columns.map((c) => html`<th class=${c.num ? 'num' : ''} scope="col">${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((r, i) => html`<tr key=${r.id ?? i} class=${rowClass ? rowClass(r) : ''}>${columns.map((c) => html`<td class=${c.num ? 'num' : ''}>${c.render ? c.render(r) : fmtCell(r[c.key])}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}
function fmtCell(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export const COLORS = ['#2f5d8a', '#d1495b', '#00798c', '#edae49', '#66a182', '#8e6c8a', '#3d405b', '#e07a5f'];

/** A small SVG line chart. series: [{name, points: [[x, y], …], color?, dash? (an SVG dasharray, so equal lines stay told apart)}]; x numbers (e.g. ms) or indexes; xFormat(x) labels the x ticks. */
export function LineChart({ series, height = 220, xLabel = '', yLabel = '', xTime = false, xFormat = null, bands = [] }) {
  const all = series.flatMap((s) => s.points);
  if (!all.length) return html`<p class="note">No data to plot yet.</p>`;
  const W = 640, H = height, L = 48, R = 10, T = 10, B = 28;
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1]), ...bands), Math.max(...all.map((p) => p[1]), ...bands)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const ticks = (a, b, n) => Array.from({ length: n + 1 }, (_, i) => a + ((b - a) * i) / n);
  const xFmt = (x) => xFormat ? xFormat(x) : (xTime ? new Date(x).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : Number(x.toFixed(2)).toString());
  return html`<figure style="margin:0">
    <svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label=${`${yLabel} against ${xLabel}: ${series.map((s) => s.name).join(', ')}`}>
      ${ticks(y0, y1, 4).map((y) => html`<line x1=${L} x2=${W - R} y1=${sy(y)} y2=${sy(y)} stroke="#e5e8ec" /><text x=${L - 4} y=${sy(y) + 4} text-anchor="end">${Number(y.toPrecision(3))}</text>`)}
      ${ticks(x0, x1, 4).map((x) => html`<text x=${sx(x)} y=${H - 8} text-anchor="middle">${xFmt(x)}</text>`)}
      ${bands.map((b) => html`<line x1=${L} x2=${W - R} y1=${sy(b)} y2=${sy(b)} stroke="#b42318" stroke-dasharray="4 3" />`)}
      ${series.map((s, i) => html`<polyline fill="none" stroke=${s.color || COLORS[i % COLORS.length]} stroke-width="2" stroke-dasharray=${s.dash || null} points=${s.points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ')} />
        ${s.points.length < 40 ? s.points.map((p) => html`<circle cx=${sx(p[0])} cy=${sy(p[1])} r="2.5" fill=${s.color || COLORS[i % COLORS.length]} />`) : null}`)}
    </svg>
    <figcaption class="legend">${series.map((s, i) => html`<span><i style=${{ background: s.color || COLORS[i % COLORS.length] }}></i>${s.name}</span>`)}${xLabel && html`<span class="note">x: ${xLabel}; y: ${yLabel}</span>`}</figcaption>
  </figure>`;
}

/** Horizontal bars: items [{label, value}] scaled to the largest. */
export function Bars({ items, format = (v) => fmt.num(v, 3) }) {
  if (!items.length) return html`<p class="note">Nothing to show.</p>`;
  const max = Math.max(...items.map((i) => Math.abs(i.value)), 1e-12);
  return html`<div class="scroll"><table><tbody>${items.map((i) => html`<tr><td>${i.label}</td><td style="width:55%"><div class="bar" style=${{ width: `${(Math.abs(i.value) / max) * 100}%` }}></div></td><td class="num">${format(i.value)}</td></tr>`)}</tbody></table></div>`;
}

/** "not available" for a module whose routes this server does not serve (404 on its API). */
export function Unavailable({ what }) {
  return html`<section class="card"><h2>${what}: not available</h2><p class="note">This server does not serve ${what.toLowerCase()} (its routes answer 404: the module is not built into this version, or MODULES leaves it out).</p></section>`;
}

/** A histogram of values in [lo, hi] with `bins` bins; `marks` are dashed vertical lines (e.g. clip bounds). */
export function Histogram({ values, lo = 0, hi = 1, bins = 20, marks = [], label = '' }) {
  if (!values.length) return html`<p class="note">No data to plot yet.</p>`;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
  const W = 640, H = 200, L = 40, R = 10, T = 10, B = 28;
  const max = Math.max(...counts);
  const bw = (W - L - R) / bins;
  const sx = (x) => L + ((x - lo) / (hi - lo)) * (W - L - R);
  return html`<figure style="margin:0"><svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label=${label}>
    ${counts.map((c, i) => html`<rect x=${L + i * bw + 1} y=${T + (1 - c / max) * (H - T - B)} width=${bw - 2} height=${(c / max) * (H - T - B)} fill="#2f5d8a"><title>${`${(lo + (i * (hi - lo)) / bins).toFixed(2)}–${(lo + ((i + 1) * (hi - lo)) / bins).toFixed(2)}: ${c}`}</title></rect>`)}
    ${[0, 0.25, 0.5, 0.75, 1].map((f) => html`<text x=${sx(lo + f * (hi - lo))} y=${H - 8} text-anchor="middle">${(lo + f * (hi - lo)).toFixed(2)}</text>`)}
    <text x=${L - 4} y=${T + 10} text-anchor="end">${max}</text>
    ${marks.map((m) => html`<line x1=${sx(m.x)} x2=${sx(m.x)} y1=${T} y2=${H - B} stroke="#b42318" stroke-width="2" stroke-dasharray="5 3" /><text x=${sx(m.x) + 4} y=${T + 12}>${m.label}</text>`)}
  </svg><figcaption class="note">${label}</figcaption></figure>`;
}

/** Downloads a response body under `name` (an API route that needs the person's token). */
export async function download(path, name) {
  const res = await authFetch(path);
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new ApiError(res.status, body.detail || `${res.status}`, body);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
