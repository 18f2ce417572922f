// Seed 003 through HTTP: /train with the seed's defaults (compared with scikit-learn's GridSearchCV
// on iris, src/ml/fixtures/grid-iris.json from scripts/sklearn-reference.py), /predict in its three
// input forms, /status, the registry (versions, activate, delete, compare, algos), datasets, training
// jobs (progress, cancel), access and bad input. Embedded PGlite by default, PostgreSQL with DATABASE_URL.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders, createAccount } from './helpers/auth.ts';
import { checkScenario, runScenarios, type Scenario } from './helpers/scenarios.ts';

const sk = JSON.parse(readFileSync(new URL('../src/ml/fixtures/grid-iris.json', import.meta.url), 'utf8'));

let ctx: TestApp;
let user: Record<string, string>;
let other: Record<string, string>;
let admin: Record<string, string>;

before(async () => {
  ctx = await startTestApp({ jobs: { pollMs: 500 } });
  user = await authHeaders(ctx, 'user');
  admin = await authHeaders(ctx, 'admin');
  other = (await createAccount(ctx, 'user')).headers;
});
after(async () => ctx?.close());

/** The id of the user's model with this name. */
async function modelId(name: string, headers = user): Promise<number> {
  const list = await ctx.request('GET', '/api/v1/models?size=100&mine=true', { headers });
  const m = list.body.find((x: { name: string }) => x.name === name);
  assert.ok(m, `model ${name}`);
  return m.id;
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('before any training', () => {
  test('/status says not trained; /predict answers 409 naming the problem', async () => {
    await checkScenario(ctx, { name: 'status', method: 'GET', url: '/status', headers: user, status: 200, contains: { is_trained: false, model_algorithm: null, best_params: null, training_accuracy: null } });
    await checkScenario(ctx, { name: 'predict', method: 'POST', url: '/predict', headers: user, body: { input: [5.1, 3.5, 1.4, 0.2] }, status: 409, detail: 'no model has been trained yet' });
  });
});

describe('seed 003 train / predict / status', () => {
  test("the seed's client flow: /request_token, then /train, /predict, /status with that token; errors as the seed", async () => {
    const acct = await createAccount(ctx, 'user');
    const tok = await ctx.request('POST', '/request_token', { body: { username: acct.email, password: acct.password } });
    assert.equal(tok.status, 200, tok.text);
    const bearer = { authorization: `Bearer ${tok.body.token}` };
    const trained = await ctx.request('POST', '/train', { headers: bearer, body: { algorithm: 'decision_tree', params: { max_depth: [2, 3] }, name: 'seed-flow' } });
    assert.equal(trained.status, 200, trained.text);
    const predicted = await ctx.request('POST', '/predict', { headers: bearer, body: { input: [5.1, 3.5, 1.4, 0.2] } });
    assert.equal(predicted.body.prediction, 0);
    assert.equal((await ctx.request('GET', '/status', { headers: bearer })).body.is_trained, true);
    await checkScenario(ctx, { name: 'missing header', method: 'GET', url: '/status', status: 401, detail: 'Not authenticated' });
    await checkScenario(ctx, { name: 'invalid token', method: 'GET', url: '/status', headers: { authorization: 'Bearer x.y.z' }, status: 401, detail: 'Failed to validate' });
  });

  test('decision tree with the default grid on iris matches scikit-learn', async () => {
    const res = await ctx.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree' } });
    assert.equal(res.status, 200, res.text);
    const b = res.body;
    assert.equal(typeof b.message, 'string');
    assert.deepEqual(b.best_params, sk.decision_tree['0'].best_params);
    assert.ok(Math.abs(b.best_score - sk.decision_tree['0'].best_score) <= 0.02, `best_score ${b.best_score}`);
    assert.equal(b.cv_results.params.length, 8);
    for (const k of ['mean_test_score', 'std_test_score', 'rank_test_score', 'mean_fit_time', 'std_fit_time']) assert.equal(b.cv_results[k].length, 8, k);
    assert.ok(b.cv_results.mean_fit_time.every((t: number | null) => typeof t === 'number' && t >= 0));
    assert.ok(b.training_accuracy > 0.95 && b.training_accuracy <= 1);
    assert.equal(b.version, 1);
    assert.equal(b.metrics.confusion_matrix.length, 3);
    assert.equal(b.metrics.confusion_matrix.flat().reduce((a: number, c: number) => a + c, 0), 150);
  });

  test('random forest with the default grid on iris: best score within 0.02 of scikit-learn', async () => {
    const res = await ctx.request('POST', '/train', { headers: user, body: { algorithm: 'random_forest' } });
    assert.equal(res.status, 200, res.text);
    const skBest = Math.max(...Object.values(sk.random_forest as Record<string, { best_score: number }>).map((r) => r.best_score));
    const skWorst = Math.min(...Object.values(sk.random_forest as Record<string, { best_score: number }>).map((r) => r.best_score));
    assert.ok(res.body.best_score >= skWorst - 0.02 && res.body.best_score <= skBest + 0.02, `best_score ${res.body.best_score} vs sklearn ${skWorst}..${skBest}`);
    assert.equal(res.body.cv_results.params.length, 12);
    const status = await ctx.request('GET', '/status', { headers: user });
    assert.equal(status.status, 200);
    assert.equal(status.body.is_trained, true);
    assert.equal(status.body.model_algorithm, 'random_forest');
    assert.deepEqual(status.body.best_params, res.body.best_params);
    assert.equal(status.body.training_accuracy, res.body.training_accuracy);
    assert.equal(status.body.dataset, 'iris');
    assert.equal(status.body.version, 1);
  });

  test('params and param_grid, single values and lists', async () => {
    const a = await ctx.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree', params: { max_depth: 3, criterion: 'gini' }, name: 'dt-single' } });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.body.best_params, { criterion: 'gini', max_depth: 3 });
    const b = await ctx.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree', param_grid: { max_depth: [1, 3] }, name: 'dt-single' } });
    assert.equal(b.status, 200, b.text);
    assert.equal(b.body.version, 2);
    assert.equal(b.body.cv_results.params.length, 2);
  });

  test('a Python client sending None for unset fields gets the defaults', async () => {
    const res = await ctx.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree', params: null, param_grid: null, dataset: null, cv: null, name: 'from-python' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.cv_results.params.length, 8);
    assert.equal(res.body.dataset, 'iris');
  });

  test('/predict: the seed body, a batch, an object keyed by feature name', async () => {
    const one = await ctx.request('POST', '/predict', { headers: user, body: { input: [5.1, 3.5, 1.4, 0.2] } });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.prediction, 0);
    assert.equal(one.body.class_name, 'setosa');
    const sum = Object.values(one.body.probabilities as Record<string, number>).reduce((a, c) => a + c, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
    const batch = await ctx.request('POST', '/predict', { headers: user, body: { input: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] } });
    assert.equal(batch.status, 200, batch.text);
    assert.deepEqual(batch.body.map((p: { class_name: string }) => p.class_name), ['setosa', 'virginica']);
    const named = await ctx.request('POST', '/predict', { headers: user, body: { input: { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 } } });
    assert.equal(named.status, 200, named.text);
    assert.equal(named.body.class_name, 'virginica');
  });

  test("the active model is the caller's own: another user's training never answers for them", async () => {
    const mallory = (await createAccount(ctx, 'user')).headers;
    // Someone else's models exist, but this user has trained none.
    const none = await ctx.request('GET', '/status', { headers: mallory });
    assert.equal(none.body.is_trained, false);
    const refused = await ctx.request('POST', '/predict', { headers: mallory, body: { input: [5.1, 3.5, 1.4, 0.2] } });
    assert.equal(refused.status, 409, refused.text);
    const mine = await ctx.request('POST', '/train', { headers: mallory, body: { algorithm: 'decision_tree', params: { max_depth: 1 }, name: 'mallory-stump' } });
    assert.equal(mine.status, 200, mine.text);
    const userModel = await ctx.request('GET', '/status', { headers: user });
    assert.notEqual(userModel.body.model_id, mine.body.model_id, "the other user's /status did not move to this training");
    const own = await ctx.request('POST', '/predict', { headers: mallory, body: { input: [5.1, 3.5, 1.4, 0.2] } });
    assert.equal(own.body.model_id, mine.body.model_id);
    // A shared registry: a version named by model_id still answers for anyone.
    const named = await ctx.request('POST', '/predict', { headers: mallory, body: { input: [5.1, 3.5, 1.4, 0.2], model_id: userModel.body.model_id } });
    assert.equal(named.status, 200, named.text);
    assert.equal(named.body.model_id, userModel.body.model_id);
  });

  test('an API key predicts and reads the status', async () => {
    const service = await authHeaders(ctx, 'service');
    await checkScenario(ctx, { name: 'predict', method: 'POST', url: '/predict', headers: service, body: { input: [5.1, 3.5, 1.4, 0.2] }, status: 200, contains: { prediction: 0 } });
    await checkScenario(ctx, { name: 'status', method: 'GET', url: '/status', headers: service, status: 200, contains: { is_trained: true } });
  });

  test('a large batch on a forest (worker thread) answers every row', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [4 + (i % 40) / 10, 3, 1 + (i % 60) / 10, (i % 25) / 10]);
    const res = await ctx.request('POST', '/predict', { headers: user, body: { input: rows, model_id: await modelId('random_forest') } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.length, 2000);
  });
});

