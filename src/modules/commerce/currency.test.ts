// The rate cache's lifetimes on a fake clock, against a real HTTP provider on loopback: a rate is
// fresh for 6 h and the currency list for 24 h; an expired entry answers while the provider is down
// (up to 7 days); past that, or with nothing cached, the answer is 503.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../../platform/errors.ts';
import { createCurrencyRates, type CacheEntry, type CurrencyCache } from './currency.ts';

const HOUR = 3_600_000;
const calls: string[] = [];
let down = false;
let rate = 0.85;
let url = '';
const server = createServer((req, res) => {
  const u = new URL(req.url!, 'http://x');
  calls.push(u.pathname);
  res.writeHead(down ? 503 : 200, { 'content-type': 'application/json' });
  if (down) return res.end('{}');
  res.end(JSON.stringify(u.pathname === '/currencies' ? { data: { USD: {}, EUR: {} } } : { data: { EUR: rate } }));
});

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function setup() {
  let now = Date.UTC(2026, 0, 1);
  const store = new Map<string, CacheEntry>();
  const cache: CurrencyCache = { get: async (k) => store.get(k) ?? null, set: async (k, e) => void store.set(k, e) };
  const warnings: object[] = [];
  const rates = createCurrencyRates({
    config: { apiUrl: url, apiKey: 'k', fixedRates: null, timeoutMs: 1000 },
    cache,
    clock: { now: () => new Date(now) },
    log: { warn: (o) => void warnings.push(o) },
  });
  return { rates, warnings, advance: (ms: number) => void (now += ms) };
}

describe('currency rates cache', () => {
  test('fresh for 6 h, then fetched again; the list lasts 24 h', async () => {
    calls.length = 0;
    down = false;
    rate = 0.85;
    const { rates, advance } = setup();
    assert.deepEqual(await rates.rate('EUR'), { currency: 'EUR', rate: '0.85' });
    advance(6 * HOUR - 1);
    rate = 0.9;
    assert.equal((await rates.rate('eur')).rate, '0.85');
    assert.deepEqual(calls, ['/currencies', '/latest']);
    advance(2);
    assert.equal((await rates.rate('EUR')).rate, '0.9');
    assert.deepEqual(calls, ['/currencies', '/latest', '/latest']);
    advance(18 * HOUR);
    await rates.rate('EUR');
    assert.equal(calls.filter((c) => c === '/currencies').length, 2, 'the list expired after 24 h');
  });

  test('the provider down: the expired entry answers (with a warning) for up to 7 days, then 503', async () => {
    calls.length = 0;
    down = false;
    rate = 0.85;
    const { rates, warnings, advance } = setup();
    await rates.rate('EUR');
    down = true;
    advance(7 * HOUR);
    assert.equal((await rates.rate('EUR')).rate, '0.85');
    assert.ok(warnings.length >= 1);
    advance(7 * 24 * HOUR);
    await assert.rejects(rates.rate('EUR'), (e: unknown) => e instanceof AppError && e.status === 503 && /HTTP 503/.test(e.message));
  });

  test('nothing cached and the provider down: 503, never a rate of 1', async () => {
    down = true;
    const { rates } = setup();
    await assert.rejects(rates.rate('EUR'), (e: unknown) => e instanceof AppError && e.code === 'UNAVAILABLE' && /list of currencies is not available/.test(e.message));
    down = false;
  });

  test('a failing cache is a miss, not a failed request', async () => {
    calls.length = 0;
    down = false;
    const warnings: object[] = [];
    const broken = createCurrencyRates({
      config: { apiUrl: url, apiKey: 'k', fixedRates: null, timeoutMs: 1000 },
      cache: { get: async () => Promise.reject(new Error('redis down')), set: async () => Promise.reject(new Error('redis down')) },
      clock: { now: () => new Date() },
      log: { warn: (o) => void warnings.push(o) },
    });
    assert.equal((await broken.rate('EUR')).rate, String(rate));
    assert.ok(warnings.length >= 2);
  });

  test('concurrent misses share one provider call', async () => {
    calls.length = 0;
    down = false;
    const { rates } = setup();
    const all = await Promise.all(Array.from({ length: 20 }, () => rates.rate('EUR')));
    assert.ok(all.every((r) => r.rate === String(rate)));
    assert.deepEqual(calls, ['/currencies', '/latest']);
  });
});
