// Recommendations (seed 004, issue 15): the offline evaluation against popularity, the strategy
// bandit's values, and retraining jobs. The recommendations module may be absent from this server
// (not built in, or left out by MODULES): its 404 shows "not available", never an error. Its answers
// are shown generically (tables of rows, bars of per-name numbers) so the page follows the module's
// shapes without hard-coding them.
import { useState } from 'preact/hooks';
import { api, Bars, ErrorBox, fmt, html, Loading, qs, Table, Unavailable, useApi } from '../lib.js';

const isRowList = (v) => Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === 'object' && !Array.isArray(x));
const isNumberMap = (v) => v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && Object.values(v).every((x) => typeof x === 'number');

/** Renders any JSON answer: row lists as tables, name → number maps as bars, the rest as fields. */
export function JsonView({ value, title }) {
  if (isRowList(value)) {
    const keys = [...new Set(value.flatMap((r) => Object.keys(r)))];
    return html`${title && html`<h3>${title}</h3>`}<${Table} rows=${value} columns=${keys.map((k) => ({ key: k, label: k, num: value.every((r) => typeof r[k] === 'number' || r[k] == null), render: (r) => (typeof r[k] === 'number' ? fmt.num(r[k], Number.isInteger(r[k]) ? 0 : 4) : r[k] && typeof r[k] === 'object' ? html`<code>${fmt.json(r[k]).slice(0, 160)}</code>` : r[k] ?? '–') }))} />`;
  }
  if (isNumberMap(value)) return html`${title && html`<h3>${title}</h3>`}<${Bars} items=${Object.entries(value).map(([label, v]) => ({ label, value: v }))} format=${(v) => fmt.num(v, 4)} />`;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const scalars = Object.entries(value).filter(([, v]) => v === null || typeof v !== 'object');
    const nested = Object.entries(value).filter(([, v]) => v !== null && typeof v === 'object');
    return html`${title && html`<h3>${title}</h3>`}
      ${scalars.length > 0 && html`<p>${scalars.map(([k, v]) => html`<span class="pill" style="margin-right:.4rem">${k}: ${typeof v === 'number' ? fmt.num(v, Number.isInteger(v) ? 0 : 4) : String(v)}</span>`)}</p>`}
      ${nested.map(([k, v]) => html`<${JsonView} value=${v} title=${k} />`)}`;
  }
  return html`${title && html`<h3>${title}</h3>`}<p><code>${fmt.json(value)}</code></p>`;
}

function Jobs({ tick }) {
  const jobs = useApi(`/api/v1/jobs${qs({ size: 100 })}`, [tick]);
  const mine = (jobs.data || []).filter((j) => j.queue.startsWith('recommendations'));
  return html`<section class="card" aria-labelledby="rjobs-h"><h2 id="rjobs-h">Retraining jobs</h2>
    <${ErrorBox} error=${jobs.error} />
    <${Table} rows=${mine} empty="No recommendation jobs among the latest 100 jobs." columns=${[
      { label: 'Job', render: (j) => html`<code title=${j.id}>${j.id.slice(0, 8)}</code>` },
      { key: 'queue', label: 'Queue' },
      { key: 'state', label: 'State' },
      { label: 'Result', render: (j) => (j.result ? html`<code>${fmt.json(j.result).slice(0, 200)}</code>` : j.error ? fmt.json(j.error).slice(0, 160) : '–') },
      { label: 'Created', render: (j) => fmt.time(j.created_at) },
      { label: 'Completed', render: (j) => fmt.time(j.completed_at) },
    ]} />
  </section>`;
}

export function RecommendationsPage({ me }) {
  const evaluation = useApi('/api/v1/recommendations/evaluation');
  const [tick, setTick] = useState(0);
  const [error, setError] = useState(null);
  const [started, setStarted] = useState(null);
  if (evaluation.error?.status === 404) return html`<h1>Recommendations</h1><${Unavailable} what="Recommendations" />`;
  async function retrain() {
    setError(null);
    setStarted(null);
    try {
      const r = await api('POST', '/api/v1/recommendations/train');
      setStarted(r.body);
      setTick((t) => t + 1);
    } catch (err) {
      setError(err);
    }
  }
  return html`<h1>Recommendations</h1>
    <section class="card" aria-labelledby="reval-h"><h2 id="reval-h">Offline evaluation (against popularity) and the strategy bandit</h2>
      <${ErrorBox} error=${evaluation.error} /><${Loading} when=${evaluation.loading && !evaluation.data} />
      ${evaluation.data && html`<${JsonView} value=${evaluation.data} />`}
    </section>
    ${me.role === 'admin' && html`<section class="card"><h2>Retrain</h2><div class="row"><button onClick=${retrain}>Retrain now</button>${started && html`<span class="ok" role="status">Started: <code>${fmt.json(started).slice(0, 160)}</code></span>`}</div><${ErrorBox} error=${error} /></section>`}
    <${Jobs} tick=${tick} />`;
}
