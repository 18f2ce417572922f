// Models outlive the process and are shared by processes: a restart keeps the registry and the
// active version (embedded, in a data directory); on PostgreSQL two servers predict from the same
// active version, and an activation made on one reaches the other within MODELS_ACTIVE_REFRESH_MS.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startTestApp } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';
import { usingPostgres } from './helpers/db.ts';

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