describe('bad input (the original answered 500)', () => {
  const s = (name: string, url: string, body: unknown, status: number, detail: string): Scenario => ({ name, method: 'POST', url, headers: user, body, status, detail });
  const scenarios = (): Scenario[] => [
    s('unknown algorithm lists the supported ones', '/train', { algorithm: 'svm' }, 400, 'supported: decision_tree, random_forest'),
    s('missing algorithm', '/train', {}, 400, 'algorithm'),
    s('unknown grid parameter', '/train', { algorithm: 'decision_tree', params: { max_dept: [2] } }, 422, 'max_dept'),
    s('invalid grid value', '/train', { algorithm: 'decision_tree', params: { max_depth: [-1] } }, 422, 'maxDepth'),
    s('invalid criterion', '/train', { algorithm: 'decision_tree', params: { criterion: 'bogus' } }, 422, 'criterion'),
    s('nested grid value', '/train', { algorithm: 'decision_tree', params: { max_depth: [[1]] } }, 400, 'params.max_depth'),
    s('huge grid', '/train', { algorithm: 'decision_tree', params: { max_depth: Array.from({ length: 20 }, (_, i) => i + 1), min_samples_leaf: Array.from({ length: 20 }, (_, i) => i + 1) } }, 400, 'candidates'),
    s('too many trees', '/train', { algorithm: 'random_forest', params: { n_estimators: [100000] } }, 422, 'n_estimators'),
    s('n_jobs is the server\'s', '/train', { algorithm: 'random_forest', params: { n_jobs: 64 } }, 400, 'n_jobs'),
    s('both params and param_grid', '/train', { algorithm: 'decision_tree', params: {}, param_grid: { max_depth: 2 } }, 400, 'not both'),
    s('unknown dataset', '/train', { algorithm: 'decision_tree', dataset: 'nope' }, 404, 'dataset "nope" not found'),
    s('more folds than a class has rows', '/train', { algorithm: 'decision_tree', cv: 20, dataset: 'iris', params: { max_depth: 2 } }, 200, ''),
    s('cv out of range', '/train', { algorithm: 'decision_tree', cv: 1 }, 400, 'cv'),
    s('unknown scoring', '/train', { algorithm: 'decision_tree', scoring: 'r2' }, 400, 'scoring'),
    s('wrong feature count', '/predict', { input: [5.1, 3.5, 1.4] }, 400, 'expected 4 features, got 3'),
    s('non-numeric input', '/predict', { input: [5.1, '3.5', 1.4, 0.2] }, 400, 'must be a number'),
    s('input missing', '/predict', {}, 400, 'input'),
    s('input null', '/predict', { input: null }, 400, 'input is required'),
    s('ragged batch', '/predict', { input: [[1, 2, 3, 4], [1, 2]] }, 400, 'input[1]: expected 4 features, got 2'),
    s('unknown feature name', '/predict', { input: { petal: 1 } }, 400, 'unknown feature'),
    s('unknown model', '/predict', { input: [1, 2, 3, 4], model_id: 999 }, 404, 'model 999 not found'),
    s('unknown version', '/predict', { input: [1, 2, 3, 4], model_id: 1, version: 99 }, 404, 'version 99 not found'),
    s('version without model_id', '/predict', { input: [1, 2, 3, 4], version: 1 }, 400, 'model_id'),
    s('model_id out of range', '/predict', { input: [1, 2, 3, 4], model_id: 1e12 }, 400, 'model_id'),
    { name: 'a __proto__ grid key is an unknown parameter', method: 'POST', url: '/train', headers: { ...user, 'content-type': 'application/json' }, rawBody: '{"algorithm": "decision_tree", "params": {"__proto__": [1]}}', status: 422, detail: 'unknown parameter "__proto__"' },
    { name: 'a number too large for a double', method: 'POST', url: '/predict', headers: { ...user, 'content-type': 'application/json' }, rawBody: '{"input": [1e999, 1, 1, 1]}', status: 400 },
  ];
  test('scenarios', async (t) => runScenarios(t, () => ctx, scenarios()));

  test('too many rows in one batch', async () => {
    const rows = Array.from({ length: ctx.config.predictMaxRows + 1 }, () => [1, 2, 3, 4]);
    const res = await ctx.request('POST', '/predict', { headers: user, body: { input: rows } });
    assert.ok(res.status === 413, res.text.slice(0, 200));
  });
});

