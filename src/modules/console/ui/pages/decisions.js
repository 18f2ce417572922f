// Decisions (seed 000): per problem, reward over time per policy version, the chosen-action
// probabilities against the clip bounds, how many decisions fell back or hit the budget, the last
// off-policy evaluation (IPS / SNIPS / DR), and the export. Admins only, as the API.
import { useEffect, useState } from 'preact/hooks';
import { api, authFetch, download, ErrorBox, fmt, Histogram, html, LineChart, Loading, qs, Table, Unavailable, useApi } from '../lib.js';

const EXPORT_CAP = 20_000;

/** The problem's decisions from the export (JSON lines), the first EXPORT_CAP of them. */
function useDecisions(problem) {
  const [state, setState] = useState({ rows: null, capped: false, error: null });
  useEffect(() => {
    if (!problem) return;
    const ctl = new AbortController();
    setState({ rows: null, capped: false, error: null });
    (async () => {
      try {
        const res = await authFetch(`/api/v1/decisions/export${qs({ problem: String(problem.id), format: 'jsonl' })}`, { signal: ctl.signal });
        if (!res.ok) throw Object.assign(new Error((await res.json().catch(() => ({}))).detail || String(res.status)), { status: res.status });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const rows = [];
        let buf = '';
        let capped = false;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          const lines = buf.split('\n');
          buf = lines.pop();
          for (const l of lines) if (l.trim()) rows.push(JSON.parse(l));
          if (rows.length >= EXPORT_CAP) {
            capped = true;
            ctl.abort();
            break;
          }
        }
        if (buf.trim() && !capped) rows.push(JSON.parse(buf));
        setState({ rows: rows.slice(0, EXPORT_CAP), capped, error: null });
      } catch (error) {
        if (!ctl.signal.aborted) setState({ rows: null, capped: false, error });
      }
    })();
    return () => ctl.abort();
  }, [problem?.id]);
  return state;
}

/** Running mean reward per policy version over client time. */
export function rewardSeries(rows) {
  const byVersion = new Map();
  for (const r of rows.filter((r) => r.reward !== null && r.reward !== undefined).sort((a, b) => a.client_timestamp.localeCompare(b.client_timestamp))) {
    let s = byVersion.get(r.policy_version_id);
    if (!s) byVersion.set(r.policy_version_id, (s = { n: 0, sum: 0, points: [] }));
    s.n++;
    s.sum += Number(r.reward);
    s.points.push([Date.parse(r.client_timestamp), s.sum / s.n]);
  }
  return [...byVersion.entries()].sort((a, b) => a[0] - b[0]).map(([id, s]) => ({ name: `policy version #${id} (${s.n} rewarded)`, points: s.points }));
}

function Evaluation({ problem }) {
  const [tick, setTick] = useState(0);
  const jobs = useApi(`/api/v1/jobs${qs({ queue: 'decisions.evaluate', size: 50 })}`, [tick]);
  const [error, setError] = useState(null);
  const mine = (jobs.data || []).filter((j) => j.data?.problem_id === problem.id);
  const pending = mine.find((j) => ['created', 'retry', 'active'].includes(j.state));
  const last = mine.find((j) => j.state === 'completed' && j.result);
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(() => setTick((x) => x + 1), 1000);
    return () => clearTimeout(t);
  }, [pending?.id, jobs.data]);
  async function run() {
    setError(null);
    try {
      await api('POST', `/api/v1/problems/${problem.id}/evaluate`, { candidates: [{ kind: 'thompson' }, { kind: 'linucb' }, { kind: 'epsilon_greedy', epsilon: 0.1 }] });
      setTick((x) => x + 1);
    } catch (err) {
      setError(err);
    }
  }
  const est = (e) => (e ? html`${fmt.num(e.value)} <span class="note">[${fmt.num(e.ci?.[0])}, ${fmt.num(e.ci?.[1])}]</span>` : '–');
  return html`<section class="card" aria-labelledby="eval-h"><h2 id="eval-h">Last off-policy evaluation</h2>
    <div class="row"><button onClick=${run} disabled=${Boolean(pending)}>${pending ? 'Evaluating…' : 'Evaluate thompson, linucb, ε-greedy'}</button></div>
    <${ErrorBox} error=${jobs.error || error} />
    ${last ? html`<p class="note">Job ${last.id.slice(0, 8)}, ${fmt.time(last.completed_at)}: fitted on ${last.result.n_train}, scored on ${last.result.n_test} of ${last.result.n_logged} logged decisions; ${Math.round(last.result.level * 100)}% intervals.</p>
      <${Table} rows=${last.result.estimates} columns=${[
        { label: 'Policy', render: (e) => html`${e.name}${e.policy_version ? ` (version ${e.policy_version})` : ''}${e.note ? html`<br /><span class="note">${e.note}</span>` : ''}` },
        { label: 'IPS', num: true, render: (e) => est(e.ips) },
        { label: 'SNIPS', num: true, render: (e) => est(e.snips) },
        { label: 'DR', num: true, render: (e) => est(e.dr) },
        { label: 'ESS', num: true, render: (e) => fmt.num(e.ips?.ess, 1) },
      ]} />` : html`<p class="note">${last === undefined && !jobs.loading ? 'No evaluation yet (it needs 20 rewarded decisions).' : ''}</p>`}
    ${mine[0]?.state === 'failed' && html`<div class="error">The latest evaluation failed: ${fmt.json(mine[0].error).slice(0, 300)}</div>`}
  </section>`;
}

