// A typed client generated from the live /openapi.json, as a client team would make one: the types
// from openapi-typescript, the calls through openapi-fetch. One TypeScript file of calls into every
// module is type-checked with tsc (wrong calls must fail to compile), then run against the app.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateTypes } from 'arbiter-openapi-codegen';
import { startTestApp, type TestApp } from './helpers/app.ts';

const ROOT = path.resolve('.');

// Typed calls into each module. `@ts-expect-error` marks calls the generated types must refuse.
const CALLS = `import createClient from 'openapi-fetch';
import type { paths } from './api.ts';

export async function run(baseUrl: string) {
  const client = createClient<paths>({ baseUrl });

  // platform
  const health = await client.GET('/health');
  const status: string | undefined = health.data?.status;

  // auth and accounts
  const account = { email: 'client@example.com', password: 'generated-client-1' };
  const registered = await client.POST('/api/v1/auth/register', { body: { ...account, first_name: 'Gen' } });
  const login = await client.POST('/api/v1/auth/login', { body: account });
  if (!login.data) throw new Error('login failed: ' + JSON.stringify(login.error));
  const access: string = login.data.access;
  const authed = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + access } });
  const me = await authed.GET('/api/v1/users/me');
  const myId: number | undefined = me.data?.id;
  await authed.GET('/api/v1/users/{id}', { params: { path: { id: myId ?? 0 } } });
  // @ts-expect-error login takes an email, not a username
  void (() => client.POST('/api/v1/auth/login', { body: { username: 'x', password: 'y' } }));

  // API keys (admin only: here only the types are exercised)
  void (() => authed.POST('/api/v1/api-keys', { body: { name: 'ci', scopes: ['service'] } }));
  // @ts-expect-error scopes are user, admin or service
  void (() => authed.POST('/api/v1/api-keys', { body: { name: 'ci', scopes: ['root'] } }));

  // seed 002 resources
  // A signed-in user's seed 002 rows are their own: their profile, and rows with their user_id.
  const myUserId: string = me.data?.user_id ?? '';
  const user = await authed.PATCH('/users/{user_id}', { params: { path: { user_id: myUserId } }, body: { firebase_data: { a: 1 } } });
  const users = await authed.GET('/users', { params: { query: { page: 1, size: 10 } } });
  const userIds: string[] = (users.data ?? []).map((u) => u.user_id);
  await authed.POST('/recordings', { body: { recording_id: 'rec-1', user_id: myUserId, recording_type: 'audio' } });
  void (() => authed.GET('/events/{event_id}', { params: { path: { event_id: 1 } } }));
  // @ts-expect-error event_id is a number
  void (() => authed.GET('/events/{event_id}', { params: { path: { event_id: 'one' } } }));

  // seed 001 events and rules
  const answer = await authed.POST('/api/events', { body: { type: 'deposit', amount: '42.00', user_id: myId ?? 0, time: 10 } });
  const alerted: boolean | undefined = answer.data?.alert;
  await authed.GET('/api/alerts', { params: { query: { user_id: myId, page: 1, size: 10 } } });
  void (() => authed.POST('/api/rules', { body: { code: 900, kind: 'threshold', event_type: 'withdraw', params: { amount: 100 } } }));
  // @ts-expect-error type is deposit or withdraw
  void (() => authed.POST('/api/events', { body: { type: 'refund', amount: '1', user_id: 1, time: 1 } }));

  // seed 004 commerce
  const stores = await authed.GET('/api/v1/store');
  const storeName: string | undefined = stores.data?.[0]?.name;
  const product = await authed.POST('/api/v1/store/products', { body: { name: 'Typed', price: '10.00', quantity: 1, category: 'c' } });
  const viewed = await authed.GET('/api/v1/store/products/{id}', { params: { path: { id: product.data?.id ?? 0 } } });
  const views: number | undefined = viewed.data?.views_count;
  // @ts-expect-error a product needs a name
  void (() => authed.POST('/api/v1/store/products', { body: { price: '1.00' } }));

  // seed 003 models
  const trained = await authed.POST('/train', { body: { algorithm: 'decision_tree', params: { max_depth: [2, 3] } } });
  const predicted = await authed.POST('/predict', { body: { input: [5.1, 3.5, 1.4, 0.2] } });
  const modelStatus = await authed.GET('/status');
  const trainedVersion: number | undefined = trained.data && 'version' in trained.data ? trained.data.version : undefined;
  // @ts-expect-error cv is a number of folds
  void (() => authed.POST('/train', { body: { algorithm: 'decision_tree', cv: 'five' } }));

  // seed 000 decisions: a signed-in user requests and uploads for their own user_id
  const decision = await authed.POST('/api/v1/action', { body: { user_id: myUserId, timestamp: '2026-01-01T00:00:00Z', decision_idx: 0, context: { temperature: 25 } } });
  const actionProb: number | undefined = decision.data?.action_prob;
  const uploaded = await authed.POST('/api/v1/upload_data', { body: { user_id: myUserId, timestamp: '2026-01-01T00:10:00Z', decision_idx: 0, data: { outcome: { clicks: 1 } } } });
  // @ts-expect-error decision_idx is an integer
  void (() => authed.POST('/api/v1/action', { body: { user_id: 'x', timestamp: 'now', decision_idx: 'first' } }));

  // the console's draft-rule replay: admins only, so this user gets a typed refusal
  const replay = await authed.POST('/api/console/rules/replay', { body: { rule: { code: 1, kind: 'threshold', event_type: 'deposit', params: { op: '>', amount: '1' } } } });
  const replayRefused: string | undefined = replay.error?.detail;
  // @ts-expect-error events is a number of events
  void (() => authed.POST('/api/console/rules/replay', { body: { rule: {}, events: 'all' } }));

  // seed 004 recommendations (public; the product was viewed just above, so it is in the catalogue once its fact is handled)
  const recs = await client.GET('/category-recommendations', { params: { query: { category: 'c', limit: 5 } } });
  const firstRec: string | undefined = recs.data?.[0]?.product_id;
  const similar = await client.GET('/interaction-recommendations', { params: { query: { product_id: String(product.data?.id ?? 0), category: 'c' } } });
  // @ts-expect-error limit is a number
  void (() => client.GET('/category-recommendations', { params: { query: { category: 'c', limit: 'all' } } }));

  return {
    replayStatus: replay.response.status, replayRefused,
    recsStatus: recs.response.status, firstRec, similar: similar.data,
    status, registered: registered.response.status, me: me.data, user: user.data, userIds, alerted, answer: answer.data,
    storeName, views, price: viewed.data?.converted_price,
    trainedVersion, predicted: predicted.data, modelStatus: modelStatus.data,
    actionProb, uploaded: uploaded.data?.message,
  };
}
`;

