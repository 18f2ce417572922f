import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateRule } from '../events/rules.ts';
import { replayRule, type StoredEvent } from './replay.ts';
import { contentSecurityPolicy, contentTypeOf, cspHash, loadAssets } from './assets.ts';

const ev = (seq: number, user: number, type: string, amount: string, time: number): StoredEvent => ({ seq, user_id: String(user), type, amount, time });

describe('replayRule', () => {
  test('a threshold counts each event above it, per user', () => {
    const rule = validateRule({ code: 9, kind: 'threshold', event_type: 'withdraw', params: { op: '>', amount: '100' } });
    const r = replayRule(rule, [ev(1, 1, 'withdraw', '100.00', 1), ev(2, 1, 'withdraw', '100.01', 2), ev(3, 2, 'withdraw', '500', 3), ev(4, 2, 'deposit', '500', 4)]);
    assert.deepEqual({ ...r, examples: r.examples.map((e) => e.event_seq) }, { events_scanned: 4, alerts: 2, users_alerted: 2, examples: [2, 3] });
  });
  test('history is per user: three withdrawals in a row across two users do not count', () => {
    const rule = validateRule({ code: 9, kind: 'consecutive', event_type: 'withdraw', params: { count: 3 } });
    const events = [ev(1, 1, 'withdraw', '1', 1), ev(2, 2, 'withdraw', '1', 2), ev(3, 1, 'withdraw', '1', 3), ev(4, 1, 'withdraw', '1', 4)];
    assert.equal(replayRule(rule, events).alerts, 1);
    assert.equal(replayRule(rule, events.slice(0, 3)).alerts, 0);
  });
  test('a disabled draft is still replayed; examples are capped', () => {
    const rule = validateRule({ code: 9, kind: 'threshold', event_type: 'deposit', enabled: false, params: { op: '>=', amount: '1' } });
    const events = Array.from({ length: 30 }, (_, i) => ev(i + 1, 1, 'deposit', '5', i));
    const r = replayRule(rule, events, 5);
    assert.equal(r.alerts, 30);
    assert.equal(r.examples.length, 5);
  });
});

describe('assets', () => {
  test('content types; unknown kinds are not served', () => {
    assert.equal(contentTypeOf('a/b.js'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeOf('x.html'), 'text/html; charset=utf-8');
    assert.equal(contentTypeOf('x.ts'), null);
    assert.equal(contentTypeOf('.env'), null);
  });
  test('the CSP allows this origin only, and the import map by its hash', () => {
    const csp = contentSecurityPolicy(['{"imports":{}}']);
    assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    assert.ok(csp.includes(cspHash('{"imports":{}}')));
    assert.doesNotMatch(csp, /https?:|\*/);
  });
  test('index.html, the pages and the vendored modules are loaded; the import map is inlined', () => {
    const assets = loadAssets();
    for (const name of ['index.html', 'app.js', 'vendor/preact.js', 'vendor/hooks.js', 'vendor/htm.js']) assert.ok(assets.has(name), name);
    assert.match(assets.get('index.html')!.body.toString(), /<script type="importmap">/);
    assert.ok([...assets.keys()].every((k) => !k.endsWith('.ts')));
  });
});