function Problem({ problem }) {
  const d = useDecisions(problem);
  const versions = useApi(`/api/v1/problems/${problem.id}/versions`, [problem.id]);
  const [error, setError] = useState(null);
  const clip = problem.config.clip || {};
  const counts = { policy: 0, fallback: 0, budget: 0 };
  for (const r of d.rows || []) counts[r.decided_by] = (counts[r.decided_by] || 0) + 1;
  async function exportAs(format) {
    setError(null);
    try {
      await download(`/api/v1/decisions/export${qs({ problem: String(problem.id), format })}`, `decisions-${problem.name}.${format}`);
    } catch (err) {
      setError(err);
    }
  }
  return html`<div>
    <section class="card"><h2>${problem.name} <span class="note">live version ${problem.live_version}, policy ${problem.config.policy?.kind}, clip [${clip.p_min}, ${clip.p_max}]</span></h2>
      <div class="row"><button onClick=${() => exportAs('csv')}>Export CSV</button><button class="secondary" onClick=${() => exportAs('jsonl')}>Export JSON lines</button></div>
      <${ErrorBox} error=${error || d.error} /><${Loading} when=${!d.rows && !d.error} />
      ${d.rows && html`<p data-testid="decision-counts">${d.rows.length}${d.capped ? '+' : ''} decisions: <strong>${counts.policy}</strong> by the policy, <strong>${counts.fallback}</strong> fallback, <strong>${counts.budget}</strong> budget.</p>`}
    </section>
    ${d.rows && html`<div class="grid">
      <section class="card"><h2>Reward over time per policy version</h2><${LineChart} xTime=${true} xLabel="client time" yLabel="running mean reward" series=${rewardSeries(d.rows)} /></section>
      <section class="card"><h2>Selection probabilities and the clip bounds</h2><${Histogram} values=${d.rows.flatMap((r) => r.probabilities || [])} marks=${[{ x: clip.p_min, label: 'p_min' }, { x: clip.p_max, label: 'p_max' }]} label="every action's probability at each decision (dashed: the clip bounds)" /></section>
    </div>`}
    <${Evaluation} problem=${problem} />
    <section class="card"><h2>Policy versions</h2><${ErrorBox} error=${versions.error} />
      <${Table} rows=${versions.data} columns=${[{ key: 'version', label: 'Version', num: true }, { label: 'Live', render: (v) => (v.live ? html`<span class="pill live">live</span>` : '') }, { label: 'Policy', render: (v) => fmt.json(v.policy) }, { key: 'n_observations', label: 'Observations', num: true }, { label: 'Data until', render: (v) => fmt.time(v.data_until) }, { label: 'Built', render: (v) => fmt.time(v.created_at) }]} />
    </section>
  </div>`;
}

export function DecisionsPage({ me }) {
  const problems = useApi(me.role === 'admin' ? '/api/v1/problems?size=100' : null);
  const [picked, setPicked] = useState(null);
  if (me.role !== 'admin') return html`<h1>Decisions</h1><section class="card"><p class="note">Decision problems, their policies, evaluation and export are for admins (the API answers 403 to other accounts).</p></section>`;
  if (problems.error?.status === 404) return html`<${Unavailable} what="Decisions" />`;
  const list = problems.data || [];
  const problem = list.find((p) => p.id === picked) || list[0];
  return html`<h1>Decisions</h1>
    <${ErrorBox} error=${problems.error} /><${Loading} when=${problems.loading && !problems.data} />
    ${list.length > 1 && html`<label>Problem<select onChange=${(e) => setPicked(Number(e.currentTarget.value))}>${list.map((p) => html`<option value=${p.id} selected=${p === problem}>${p.name}</option>`)}</select></label>`}
    ${problem && html`<${Problem} problem=${problem} key=${problem.id} />`}`;
}