let ctx: TestApp;
let dir: string;

before(async () => {
  ctx = await startTestApp();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-client-'));
  // The generated project resolves openapi-fetch and @types/node from this repository.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'es2024', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2024'], types: ['node'], strict: true, noEmit: true, allowImportingTsExtensions: true, verbatimModuleSyntax: true },
      files: ['api.ts', 'calls.ts'],
    }),
  );
});
after(async () => {
  await ctx?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a client generated from /openapi.json', () => {
  test('openapi-typescript turns the live document into types', async () => {
    const res = await ctx.request('GET', '/openapi.json');
    assert.equal(res.status, 200);
    const types = await generateTypes(res.body);
    for (const p of ['"/health"', '"/api/v1/auth/login"', '"/api/v1/api-keys"', '"/users/{user_id}"', '"/api/events"', '"/api/rules/{id}"', '"/api/v1/store/products/{id}"', '"/api/v1/action"', '"/train"', '"/api/console/rules/replay"', '"/category-recommendations"']) {
      assert.ok(types.includes(p), `the types have ${p}`);
    }
    fs.writeFileSync(path.join(dir, 'api.ts'), types);
    fs.writeFileSync(path.join(dir, 'calls.ts'), CALLS);
  });

  test('calls into every module type-check, and wrong ones do not', () => {
    const r = spawnSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
  });

  test('the typed calls work against the running app', async () => {
    const { run } = (await import(path.join(dir, 'calls.ts'))) as { run: (baseUrl: string) => Promise<Record<string, any>> };
    const out = await run(ctx.url);
    assert.equal(out.status, 'ok');
    assert.equal(out.registered, 201);
    assert.equal(out.me.email, 'client@example.com');
    assert.equal(out.user.user_id, out.me.user_id);
    assert.deepEqual(out.user.firebase_data, { a: 1 });
    assert.deepEqual(out.userIds, [out.me.user_id], 'a user lists only their own profile');
    assert.deepEqual(out.answer, { alert: false, alert_codes: [], user_id: out.me.id });
    assert.equal(out.storeName, 'client Store');
    assert.equal(out.views, 1);
    assert.equal(out.price, '10.00');
    assert.equal(out.trainedVersion, 1);
    assert.equal(out.predicted.prediction, 0);
    assert.equal(out.modelStatus.is_trained, true);
    assert.ok(out.actionProb >= 0.2 && out.actionProb <= 0.8, 'a clipped probability');
    assert.equal(out.uploaded, 'Data uploaded successfully.');
    assert.equal(out.replayStatus, 403);
    assert.ok(out.replayRefused);
    assert.equal(out.recsStatus, 200);
    assert.ok(Array.isArray(out.similar));
  });
});
