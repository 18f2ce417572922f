// The console over HTTP: its files at /console (local only, with a CSP), unknown files 404, and the
// draft-rule replay: admins only, 422 naming the field of an invalid draft, bad input 400.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders, createAccount } from './helpers/auth.ts';
import { eventsClient } from './helpers/events.ts';

let ctx: TestApp;
let admin: Record<string, string>;
let user: Record<string, string>;
let service: Record<string, string>;
const { newUser, send } = eventsClient(() => ctx, () => service, 910_000);

before(async () => {
  ctx = await startTestApp();
  admin = (await createAccount(ctx, 'admin')).headers;
  user = await authHeaders(ctx, 'user');
  service = await authHeaders(ctx, 'service');
});
after(async () => ctx?.close());

describe('serving /console', () => {
  test('the page, without signing in, with a CSP that allows this origin only', async () => {
    for (const path of ['/console', '/console/']) {
      const res = await ctx.request('GET', path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.match(res.text, /<script type="importmap">/);
      assert.match(res.text, /src="\/console\/app\.js"/);
      const csp = res.headers.get('content-security-policy')!;
      assert.match(csp, /default-src 'self'/);
      assert.doesNotMatch(csp, /https?:/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
  });
  test('scripts and vendored modules are served from here, with etags', async () => {
    for (const path of ['/console/app.js', '/console/lib.js', '/console/pages/alerts.js', '/console/vendor/preact.js', '/console/vendor/hooks.js', '/console/vendor/htm.js', '/console/style.css']) {
      const res = await ctx.request('GET', path);
      assert.equal(res.status, 200, path);
      const etag = res.headers.get('etag')!;
      assert.ok(etag);
      const again = await ctx.request('GET', path, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304, path);
    }
    // Nothing the page loads points elsewhere.
    const page = await ctx.request('GET', '/console');
    assert.doesNotMatch(page.text, /(src|href)="(https?:)?\/\//);
  });
  test('unknown files, other kinds and escapes are 404 in the API shape', async () => {
    for (const path of ['/console/nope.js', '/console/../package.json', '/console/%2e%2e/%2e%2e/package.json', '/console/replay.ts', '/console/vendor/../../config.ts', '/console/pages']) {
      const res = await ctx.request('GET', path);
      assert.equal(res.status, 404, `${path}: ${res.text}`);
      assert.ok(res.body.detail, path);
    }
  });
  test('/docs links to the console (in the document it shows) and hides the hosted-service buttons', async () => {
    const doc = await ctx.request('GET', '/openapi.json');
    assert.match(doc.body.info.description, /\]\(\/console\)/);
    const res = await ctx.request('GET', '/docs/');
    assert.equal(res.status, 200);
    assert.match(res.text, /"agent":\s*\{\s*"disabled":\s*true/);
    assert.match(res.text, /"mcp":\s*\{\s*"disabled":\s*true/);
    assert.match(res.text, /"showDeveloperTools":\s*"never"/);
  });
});

describe('POST /api/console/rules/replay', () => {
  const draft = { code: 7001, name: 'over 500', kind: 'threshold', event_type: 'withdraw', params: { op: '>', amount: '500.00' } };
  test('counts what a draft would have raised over stored events, saving nothing', async () => {
    const before = await ctx.request('POST', '/api/console/rules/replay', { body: { rule: draft }, headers: admin });
    assert.equal(before.status, 200, before.text);
    const u = await newUser();
    await send(u, 'withdraw', '600.00', 1);
    await send(u, 'withdraw', '400.00', 2);
    await send(u, 'withdraw', '500.01', 3);
    const res = await ctx.request('POST', '/api/console/rules/replay', { body: { rule: draft }, headers: admin });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.alerts - before.body.alerts, 2);
    assert.equal(res.body.events_scanned - before.body.events_scanned, 3);
    assert.ok(res.body.examples.some((e: { user_id: number; amount: string }) => e.user_id === u && e.amount === '600.00'), JSON.stringify(res.body));
    const last = await ctx.request('POST', '/api/console/rules/replay', { body: { rule: draft, events: 1 }, headers: admin });
    assert.deepEqual([last.body.events_scanned, last.body.alerts, last.body.truncated], [1, 1, true]);
    const rules = await ctx.request('GET', '/api/rules?code=7001', { headers: admin });
    assert.deepEqual(rules.body, []);
  });
  test('a user, no token and a bad token are refused (rule editing is for admins)', async () => {
    for (const [who, headers, status] of [['user', user, 403], ['nobody', {}, 401], ['a bad token', { authorization: 'Bearer nope' }, 401]] as const) {
      const res = await ctx.request('POST', '/api/console/rules/replay', { body: { rule: draft }, headers });
      assert.equal(res.status, status, `${who}: ${res.text}`);
    }
  });
  test('an invalid draft is a 422 naming the field; bad bodies are 400', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ rule: { ...draft, kind: 'sometimes' } }, 422, /kind/],
      [{ rule: { ...draft, params: { op: '>', amount: '-1' } } }, 422, /params\.amount/],
      [{ rule: { ...draft, params: { op: '!=', amount: '1' } } }, 422, /params\.op/],
      [{ rule: { ...draft, code: 1e12 } }, 422, /code/],
      [{ rule: draft, events: 0 }, 400, /events/],
      [{ rule: draft, events: 1e9 }, 400, /events/],
      [{ rule: draft, events: 'all' }, 400, /events/],
      [{ rule: 'threshold' }, 400, /rule/],
      [{ rule: draft, extra: 1 }, 400, /extra|additional/],
      [{}, 400, /rule/],
      [{ rule: { params: JSON.parse('{"a":'.repeat(300) + '1' + '}'.repeat(300)) } }, 400, /deep|nest/],
    ];
    for (const [body, status, re] of cases) {
      const res = await ctx.request('POST', '/api/console/rules/replay', { body, headers: admin });
      assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      assert.match(res.body.detail, re, res.text);
    }
  });
});
