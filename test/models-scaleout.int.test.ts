// Models outlive the process and are shared by processes: a restart keeps the registry and the
// active version (embedded, in a data directory); on PostgreSQL two servers predict from the same
// active version, and an activation made on one reaches the other within MODELS_ACTIVE_REFRESH_MS.
// A process keeps the rows of the datasets it stored or read, up to DATASET_CACHE_BYTES (least recently
// used out first), and still trains on none that another process deleted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';
import { usingPostgres } from './helpers/db.ts';
import { startJobsApp } from './helpers/jobs.ts';

const SECRET = 'models-scaleout-test-secret-0123456789abcdef';
const ROW = [6.0, 2.7, 5.1, 1.6];

test('a restart keeps models, versions and the active one', { skip: usingPostgres ? 'embedded data directory only' : false }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-models-'));
  try {
    const first = await startTestApp({ dataDir, memoryDb: false, auth: { secretKey: SECRET } });
    const user = await authHeaders(first, 'user');
    const trained = await first.request('POST', '/train', { headers: user, body: { algorithm: 'random_forest', params: { n_estimators: 20, max_depth: [3, 5] } } });
    assert.equal(trained.status, 200, trained.text);
    const before = await first.request('POST', '/predict', { headers: user, body: { input: ROW } });
    await first.close();

    const second = await startTestApp({ dataDir, memoryDb: false, auth: { secretKey: SECRET } });
    try {
      const status = await second.request('GET', '/status', { headers: user });
      assert.equal(status.status, 200, status.text);
      assert.equal(status.body.is_trained, true);
      assert.deepEqual(status.body.best_params, trained.body.best_params);
      const after = await second.request('POST', '/predict', { headers: user, body: { input: ROW } });
      assert.deepEqual(after.body, before.body, 'the reloaded model predicts identically');
    } finally {
      await second.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('two processes on PostgreSQL predict from the same active version', { skip: usingPostgres ? false : 'needs DATABASE_URL' }, async () => {
  const a = await startTestApp({ auth: { secretKey: SECRET }, modelsActiveRefreshMs: 200 });
  const b = await startTestApp({ databaseUrl: a.config.databaseUrl, auth: { secretKey: SECRET }, modelsActiveRefreshMs: 200 });
  try {
    const user = await authHeaders(a, 'user');
    const v1 = await a.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree', params: { max_depth: 1 }, name: 'shared' } });
    const v2 = await a.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree', params: { max_depth: 4 }, name: 'shared' } });
    assert.equal(v2.body.version, 2, v2.text);
    await new Promise((r) => setTimeout(r, 300));
    const pa = await a.request('POST', '/predict', { headers: user, body: { input: ROW } });
    const pb = await b.request('POST', '/predict', { headers: user, body: { input: ROW } });
    assert.deepEqual(pb.body, pa.body);
    assert.equal(pb.body.version, 2);
    const act = await a.request('POST', `/api/v1/models/${v1.body.model_id}/activate`, { headers: user, body: { version: 1 } });
    assert.equal(act.status, 200, act.text);
    await new Promise((r) => setTimeout(r, 300));
    const after = await b.request('POST', '/predict', { headers: user, body: { input: ROW } });
    assert.equal(after.body.version, 1, 'the other process follows the activation');
    const status = await b.request('GET', '/status', { headers: user });
    assert.equal(status.body.version, 1);
  } finally {
    await b.close();
    await a.close();
  }
});

/** A CSV dataset of 60 rows whose class is `a < 10`, uploaded by `user`: its id. */
async function upload(app: TestApp, user: Record<string, string>): Promise<string> {
  const csv = ['a,b,kind', ...Array.from({ length: 60 }, (_, i) => `${(i % 2) * 10 + (i % 5)},${i % 7},${i % 2 ? 'high' : 'low'}`)].join('\n');
  const res = await app.request('POST', '/api/v1/datasets?name=kept', { headers: { ...user, 'content-type': 'text/csv' }, rawBody: csv });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}
const trainOn = (app: TestApp, user: Record<string, string>, dataset: string) => app.request('POST', '/train', { headers: user, body: { algorithm: 'decision_tree', dataset, params: { max_depth: 2 }, cv: 2 } });

test('a process keeps the rows of a dataset it stored, and trains on none that was deleted elsewhere', async () => {
  const app = await startJobsApp([]);
  try {
    const user = await authHeaders(app, 'user');
    const id = await upload(app, user);
    // Its parts gone from the database, the process still has the rows it stored: it read none back.
    await app.database.query('delete from ml_dataset_parts where dataset_id = $1', [id]);
    const kept = await trainOn(app, user, id);
    assert.equal(kept.status, 200, kept.text);
    assert.equal(kept.body.best_score, 1, 'the rows as uploaded: a < 10 separates the classes');
    // Deleted as another process would (its row gone): refused, though its rows are still in memory.
    await app.database.query('delete from ml_datasets where id = $1', [id]);
    const gone = await trainOn(app, user, id);
    assert.equal(gone.status, 404, gone.text);
    assert.match(gone.body.detail, /dataset ".*" not found/);
  } finally {
    await app.close();
  }
});

test('DATASET_CACHE_BYTES bounds the rows kept, least recently used out first; 0 keeps none', async () => {
  // Each upload's rows take 60 × 2 features × 8 + 60 × 4 bytes (+1): two fit in 2,500 bytes, not three.
  const app = await startJobsApp([], { datasetCacheBytes: 2500 });
  const none = await startJobsApp([], { datasetCacheBytes: 0 });
  // The stored features all set to 0: a training that reads them back cannot tell the classes apart
  // (best score 0.5), one on the rows as uploaded separates them (1).
  const zeroStored = (t: typeof app, ids: string[]) => t.database.query("update ml_dataset_parts set x = decode(repeat('00', length(x)), 'hex') where dataset_id = any($1)", [ids]);
  const bestScore = async (t: typeof app, user: Record<string, string>, id: string) => {
    const res = await trainOn(t, user, id);
    assert.equal(res.status, 200, res.text);
    return res.body.best_score as number;
  };
  try {
    const user = await authHeaders(app, 'user');
    const [a, b] = [await upload(app, user), await upload(app, user)];
    assert.equal(await bestScore(app, user, a), 1, 'a: now the most recently used');
    const c = await upload(app, user); // b, the least recently used, makes room for c
    await zeroStored(app, [a, b, c]);
    assert.equal(await bestScore(app, user, a), 1, 'a: kept');
    assert.equal(await bestScore(app, user, c), 1, 'c: kept');
    assert.equal(await bestScore(app, user, b), 0.5, 'b: evicted, so read back');

    const noneUser = await authHeaders(none, 'user');
    const d = await upload(none, noneUser);
    await zeroStored(none, [d]);
    assert.equal(await bestScore(none, noneUser, d), 0.5, 'nothing kept: read back');
  } finally {
    await none.close();
    await app.close();
  }
});

test('on PostgreSQL, a dataset deleted by one process is not trained on by another that read it', { skip: usingPostgres ? false : 'needs DATABASE_URL' }, async () => {
  const a = await startTestApp({ auth: { secretKey: SECRET } });
  const b = await startTestApp({ databaseUrl: a.config.databaseUrl, auth: { secretKey: SECRET } });
  try {
    const user = await authHeaders(a, 'user');
    const id = await upload(a, user);
    const read = await trainOn(b, user, id);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.best_score, 1, 'the other process read the rows as uploaded');
    assert.equal((await a.request('DELETE', `/api/v1/datasets/${id}`, { headers: user })).status, 204);
    const gone = await trainOn(b, user, id);
    assert.equal(gone.status, 404, gone.text);
  } finally {
    await b.close();
    await a.close();
  }
});
