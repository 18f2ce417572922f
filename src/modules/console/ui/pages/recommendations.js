// Recommendations (seed 004, issue 15): the offline evaluation of the three strategies against the
// popularity baseline and the bandit's off-policy values, the strategy bandit's choices over time, the
// model versions (the newest ready one of each kind serves), and the build jobs with a retrain button.
// Every route behind it is admin-only; the module may be absent from this server (not built in, or
// left out by MODULES): its 404 shows "not available", never an error.
import { useEffect, useState } from 'preact/hooks';
import { api, COLORS, ErrorBox, fmt, html, LineChart, Loading, qs, Table, Unavailable, useApi } from '../lib.js';

const ACTIVE = ['created', 'retry', 'active'];
const METRICS = [
  ['precision_at_10', 'Precision@10'],
  ['recall_at_10', 'Recall@10'],
  ['ndcg_at_10', 'NDCG@10'],
  ['coverage', 'Coverage'],
];
const STRATEGY_COLORS = { interaction: COLORS[0], category: COLORS[1], popular: COLORS[2] };
const color = (s, i) => STRATEGY_COLORS[s] ?? COLORS[(i + 3) % COLORS.length];

/** "×1.8" against the popularity baseline's value of the same metric ("–" when it is 0 or absent). */
function lift(v, base) {
  if (base === undefined || base === null || base === 0 || v === null || v === undefined) return '–';
  return `×${fmt.num(v / base, 2)}`;
}

function Evaluation({ data }) {
  const rows = data.rows || [];
  const base = rows.find((r) => r.strategy === 'popular');
  const bandit = data.bandit;
  return html`<p>
      <span class="pill">${data.method}, k = ${data.k}</span> <span class="pill">${data.users_evaluated} users evaluated</span>
      <span class="pill">${data.products} products</span> <span class="pill">${data.interactions} interactions</span>
    </p>
    <${Table} caption="Each user's last interaction held out; the strategies answer from the rest (ratios are against the popularity baseline)." rows=${rows} empty="Nothing to evaluate yet (no user with two interactions)." rowClass=${(r) => (r.strategy === 'popular' ? 'baseline' : '')} columns=${[
      { label: 'Strategy', render: (r) => (r.strategy === 'popular' ? html`${r.strategy} <span class="pill">baseline</span>` : r.strategy) },
      ...METRICS.map(([k, label]) => ({ label, num: true, render: (r) => html`${fmt.num(r[k], 4)}${r.strategy !== 'popular' && base ? html` <span class="note">${lift(r[k], base[k])}</span>` : ''}` })),
      { key: 'users', label: 'Users', num: true },
    ]} />
    ${bandit && html`<h3>The strategy bandit's off-policy values</h3>
      <p class="note">Policy <code>${bandit.policy}</code>: ${bandit.decisions} settled choices, ${bandit.rewarded} rewarded. IPS and SNIPS estimate the reward of always answering with one strategy, from the logged choices and their probabilities.</p>
      <${Table} rows=${bandit.strategies} columns=${[
        { key: 'strategy', label: 'Strategy' },
        { key: 'chosen', label: 'Chosen', num: true },
        { label: 'IPS', num: true, render: (r) => fmt.num(r.ips, 4) },
        { label: 'SNIPS', num: true, render: (r) => fmt.num(r.snips, 4) },
        { label: '95% interval', num: true, render: (r) => (r.ci ? `${fmt.num(r.ci[0], 3)} – ${fmt.num(r.ci[1], 3)}` : '–') },
      ]} />`}`;
}

