// Models (seed 003): the registry's versions with their cv scores, a side-by-side comparison of two or
// more versions (metrics, confusion matrices, feature importances), training jobs with progress and
// cancel, training, and dataset upload.
import { useEffect, useState } from 'preact/hooks';
import { api, Bars, ErrorBox, fmt, html, Loading, qs, Table, Unavailable, useApi } from '../lib.js';

const ACTIVE = ['created', 'retry', 'active'];

function Matrix({ matrix, classes }) {
  if (!matrix) return html`<p class="note">No confusion matrix.</p>`;
  const max = Math.max(...matrix.flat(), 1);
  return html`<div class="scroll"><table class="matrix" aria-label="confusion matrix: rows are true classes, columns predicted">
    <thead><tr><th scope="col">true \\ predicted</th>${matrix.map((_, j) => html`<th scope="col">${classes?.[j] ?? j}</th>`)}</tr></thead>
    <tbody>${matrix.map((row, i) => html`<tr><th scope="row">${classes?.[i] ?? i}</th>${row.map((v, j) => html`<td style=${{ background: `rgba(${i === j ? '47,93,138' : '180,35,24'},${(0.1 + (0.6 * v) / max).toFixed(2)})`, color: v / max > 0.6 ? '#fff' : 'inherit' }}>${v}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

function Compare({ picks, classesOf }) {
  const ids = picks.join(',');
  const cmp = useApi(picks.length >= 2 ? `/api/v1/models/compare${qs({ ids })}` : null, [ids]);
  if (picks.length < 2) return html`<p class="note">Tick two or more versions above to compare them side by side.</p>`;
  if (cmp.error) return html`<${ErrorBox} error=${cmp.error} />`;
  if (!cmp.data) return html`<${Loading} when=${true} />`;
  const vs = cmp.data.versions;
  const best = cmp.data.best;
  const label = (v) => `model ${v.model_id} v${v.version}`;
  const rows = [
    ['algorithm', (v) => v.algorithm],
    ['dataset', (v) => v.dataset_id ?? '–'],
    ['best params', (v) => fmt.json(v.best_params)],
    [`cv score (${vs[0]?.scoring ?? 'accuracy'}, ${vs[0]?.cv ?? ''} folds)`, (v) => fmt.num(v.best_score)],
    ['held-out accuracy', (v) => fmt.num(v.heldout_accuracy)],
    ['held-out macro F1', (v) => fmt.num(v.heldout_f1_macro)],
    ['training accuracy', (v) => fmt.num(v.training_accuracy)],
    ['training time', (v) => `${v.training_ms} ms`],
  ];
  return html`<div data-testid="comparison">
    <p>Best by ${best?.by?.replace('_', ' ')}: <strong>${best ? `model ${best.model_id} v${best.version}` : '–'}</strong></p>
    <div class="scroll"><table>
      <thead><tr><th scope="col">metric</th>${vs.map((v) => html`<th scope="col" class="num">${label(v)}</th>`)}</tr></thead>
      <tbody>${rows.map(([name, f]) => html`<tr><th scope="row">${name}</th>${vs.map((v) => html`<td class="num">${f(v)}</td>`)}</tr>`)}</tbody>
    </table></div>
    <div class="grid">${vs.map((v) => html`<section class="card"><h2>${label(v)}</h2>
      <h3 class="note">Confusion matrix (out-of-fold)</h3><${Matrix} matrix=${v.confusion_matrix} classes=${classesOf(v.dataset_id)} />
      <h3 class="note">Feature importances</h3><${Bars} items=${Object.entries(v.feature_importances || {}).sort((a, b) => b[1] - a[1]).map(([label, value]) => ({ label, value }))} />
    </section>`)}</div>
  </div>`;
}

function Versions({ model, picks, toggle, me, onChanged }) {
  const vs = useApi(`/api/v1/models/${model.id}/versions`, [model.active_version, model.versions]);
  const [error, setError] = useState(null);
  async function activate(v) {
    setError(null);
    try {
      await api('POST', `/api/v1/models/${model.id}/activate`, { version: v.version });
      onChanged();
    } catch (err) {
      setError(err);
    }
  }
  const mayChange = me.role === 'admin' || String(me.user_id) === String(model.owner_user_id);
  return html`<${ErrorBox} error=${vs.error || error} /><${Table} rows=${vs.data} columns=${[
    { label: 'Compare', render: (v) => html`<input type="checkbox" aria-label=${`compare model ${model.id} version ${v.version}`} checked=${picks.includes(`${model.id}:${v.version}`)} onChange=${() => toggle(`${model.id}:${v.version}`)} />` },
    { key: 'version', label: 'Version', num: true },
    { label: 'Best params', render: (v) => html`<code>${fmt.json(v.best_params)}</code>` },
    { label: 'cv score', num: true, render: (v) => `${fmt.num(v.best_score)} ± ${fmt.num(v.cv_results?.std_test_score?.[(v.cv_results?.rank_test_score || []).indexOf(1)] ?? null)}` },
    { label: 'Held-out acc.', num: true, render: (v) => fmt.num(v.metrics?.accuracy) },
    { label: 'Macro F1', num: true, render: (v) => fmt.num(v.metrics?.f1_macro) },
    { label: 'Candidates', num: true, render: (v) => v.cv_results?.params?.length ?? '–' },
    { key: 'dataset_id', label: 'Dataset' },
    { label: 'Trained', render: (v) => fmt.time(v.created_at) },
    { label: 'Active', render: (v) => (v.version === model.active_version ? html`<span class="pill live">active</span>` : mayChange ? html`<button class="secondary" onClick=${() => activate(v)}>Activate</button>` : '') },
  ]} />`;
}

function Jobs({ refreshKey }) {
  const [tick, setTick] = useState(0);
  const jobs = useApi(`/api/v1/jobs${qs({ queue: 'models.train', size: 20 })}`, [tick, refreshKey]);
  const [error, setError] = useState(null);
  const running = (jobs.data || []).some((j) => ACTIVE.includes(j.state));
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(() => setTick((x) => x + 1), 1000);
    return () => clearTimeout(t);
  }, [running, jobs.data]);
  async function cancel(j) {
    setError(null);
    try {
      await api('POST', `/api/v1/jobs/${j.id}/cancel`);
      setTick((x) => x + 1);
    } catch (err) {
      setError(err);
    }
  }
  return html`<section class="card" aria-labelledby="jobs-h"><h2 id="jobs-h">Training jobs</h2>
    <${ErrorBox} error=${jobs.error || error} />
    <${Table} empty="No training jobs (trainings with async: true run as jobs)." rows=${jobs.data} columns=${[
      { label: 'Job', render: (j) => html`<code title=${j.id}>${j.id.slice(0, 8)}</code>` },
      { label: 'Algorithm', render: (j) => j.data?.body?.algorithm ?? '–' },
      { label: 'Dataset', render: (j) => j.data?.body?.dataset ?? '–' },
      { key: 'state', label: 'State' },
      { label: 'Progress', render: (j) => html`<div style="min-width:120px"><div class="bar" style=${{ width: `${j.progress ?? 0}%` }} role="progressbar" aria-valuenow=${j.progress ?? 0} aria-valuemin="0" aria-valuemax="100" aria-label=${`job ${j.id.slice(0, 8)} progress`}></div><span class="note">${j.progress ?? 0}% ${j.progress_note ?? ''}</span></div>` },
      { label: 'Result', render: (j) => (j.result ? `model ${j.result.model_id} v${j.result.version}, cv ${fmt.num(j.result.best_score)}` : j.error ? fmt.json(j.error).slice(0, 120) : '–') },
      { label: '', render: (j) => (ACTIVE.includes(j.state) ? html`<button class="danger" onClick=${() => cancel(j)}>Cancel</button>` : '') },
    ]} />
  </section>`;
}

function Train({ datasets, onStarted }) {
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  async function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setError(null);
    setDone(null);
    let grid;
    try {
      grid = f.get('grid').trim() ? JSON.parse(f.get('grid')) : undefined;
    } catch (err) {
      return setError({ message: `parameter grid: not JSON (${err.message})` });
    }
    try {
      const body = { algorithm: f.get('algorithm'), dataset: f.get('dataset'), async: true, ...(grid ? { param_grid: grid } : {}) };
      const r = await api('POST', '/train', body);
      setDone(`Training started: job ${r.body.job_id.slice(0, 8)}`);
      onStarted();
    } catch (err) {
      setError(err);
    }
  }
  return html`<form class="inline" onSubmit=${submit} aria-label="Train a model">
    <label>Algorithm<select name="algorithm"><option>decision_tree</option><option>random_forest</option></select></label>
    <label>Dataset<select name="dataset">${(datasets || []).map((d) => html`<option value=${d.id}>${d.id}</option>`)}</select></label>
    <label style="flex:1 1 240px">Parameter grid (JSON, empty = the default grid)<input name="grid" placeholder='{"max_depth": [2, 3, 5]}' /></label>
    <button type="submit">Train</button>
    ${done && html`<span class="ok" role="status">${done}</span>`}
    <div style="width:100%"><${ErrorBox} error=${error} /></div>
  </form>`;
}

function Upload({ onUploaded }) {
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  async function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const file = f.get('file');
    setError(null);
    setDone(null);
    if (!file || !file.size) return setError({ message: 'choose a CSV file' });
    try {
      const r = await api('POST', `/api/v1/datasets${qs({ name: f.get('name') || file.name, label: f.get('label') })}`, await file.text(), { contentType: 'text/csv' });
      setDone(`Stored ${r.body.id}: ${r.body.n_rows} rows, ${r.body.feature_names.length} features, classes ${r.body.class_names.join(', ')}`);
      onUploaded();
    } catch (err) {
      setError(err);
    }
  }
  return html`<form class="inline" onSubmit=${submit} aria-label="Upload a dataset">
    <label>CSV file (header row)<input type="file" name="file" accept=".csv,text/csv" /></label>
    <label>Name<input name="name" /></label>
    <label>Label column (default: the last)<input name="label" /></label>
    <button type="submit">Upload</button>
    ${done && html`<span class="ok" role="status">${done}</span>`}
    <div style="width:100%"><${ErrorBox} error=${error} /></div>
  </form>`;
}

export function ModelsPage({ me }) {
  const models = useApi('/api/v1/models?size=100');
  const datasets = useApi('/api/v1/datasets?size=100');
  const [picks, setPicks] = useState([]);
  const [jobsKey, setJobsKey] = useState(0);
  if (models.error?.status === 404) return html`<${Unavailable} what="Models" />`;
  const toggle = (id) => setPicks((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-10)));
  const classesOf = (datasetId) => (datasets.data || []).find((d) => d.id === datasetId)?.class_names;
  return html`<h1>Models</h1>
    <section class="card" aria-labelledby="versions-h"><h2 id="versions-h">Models and versions</h2>
      <${ErrorBox} error=${models.error} /><${Loading} when=${models.loading && !models.data} />
      ${models.data && !models.data.length && html`<p class="note">No models yet: train one below.</p>`}
      ${(models.data || []).map((m) => html`<div key=${m.id}><h3>Model ${m.id}: ${m.name} <span class="note">${m.algorithm}, owner ${m.owner_user_id}, ${m.versions} version${m.versions === 1 ? '' : 's'}</span></h3>
        <${Versions} model=${m} picks=${picks} toggle=${toggle} me=${me} onChanged=${models.reload} /></div>`)}
    </section>
    <section class="card" aria-labelledby="cmp-h"><h2 id="cmp-h">Comparison</h2><${Compare} picks=${picks} classesOf=${classesOf} /></section>
    <section class="card" aria-labelledby="train-h"><h2 id="train-h">Train</h2><${Train} datasets=${datasets.data} onStarted=${() => { setJobsKey((k) => k + 1); setTimeout(models.reload, 1500); }} /></section>
    <${Jobs} refreshKey=${jobsKey} />
    <section class="card" aria-labelledby="ds-h"><h2 id="ds-h">Datasets</h2>
      <${Upload} onUploaded=${datasets.reload} />
      <${ErrorBox} error=${datasets.error} />
      <${Table} rows=${datasets.data} columns=${[{ key: 'id', label: 'Id' }, { key: 'name', label: 'Name' }, { key: 'n_rows', label: 'Rows', num: true }, { key: 'n_features', label: 'Features', num: true }, { key: 'label_column', label: 'Label' }, { label: 'Classes', render: (d) => d.class_names.join(', ') }, { label: 'Owner', render: (d) => (d.builtin ? 'shipped' : d.owner_user_id) }]} />
    </section>`;
}