describe('the registry', () => {
  test('list, get, versions, one version with everything kept', async () => {
    const list = await ctx.request('GET', '/api/v1/models?size=100', { headers: other });
    assert.equal(list.status, 200);
    assert.ok(list.body.length >= 3);
    const dt = list.body.find((m: { name: string }) => m.name === 'dt-single');
    assert.equal(dt.versions, 2);
    assert.equal(dt.active_version, 2);
    const got = await ctx.request('GET', `/api/v1/models/${dt.id}`, { headers: other });
    assert.equal(got.status, 200);
    assert.equal(got.body.active.version, 2);
    const versions = await ctx.request('GET', `/api/v1/models/${dt.id}/versions`, { headers: user });
    assert.deepEqual(versions.body.map((v: { version: number }) => v.version), [2, 1]);
    const v1 = await ctx.request('GET', `/api/v1/models/${dt.id}/versions/1`, { headers: user });
    for (const k of ['algorithm', 'param_grid', 'best_params', 'cv_results', 'metrics', 'feature_importances', 'dataset_id', 'dataset_hash', 'seed', 'training_ms', 'library_version']) assert.ok(v1.body[k] !== undefined, k);
    assert.match(v1.body.dataset_hash, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(Object.keys(v1.body.feature_importances), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    assert.ok(typeof v1.body.metrics.f1_macro === 'number');
  });

  test('activate a version (rollback): /predict and /status follow; only the owner or an admin', async () => {
    const list = await ctx.request('GET', '/api/v1/models?size=100', { headers: user });
    const dt = list.body.find((m: { name: string }) => m.name === 'dt-single');
    await checkScenario(ctx, { name: 'other user', method: 'POST', url: `/api/v1/models/${dt.id}/activate`, headers: other, body: { version: 1 }, status: 403, detail: 'owner' });
    await checkScenario(ctx, { name: 'unknown version', method: 'POST', url: `/api/v1/models/${dt.id}/activate`, headers: user, body: { version: 9 }, status: 404 });
    await checkScenario(ctx, { name: 'unknown model', method: 'POST', url: '/api/v1/models/9999/activate', headers: user, body: { version: 1 }, status: 404 });
    const res = await ctx.request('POST', `/api/v1/models/${dt.id}/activate`, { headers: user, body: { version: 1 } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.active_version, 1);
    const status = await ctx.request('GET', '/status', { headers: user });
    assert.deepEqual([status.body.model_id, status.body.version], [dt.id, 1]);
    assert.deepEqual(status.body.best_params, { criterion: 'gini', max_depth: 3 });
    const pred = await ctx.request('POST', '/predict', { headers: user, body: { input: [5.1, 3.5, 1.4, 0.2] } });
    assert.equal(pred.body.version, 1);
    const byAdmin = await ctx.request('POST', `/api/v1/models/${dt.id}/activate`, { headers: admin, body: { version: 2 } });
    assert.equal(byAdmin.status, 200);
  });

  test('compare puts versions side by side', async () => {
    const [dt, rf] = [await modelId('decision_tree'), await modelId('random_forest')];
    const res = await ctx.request('GET', `/api/v1/models/compare?ids=${dt}:1,${rf}:1`, { headers: other });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.versions.map((v: { algorithm: string }) => v.algorithm), ['decision_tree', 'random_forest']);
    for (const v of res.body.versions) assert.ok(v.heldout_accuracy > 0.8 && v.confusion_matrix.length === 3);
    await checkScenario(ctx, { name: 'bad ids', method: 'GET', url: '/api/v1/models/compare?ids=abc', headers: user, status: 400, detail: 'model_id:version' });
    await checkScenario(ctx, { name: 'unknown', method: 'GET', url: `/api/v1/models/compare?ids=${dt}:77`, headers: user, status: 404 });
  });

  test('every version is listed in seed 002 algos; deleting the model removes them', async () => {
    const id = await modelId('dt-single');
    const algos = await waitFor('algos rows', async () => {
      const r = await ctx.request('GET', '/algos?size=100', { headers: admin });
      return r.status === 200 && r.body.some((a: { algo_id: string }) => a.algo_id === `model-${id}-v2`) ? r.body : null;
    });
    const row = algos.find((a: { algo_id: string }) => a.algo_id === `model-${id}-v2`);
    assert.equal(row.version, '2');
    assert.equal(row.location, `/api/v1/models/${id}/versions/2`);
    assert.ok(algos.some((a: { algo_id: string }) => a.algo_id === `model-${id}-v1`));
    await checkScenario(ctx, { name: 'other user cannot delete', method: 'DELETE', url: `/api/v1/models/${id}`, headers: other, status: 403 });
    const del = await ctx.request('DELETE', `/api/v1/models/${id}`, { headers: user });
    assert.equal(del.status, 204);
    await checkScenario(ctx, { name: 'gone', method: 'GET', url: `/api/v1/models/${id}`, headers: user, status: 404 });
    await waitFor('algos rows removed', async () => {
      const r = await ctx.request('GET', '/algos?size=100', { headers: admin });
      return r.status === 200 && !r.body.some((a: { algo_id: string }) => a.algo_id.startsWith(`model-${id}-`));
    });
  });
});

describe('datasets', () => {
  test('iris, wine and breast cancer ship', async () => {
    const res = await ctx.request('GET', '/api/v1/datasets', { headers: user });
    assert.equal(res.status, 200);
    const ids = res.body.map((d: { id: string }) => d.id);
    for (const id of ['iris', 'wine', 'breast_cancer']) assert.ok(ids.includes(id), id);
    const iris = res.body.find((d: { id: string }) => d.id === 'iris');
    assert.deepEqual(iris.class_names, ['setosa', 'versicolor', 'virginica']);
    assert.equal(iris.n_rows, 150);
  });

  test('train on wine, then compare with iris-trained models', async () => {
    const res = await ctx.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree', dataset: 'wine', name: 'wine-dt' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.dataset, 'wine');
    assert.ok(res.body.best_score > 0.8);
  });

  test('upload CSV (text/csv), pick the label, train on it; JSON rows too', async () => {
    const lines = ['a,b,kind'];
    for (let i = 0; i < 30; i++) lines.push(`${i},${i % 3},${i < 15 ? 'low' : 'high'}`);
    const up = await ctx.request('POST', '/api/v1/datasets?name=toy&label=kind', { headers: { ...user, 'content-type': 'text/csv' }, rawBody: lines.join('\n') });
    assert.equal(up.status, 201, up.text);
    assert.deepEqual(up.body.feature_names, ['a', 'b']);
    assert.deepEqual(up.body.class_names, ['high', 'low']);
    assert.equal(up.body.n_rows, 30);
    const tr = await ctx.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree', dataset: up.body.id, params: { max_depth: 2 }, name: 'toy' } });
    assert.equal(tr.status, 200, tr.text);
    await checkScenario(ctx, { name: 'more folds than a class has rows', method: 'POST', url: '/train', headers: user, body: { algorithm: 'decision_tree', dataset: up.body.id, cv: 16 }, status: 422, detail: 'has 15 rows, fewer than the 16 folds' });
    const pred = await ctx.request('POST', '/predict', { headers: user, body: { input: { a: 25, b: 1 }, model_id: tr.body.model_id } });
    assert.equal(pred.body.class_name, 'high');
    // Someone else's dataset is not theirs to see or train on.
    await checkScenario(ctx, { name: 'other cannot read', method: 'GET', url: `/api/v1/datasets/${up.body.id}`, headers: other, status: 404 });
    await checkScenario(ctx, { name: 'other cannot train', method: 'POST', url: '/train', headers: other, body: { algorithm: 'decision_tree', dataset: up.body.id }, status: 404 });
    await checkScenario(ctx, { name: 'other cannot delete', method: 'DELETE', url: `/api/v1/datasets/${up.body.id}`, headers: other, status: 404 });
    const json = await ctx.request('POST', '/api/v1/datasets', { headers: user, body: { name: 'json', label: 'y', rows: Array.from({ length: 10 }, (_, i) => ({ x: i, y: i < 5 ? 'a' : 'b' })) } });
    assert.equal(json.status, 201, json.text);
    assert.equal((await ctx.request('DELETE', `/api/v1/datasets/${json.body.id}`, { headers: user })).status, 204);
  });

  const csv = (text: string) => ({ headers: { 'content-type': 'text/csv' }, rawBody: text });
  const up = (name: string, req: { headers?: Record<string, string>; rawBody?: string; body?: unknown }, status: number, detail: string, url = '/api/v1/datasets'): Scenario => ({
    name,
    method: 'POST',
    url,
    headers: { ...user, ...req.headers },
    rawBody: req.rawBody,
    body: req.body,
    status,
    detail,
  });
  const classRows = (n: number) => Array.from({ length: n }, (_, i) => `${i},${i < n - 2 ? 'a' : 'b'}`).join('\n');
  test('what cannot train is refused', async (t) =>
    runScenarios(t, () => ctx, [
      up('ragged rows', csv('a,b,y\n1,2,x\n1,x\n'), 400, 'row 2 has 2 fields, expected 3'),
      up('non-numeric feature', csv('a,y\n1,x\nfoo,x\n'), 400, 'row 2, column "a"'),
      up('a class with fewer rows than folds', csv(`a,y\n${classRows(12)}`), 422, 'fewer than the 5'),
      up('the same data with cv=2 is fine', csv(`a,y\n${classRows(12)}`), 201, '', '/api/v1/datasets?cv=2'),
      up('one class only', csv('a,y\n1,x\n2,x\n'), 400, 'at least 2'),
      up('unknown label column', csv('a,y\n1,x\n'), 400, 'label column "z"', '/api/v1/datasets?label=z'),
      up('header only', csv('a,y\n'), 400, 'header row and at least one data row'),
      up('JSON array rows without columns', { body: { name: 'x', rows: [[1, 2]] } }, 400, 'columns'),
      up('JSON duplicate columns', { body: { name: 'x', columns: ['a', 'a'], rows: [[1, 2]] } }, 400, 'appears twice'),
      up('wrong content type', { headers: { 'content-type': 'text/plain' }, rawBody: 'a,b' }, 415, ''),
    ]));

  test('a large upload is parsed on a worker thread, and its refusals still name the row', async () => {
    const lines = ['f1,f2,f3,label'];
    for (let i = 0; i < 6000; i++) lines.push(`${i},${(i * 7) % 13},${(i % 5) / 2},${i % 3 === 0 ? 'x' : 'y'}`);
    const ok = await ctx.request('POST', '/api/v1/datasets?name=large', { headers: { ...user, 'content-type': 'text/csv' }, rawBody: lines.join('\n') });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.n_rows, 6000);
    lines[4000] = '1,2';
    const bad = await ctx.request('POST', '/api/v1/datasets?name=large', { headers: { ...user, 'content-type': 'text/csv' }, rawBody: lines.join('\n') });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.body.detail, /row 4000 has 2 fields, expected 4/);
  });

  test('uploads arrive as bytes: strict UTF-8, and the JSON checks and schema give the same 400 inline and on a thread', async () => {
    const before = (await ctx.request('GET', '/api/v1/datasets', { headers: user })).body.length;
    const post = async (contentType: string, body: Buffer | string, query = '') => {
      const res = await fetch(`${ctx.url}/api/v1/datasets${query}`, { method: 'POST', headers: { ...user, 'content-type': contentType }, body });
      return { status: res.status, body: (await res.json()) as { detail: string } };
    };
    // Padding takes a body past the inline size (32 KB), so the same refusal comes from the thread.
    const pad = ' '.repeat(40_000);
    for (const tail of ['', pad]) {
      const where = tail ? 'on a thread' : 'inline';
      // A Latin-1 "é" (0xE9) is not UTF-8: refused, not stored as U+FFFD.
      const latin1 = Buffer.concat([Buffer.from('name,kind\nCaf'), Buffer.from([0xe9]), Buffer.from(`,x\nTea,y\n${tail}`)]);
      const bad = await post('text/csv', latin1, '?cv=2');
      assert.equal(bad.status, 400, `${where}: ${JSON.stringify(bad.body)}`);
      assert.match(bad.body.detail, /not valid UTF-8/);
      const cases: [string, RegExp][] = [
        [`{"rows": [{"a": 1, "y": "x"}]}${tail}`, /body: missing required field 'name'/],
        [`{"name": "n", "rows": [{"a": 1, "y": "x"}], "colour": 1}${tail}`, /body: unknown field 'colour'/],
        [`{"name": 5, "rows": [{"a": 1, "y": "x"}]}${tail}`, /body\.name must be string/],
        [`{"name": "n", "rows": [{"a": 1, "y": "x"}], "name": "m"}${tail}`, /has the key "name" more than once/],
        [`{"name": "n", "rows": ${'['.repeat(100)}${']'.repeat(100)}}${tail}`, /JSON body refused/],
        [`{"name": "n", "rows": [${tail}`, /malformed JSON body/],
      ];
      for (const [body, detail] of cases) {
        const res = await post('application/json', body);
        assert.equal(res.status, 400, `${where}: ${body.slice(0, 60)} → ${JSON.stringify(res.body)}`);
        assert.match(res.body.detail, detail, where);
      }
      const invalidUtf8Json = await post('application/json', Buffer.concat([Buffer.from('{"name": "'), Buffer.from([0xff]), Buffer.from(`", "rows": [{"a": 1, "y": "x"}]}${tail}`)]));
      assert.equal(invalidUtf8Json.status, 400, where);
      assert.match(invalidUtf8Json.body.detail, /not valid UTF-8/);
    }
    const empty = await post('application/json', '');
    assert.equal(empty.status, 400);
    assert.match(empty.body.detail, /"name" and "rows" is required/);
    assert.equal((await ctx.request('GET', '/api/v1/datasets', { headers: user })).body.length, before, 'nothing refused was stored');
    // A large JSON upload that is fine trains, with its rows in order.
    const rows = Array.from({ length: 3000 }, (_, i) => ({ a: i % 50, b: (i * 7) % 11, kind: i % 50 < 25 ? 'low' : 'high' }));
    const ok = await ctx.request('POST', '/api/v1/datasets', { headers: user, body: { name: 'large json', rows } });
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual([ok.body.n_rows, ok.body.feature_names, ok.body.class_names], [3000, ['a', 'b'], ['high', 'low']]);
    const trained = await ctx.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree', dataset: ok.body.id, params: { max_depth: 2 } } });
    assert.equal(trained.status, 200, trained.text);
    assert.equal(trained.body.best_score, 1, 'a < 25 separates the classes: the features trained on are the uploaded ones');
  });

  test('over DATASET_MAX_BYTES: 413', async () => {
    const big = 'a,y\n' + '1,x\n'.repeat(Math.ceil(ctx.config.datasetMaxBytes / 4) + 10);
    const res = await ctx.request('POST', '/api/v1/datasets', { headers: { ...user, 'content-type': 'text/csv' }, rawBody: big });
    assert.equal(res.status, 413);
  });

  test('a body sent in pieces without a length: joined where parsed (a character split between pieces), and refused past the limit', async () => {
    const send = (pieces: Buffer[]) =>
      new Promise<{ status: number; body: { detail?: string; n_rows?: number; class_names?: string[] } }>((resolve, reject) => {
        const req = http.request(`${ctx.url}/api/v1/datasets?name=pieces&cv=2`, { method: 'POST', headers: { ...user, 'content-type': 'text/csv' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        (async () => {
          for (const piece of pieces) {
            if (!req.write(piece)) await new Promise((r) => req.once('drain', r));
            await new Promise((r) => setImmediate(r));
          }
          req.end();
        })().catch(reject);
      });
    // "é" is two bytes in UTF-8: the first piece ends between them. Past 32 KB, so parsed on a thread.
    const csv = Buffer.from('a,kind\n' + '1,caf\u00e9\n2,tea\n'.repeat(3000));
    const cut = csv.indexOf(Buffer.from('\u00e9')) + 1;
    const ok = await send([csv.subarray(0, cut), csv.subarray(cut, 40_000), csv.subarray(40_000)]);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.deepEqual([ok.body.n_rows, ok.body.class_names], [6000, ['café', 'tea']]);
    const piece = Buffer.from('1,x\n'.repeat(64 * 1024));
    const tooMuch = await send(Array.from({ length: Math.ceil(ctx.config.datasetMaxBytes / piece.length) + 1 }, () => piece));
    assert.equal(tooMuch.status, 413);
    assert.match(tooMuch.body.detail ?? '', /too large|body/i);
  });

  test('shipped datasets cannot be deleted', async () => {
    await checkScenario(ctx, { name: 'user', method: 'DELETE', url: '/api/v1/datasets/iris', headers: user, status: 403 });
    await checkScenario(ctx, { name: 'admin', method: 'DELETE', url: '/api/v1/datasets/iris', headers: admin, status: 409 });
  });
});

describe('training jobs', () => {
  test('"async": true answers 202 with the job; the job reports fits and makes a version', async () => {
    const res = await ctx.request('POST', '/train', { headers: user, body: { algorithm: 'random_forest', params: { n_estimators: [10, 20], max_depth: [3] }, name: 'rf-async', async: true } });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.status_url, `/api/v1/jobs/${res.body.job_id}`);
    const job = await waitFor('job done', async () => {
      const j = await ctx.request('GET', res.body.status_url, { headers: user });
      return j.body.state === 'completed' || j.body.state === 'failed' ? j.body : null;
    });
    assert.equal(job.state, 'completed', JSON.stringify(job));
    assert.equal(job.progress, 100);
    assert.match(job.progress_note, /^fits (\d+)\/\1$/);
    assert.equal(job.result.version, 1);
    await checkScenario(ctx, { name: 'another user does not see the job', method: 'GET', url: res.body.status_url, headers: other, status: 404 });
  });

  test('?async=true works too; a cancelled job leaves no version', async () => {
    const res = await ctx.request('POST', '/train?async=true', { headers: user, body: { algorithm: 'random_forest', dataset: 'breast_cancer', params: { n_estimators: [300, 400], max_depth: [10, 12] }, cv: 5, name: 'rf-cancelled' } });
    assert.equal(res.status, 202, res.text);
    await waitFor('job running', async () => (await ctx.request('GET', res.body.status_url, { headers: user })).body.state === 'active');
    const cancel = await ctx.request('POST', `${res.body.status_url}/cancel`, { headers: user });
    assert.equal(cancel.status, 200, cancel.text);
    await new Promise((r) => setTimeout(r, 2500));
    const list = await ctx.request('GET', '/api/v1/models?size=100', { headers: user });
    assert.ok(!list.body.some((m: { name: string }) => m.name === 'rf-cancelled'), 'no model from a cancelled job');
  });
});

describe('access', () => {
  const anon: Scenario[] = [
    { name: 'train', method: 'POST', url: '/train', body: { algorithm: 'decision_tree' }, status: 401 },
    { name: 'predict', method: 'POST', url: '/predict', body: { input: [1, 2, 3, 4] }, status: 401 },
    { name: 'status', method: 'GET', url: '/status', status: 401 },
    { name: 'models', method: 'GET', url: '/api/v1/models', status: 401 },
    { name: 'model', method: 'GET', url: '/api/v1/models/1', status: 401 },
    { name: 'versions', method: 'GET', url: '/api/v1/models/1/versions', status: 401 },
    { name: 'version', method: 'GET', url: '/api/v1/models/1/versions/1', status: 401 },
    { name: 'compare', method: 'GET', url: '/api/v1/models/compare?ids=1:1', status: 401 },
    { name: 'activate', method: 'POST', url: '/api/v1/models/1/activate', body: { version: 1 }, status: 401 },
    { name: 'delete', method: 'DELETE', url: '/api/v1/models/1', status: 401 },
    { name: 'datasets', method: 'GET', url: '/api/v1/datasets', status: 401 },
    { name: 'dataset', method: 'GET', url: '/api/v1/datasets/iris', status: 401 },
    { name: 'upload', method: 'POST', url: '/api/v1/datasets', body: { name: 'x', rows: [{ a: 1, y: 1 }] }, status: 401 },
    { name: 'delete dataset', method: 'DELETE', url: '/api/v1/datasets/iris', status: 401 },
    { name: 'bad token', method: 'GET', url: '/status', headers: { authorization: 'Bearer nope' }, status: 401 },
  ];
  test('every route needs credentials', async (t) => runScenarios(t, () => ctx, anon));

  test("another user's model: read yes (shared registry), activate and delete no", async () => {
    const mine = await ctx.request('POST', '/train', { headers: other, body: { algorithm: 'decision_tree', params: { max_depth: 2 }, name: 'others' } });
    assert.equal(mine.status, 200, mine.text);
    const id = mine.body.model_id;
    await checkScenario(ctx, { name: 'read', method: 'GET', url: `/api/v1/models/${id}`, headers: user, status: 200 });
    await checkScenario(ctx, { name: 'activate', method: 'POST', url: `/api/v1/models/${id}/activate`, headers: user, body: { version: 1 }, status: 403 });
    await checkScenario(ctx, { name: 'delete', method: 'DELETE', url: `/api/v1/models/${id}`, headers: user, status: 403 });
    await checkScenario(ctx, { name: 'admin deletes', method: 'DELETE', url: `/api/v1/models/${id}`, headers: admin, status: 204 });
  });
});