const BUCKET_LABEL = { minute: 'per minute', hour: 'per hour', day: 'per day' };
function bucketFormat(bucket) {
  if (bucket === 'day') return (x) => new Date(x).toLocaleDateString([], { month: 'short', day: 'numeric' });
  if (bucket === 'hour') return (x) => new Date(x).toLocaleString([], { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return (x) => new Date(x).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * Counts per strategy per bucket (0 where a strategy was not chosen), from the bucket before the first
 * choice of the window to its end: the quiet hours before the bandit's first choice are not drawn.
 */
function choiceSeries(data) {
  const step = data.bucket_seconds * 1000;
  const first = Math.min(...data.rows.map((r) => Date.parse(r.start)));
  const starts = [];
  for (let t = Math.max(Date.parse(data.from), first - step); t < Date.parse(data.to) && starts.length < 2000; t += step) starts.push(t);
  const count = new Map(data.rows.map((r) => [`${Date.parse(r.start)} ${r.strategy}`, r.chosen]));
  const names = [...new Set([...(data.strategies || []), ...data.rows.map((r) => r.strategy)])];
  return names
    .map((s, i) => ({ name: s, color: color(s, i), dash: ['', '7 4', '2 3'][i % 3] || null, points: starts.map((t) => [t, count.get(`${t} ${s}`) ?? 0]) }))
    .filter((s) => s.points.some((p) => p[1] > 0));
}

function totals(data) {
  const by = new Map();
  for (const r of data.rows) {
    const t = by.get(r.strategy) ?? { strategy: r.strategy, chosen: 0, p: 0, rewarded: 0, settled: 0 };
    t.chosen += r.chosen;
    t.p += r.mean_probability * r.chosen;
    t.rewarded += r.rewarded;
    t.settled += r.settled;
    by.set(r.strategy, t);
  }
  const all = [...by.values()].reduce((a, t) => a + t.chosen, 0);
  return [...by.values()].map((t) => ({ ...t, share: all ? t.chosen / all : 0, mean_probability: t.chosen ? t.p / t.chosen : null, mean_reward: t.settled ? t.rewarded / t.settled : null }));
}

function Choices({ tick }) {
  const [bucket, setBucket] = useState('hour');
  const choices = useApi(`/api/v1/recommendations/choices${qs({ bucket })}`, [tick]);
  const d = choices.data;
  return html`<section class="card" aria-labelledby="rchoices-h"><h2 id="rchoices-h">The strategy bandit's choices over time</h2>
    <div class="row"><label>Bucket<select value=${bucket} onChange=${(e) => setBucket(e.currentTarget.value)}>
      ${Object.keys(BUCKET_LABEL).map((b) => html`<option value=${b}>${b}</option>`)}
    </select></label>${d && html`<span class="note">${fmt.time(d.from)} to ${fmt.time(d.to)}; policy <code>${d.policy}</code>; a choice not followed by an interaction within ${d.reward_window_seconds} s is settled with reward 0</span>`}</div>
    <${ErrorBox} error=${choices.error} /><${Loading} when=${choices.loading && !d} />
    ${d && (d.rows.length === 0
      ? html`<p class="note">No choices in this window: the bandit chooses when a recommendation request names a <code>user_id</code>${d.policy === 'off' ? ' (and it is off here: RECOMMENDATIONS_BANDIT=off)' : ''}.</p>`
      : html`<${LineChart} series=${choiceSeries(d)} xTime=${true} xFormat=${bucketFormat(d.bucket)} xLabel=${`time (${BUCKET_LABEL[d.bucket]})`} yLabel="choices" />
        <${Table} caption="In this window, per strategy" rows=${totals(d)} columns=${[
          { label: 'Strategy', render: (t) => html`<span class="legend"><span><i style=${{ background: color(t.strategy, 0) }}></i>${t.strategy}</span></span>` },
          { key: 'chosen', label: 'Chosen', num: true },
          { label: 'Share', num: true, render: (t) => `${fmt.num(t.share * 100, 1)}%` },
          { label: 'Mean probability', num: true, render: (t) => fmt.num(t.mean_probability, 3) },
          { key: 'rewarded', label: 'Rewarded', num: true },
          { key: 'settled', label: 'Settled', num: true },
          { label: 'Mean reward', num: true, render: (t) => fmt.num(t.mean_reward, 3) },
        ]} />
        <details><summary>Every bucket (${d.rows.length} rows)</summary>
          <${Table} rows=${d.rows} columns=${[
            { label: 'Bucket start', render: (r) => fmt.time(r.start) },
            { key: 'strategy', label: 'Strategy' },
            { key: 'chosen', label: 'Chosen', num: true },
            { label: 'Mean probability', num: true, render: (r) => fmt.num(r.mean_probability, 3) },
            { key: 'rewarded', label: 'Rewarded', num: true },
            { key: 'settled', label: 'Settled', num: true },
            { label: 'Mean reward', num: true, render: (r) => fmt.num(r.mean_reward, 3) },
          ]} />
        </details>`)}
  </section>`;
}

function Versions({ tick }) {
  const versions = useApi(`/api/v1/recommendations/versions${qs({ size: 30 })}`, [tick]);
  const rows = versions.data || [];
  // Serving uses the newest ready version of each kind.
  const serving = new Set();
  const seen = new Set();
  for (const v of rows) if (v.status === 'ready' && !seen.has(v.kind)) (seen.add(v.kind), serving.add(v.id));
  const stat = (v, k) => (v.stats && typeof v.stats[k] === 'number' ? v.stats[k] : null);
  return html`<section class="card" aria-labelledby="rversions-h"><h2 id="rversions-h">Model versions</h2>
    <${ErrorBox} error=${versions.error} /><${Loading} when=${versions.loading && !versions.data} />
    <${Table} rows=${rows} empty="No model versions yet: a build makes one category and one interaction version (and refits the bandit)." caption=${versions.total > rows.length ? `The newest ${rows.length} of ${versions.total}` : ''} columns=${[
      { label: 'Version', render: (v) => html`<code>${v.id}</code>${serving.has(v.id) ? html` <span class="pill live">serving</span>` : ''}` },
      { key: 'kind', label: 'Kind' },
      { label: 'Status', render: (v) => html`<span class=${v.status === 'failed' ? 'pill off' : 'pill'}>${v.status}</span>` },
      { label: 'Training', num: true, render: (v) => (v.train_ms === null ? '–' : `${fmt.num(v.train_ms, v.train_ms < 100 ? 1 : 0)} ms`) },
      { label: 'Products', num: true, render: (v) => stat(v, 'products') ?? '–' },
      { label: 'Users', num: true, render: (v) => stat(v, 'users') ?? '–' },
      { label: 'Interactions', num: true, render: (v) => stat(v, 'interactions') ?? '–' },
      { label: 'Clusters / items', num: true, render: (v) => stat(v, 'clusters') ?? stat(v, 'items') ?? stat(v, 'decisions') ?? '–' },
      { label: 'Job', render: (v) => (v.job_id ? html`<code title=${v.job_id}>${v.job_id.slice(0, 8)}</code>` : '–') },
      { label: 'Started', render: (v) => fmt.time(v.started_at) },
      { label: 'Finished', render: (v) => fmt.time(v.finished_at) },
      { label: 'Error', render: (v) => v.error ?? '' },
    ]} />
  </section>`;
}

function Jobs({ tick, onSettled }) {
  const [poll, setPoll] = useState(0);
  const jobs = useApi(`/api/v1/jobs${qs({ queue: 'recommendations.train', size: 20 })}`, [tick, poll]);
  const running = (jobs.data || []).some((j) => ACTIVE.includes(j.state));
  const [wasRunning, setWasRunning] = useState(false);
  useEffect(() => {
    if (running) setWasRunning(true);
    else if (wasRunning) {
      setWasRunning(false);
      onSettled();
    }
    if (!running) return;
    const t = setTimeout(() => setPoll((x) => x + 1), 1000);
    return () => clearTimeout(t);
  }, [running, jobs.data]);
  return html`<section class="card" aria-labelledby="rjobs-h"><h2 id="rjobs-h">Build jobs</h2>
    <${ErrorBox} error=${jobs.error} />
    <${Table} rows=${jobs.data} empty="No build jobs yet (the cron job builds when the data changed; Retrain now forces one)." columns=${[
      { label: 'Job', render: (j) => html`<code title=${j.id}>${j.id.slice(0, 8)}</code>` },
      { label: 'State', render: (j) => html`<span class=${j.state === 'failed' ? 'pill off' : j.state === 'completed' ? 'pill live' : 'pill'}>${j.state}</span>` },
      { label: 'Kind', render: (j) => (j.data?.force ? 'on demand' : 'cron') },
      { label: 'Progress', render: (j) => {
        const p = j.state === 'completed' ? 100 : j.progress ?? 0;
        return html`<div style="min-width:110px"><div class="bar" style=${{ width: `${p}%` }} role="progressbar" aria-valuenow=${p} aria-valuemin="0" aria-valuemax="100" aria-label=${`job ${j.id.slice(0, 8)} progress`}></div><span class="note">${p}%${j.state === 'completed' || !j.progress_note ? '' : ` ${j.progress_note}`}</span></div>`;
      } },
      { label: 'Result', render: (j) => buildResult(j) },
      { label: 'Created', render: (j) => fmt.time(j.created_at) },
      { label: 'Completed', render: (j) => fmt.time(j.completed_at) },
    ]} />
  </section>`;
}

function buildResult(j) {
  const r = j.result;
  if (j.state === 'failed') return html`<span class="error">${typeof j.error === 'string' ? j.error : fmt.json(j.error ?? j.output ?? '').slice(0, 160)}</span>`;
  if (!r) return '–';
  if (r.skipped) return html`<span class="note">skipped: ${r.reason}</span>`;
  if (r.versions) return html`versions ${Object.entries(r.versions).map(([k, id]) => html`<code>${k} ${id}</code> `)}${r.stats ? html`<span class="note">(${r.stats.products} products, ${r.stats.users} users, ${r.stats.interactions} interactions)</span>` : ''}`;
  return html`<code>${fmt.json(r).slice(0, 160)}</code>`;
}

export function RecommendationsPage({ me }) {
  const [tick, setTick] = useState(0);
  const evaluation = useApi(me.role === 'admin' ? '/api/v1/recommendations/evaluation' : null, [tick]);
  const [error, setError] = useState(null);
  const [started, setStarted] = useState(null);
  if (evaluation.error?.status === 404) return html`<h1>Recommendations</h1><${Unavailable} what="Recommendations" />`;
  if (me.role !== 'admin') return html`<h1>Recommendations</h1><section class="card"><p class="note">The recommendation models, their evaluation and the strategy bandit's choices are for admins (the API answers 403 to other accounts).</p></section>`;
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
    <section class="card" aria-labelledby="reval-h"><h2 id="reval-h">Offline evaluation against popularity</h2>
      <${ErrorBox} error=${evaluation.error} /><${Loading} when=${evaluation.loading && !evaluation.data} />
      ${evaluation.data && html`<${Evaluation} data=${evaluation.data} />`}
    </section>
    <${Choices} tick=${tick} />
    <section class="card"><h2>Retrain</h2><div class="row"><button onClick=${retrain}>Retrain now</button>${started && html`<span class="ok" role="status">${started.job_id ? html`Build <code>${started.job_id.slice(0, 8)}</code> ${started.status}` : started.status}</span>`}</div><${ErrorBox} error=${error} /></section>
    <${Versions} tick=${tick} />
    <${Jobs} tick=${tick} onSettled=${() => setTick((t) => t + 1)} />`;
}
