// ?currency=XXX against a real HTTP server on loopback standing in for the freecurrencyapi provider:
// conversions in decimal arithmetic, one provider call per endpoint across repeated conversions (the
// cache), unknown currencies, the provider down (503, never a silent rate of 1), no API key (USD
// only) and CURRENCY_RATES_FILE.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { createAccount, type TestAccount } from './helpers/auth.ts';

const P = '/api/v1/store/products/';
const KEY = 'test-key-123';

interface Provider {
  url: string;
  calls: Record<string, number>;
  rates: Record<string, number>;
  mode: 'ok' | 'down' | 'slow' | 'garbage' | 'redirect';
  close(): Promise<void>;
}

async function startProvider(): Promise<Provider> {
  const p = { calls: {} as Record<string, number>, rates: { EUR: 0.85, GBP: 0.88, JPY: 151.234567 } as Record<string, number>, mode: 'ok' as Provider['mode'] };
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const key = u.pathname.replace(/^\/v1/, '');
    p.calls[key] = (p.calls[key] ?? 0) + 1;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (p.mode === 'down') return send(500, { message: 'boom' });
    if (p.mode === 'slow') return void setTimeout(() => send(200, { data: {} }), 3000);
    if (p.mode === 'garbage') return send(200, '<html>');
    // Elsewhere: an attacker's provider sending the call (and its API key) on to an inner address.
    if (p.mode === 'redirect') {
      p.calls.redirected = (p.calls.redirected ?? 0) + 1;
      res.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/latest${u.search}` });
      return void res.end();
    }
    if (u.searchParams.get('apikey') !== KEY) return send(401, { message: 'Invalid authentication credentials' });
    if (key === '/currencies') return send(200, { data: Object.fromEntries(['USD', ...Object.keys(p.rates)].map((c) => [c, { code: c, name: c }])) });
    if (key === '/latest') {
      if (u.searchParams.get('base_currency') !== 'USD') return send(422, { message: 'base' });
      const wanted = (u.searchParams.get('currencies') ?? '').split(',');
      return send(200, { data: Object.fromEntries(wanted.filter((c) => c in p.rates).map((c) => [c, p.rates[c]])) });
    }
    send(404, { message: 'no route' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(p, { url: `http://127.0.0.1:${port}/v1`, close: () => new Promise<void>((r) => server.close(() => r())) });
}

let provider: Provider;
let ctx: TestApp;
let user: TestAccount;
let productId: number;

before(async () => {
  provider = await startProvider();
  ctx = await startTestApp({ currencyApiUrl: provider.url, currencyApiKey: KEY, currencyTimeoutMs: 500 });
  user = await createAccount(ctx);
  const res = await ctx.request('POST', P, { headers: user.headers, body: { name: 'Widget', price: '10.00', category: 'Tools' } });
  assert.equal(res.status, 201, res.text);
  productId = res.body.id;
  await ctx.request('POST', P, { headers: user.headers, body: { name: 'Cheap', price: '0.01', category: 'Tools' } });
  await ctx.request('POST', P, { headers: user.headers, body: { name: 'Odd', price: '19.99', category: 'Tools' } });
});
after(async () => {
  await ctx?.close();
  await provider?.close();
});

describe('currency conversion', () => {
  test('without currency, converted_price equals price and the provider is not called', async () => {
    const res = await ctx.request('GET', `${P}${productId}/`, { headers: user.headers });
    assert.equal(res.body.converted_price, '10.00');
    assert.equal(res.body.currency, 'USD');
    assert.deepEqual(provider.calls, {});
  });

  test('EUR at 0.85 and GBP at 0.88 on retrieve, list and most-popular; each endpoint called once', async () => {
    for (let i = 0; i < 3; i++) {
      const one = await ctx.request('GET', `${P}${productId}/?currency=EUR`, { headers: user.headers });
      assert.equal(one.status, 200, one.text);
      assert.equal(one.body.converted_price, '8.50');
      assert.equal(one.body.price, '10.00');
      assert.equal(one.body.currency, 'EUR');
      const list = await ctx.request('GET', `${P}?currency=eur`, { headers: user.headers });
      assert.deepEqual(list.body.map((p: { converted_price: string }) => p.converted_price), ['16.99', '0.01', '8.50']);
      const popular = await ctx.request('GET', `${P}most-popular/?currency=GBP`, { headers: user.headers });
      assert.equal(popular.status, 200, popular.text);
      assert.equal(popular.body.find((p: { id: number }) => p.id === productId).converted_price, '8.80');
    }
    // 19.99 × 0.85 = 16.9915 → 16.99; 0.01 × 0.85 = 0.0085 → 0.01 (half up)
    assert.deepEqual(provider.calls, { '/currencies': 1, '/latest': 2 }, 'one list call, one rate call per currency');
  });

  test('concurrent first conversions share one provider call', async () => {
    const res = await Promise.all(Array.from({ length: 10 }, () => ctx.request('GET', `${P}?currency=JPY`, { headers: user.headers })));
    assert.ok(res.every((r) => r.status === 200));
    assert.equal(res[0].body.find((p: { id: number }) => p.id === productId).converted_price, '1512.35');
    assert.equal(provider.calls['/latest'], 3);
  });

  test('an unknown currency: 400 listing the supported ones', async () => {
    for (const c of ['XYZ', 'euro', '12', '%00']) {
      const res = await ctx.request('GET', `${P}${productId}/?currency=${c}`, { headers: user.headers });
      assert.equal(res.status, 400, res.text);
      assert.match(res.body.detail, /^Invalid currency\. Supported currencies are EUR, GBP, JPY, USD$/);
    }
    const list = await ctx.request('GET', `${P}?currency=XYZ`, { headers: user.headers });
    assert.equal(list.status, 400);
    const views = (await ctx.request('GET', P, { headers: user.headers })).body.find((p: { id: number }) => p.id === productId).views_count;
    const again = await ctx.request('GET', `${P}${productId}/?currency=ZZZ`, { headers: user.headers });
    assert.equal(again.status, 400);
    assert.equal((await ctx.request('GET', P, { headers: user.headers })).body.find((p: { id: number }) => p.id === productId).views_count, views, 'a refused view is not counted');
  });
});

describe('provider failures', () => {
  test('provider down with a cached rate: the cached rate answers', async () => {
    provider.mode = 'down';
    const res = await ctx.request('GET', `${P}${productId}/?currency=EUR`, { headers: user.headers });
    assert.equal(res.status, 200);
    assert.equal(res.body.converted_price, '8.50');
  });

  test('provider down, slow, answering garbage or redirecting, and nothing cached: 503 with a clear detail (a redirect is never followed)', async () => {
    const other = await startTestApp({ currencyApiUrl: provider.url, currencyApiKey: KEY, currencyTimeoutMs: 300 });
    try {
      const u = await createAccount(other);
      const made = await other.request('POST', P, { headers: u.headers, body: { name: 'W', price: '10.00' } });
      for (const [mode, why] of [
        ['down', /HTTP 500/],
        ['slow', /no answer within 300 ms/],
        ['garbage', /not JSON/],
        ['redirect', /could not be reached/],
      ] as const) {
        provider.mode = mode;
        const res = await other.request('GET', `${P}${made.body.id}/?currency=EUR`, { headers: u.headers });
        assert.equal(res.status, 503, `${mode}: ${res.text}`);
        assert.match(res.body.detail, why);
        assert.equal(res.headers.get('retry-after'), '60');
      }
      assert.equal(provider.calls.redirected, 1, 'the redirect was not followed');
      provider.mode = 'ok';
      const ok = await other.request('GET', `${P}${made.body.id}/?currency=EUR`, { headers: u.headers });
      assert.equal(ok.body.converted_price, '8.50', 'recovers once the provider answers');
      const unreachable = await startTestApp({ currencyApiUrl: 'http://127.0.0.1:1/v1', currencyApiKey: KEY });
      try {
        const v = await createAccount(unreachable);
        const r = await unreachable.request('GET', `${P}most-popular/?currency=EUR`, { headers: v.headers });
        assert.equal(r.status, 503);
        assert.match(r.body.detail, /could not be reached/);
      } finally {
        await unreachable.close();
      }
    } finally {
      provider.mode = 'ok';
      await other.close();
    }
  });
});

describe('offline configurations', () => {
  test('no API key: only USD, others 400 as the original did offline', async () => {
    const app = await startTestApp({ currencyApiUrl: provider.url, currencyApiKey: null });
    try {
      const u = await createAccount(app);
      const before = { ...provider.calls };
      const usd = await app.request('GET', `${P}most-popular/?currency=usd`, { headers: u.headers });
      assert.equal(usd.status, 200);
      const eur = await app.request('GET', `${P}most-popular/?currency=EUR`, { headers: u.headers });
      assert.equal(eur.status, 400);
      assert.equal(eur.body.detail, 'Invalid currency. Supported currencies are USD');
      assert.deepEqual(provider.calls, before, 'no provider call without a key');
    } finally {
      await app.close();
    }
  });

  test('CURRENCY_RATES_FILE: fixed rates, no provider', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'arbiter-rates-'));
    const file = path.join(dir, 'rates.json');
    writeFileSync(file, JSON.stringify({ data: { EUR: 0.85, CHF: '0.9' } }));
    const app = await startTestApp({ currencyApiUrl: provider.url, currencyApiKey: null, currencyRatesFile: file });
    try {
      const u = await createAccount(app);
      const made = await app.request('POST', P, { headers: u.headers, body: { name: 'W', price: '10.00' } });
      const chf = await app.request('GET', `${P}${made.body.id}/?currency=chf`, { headers: u.headers });
      assert.equal(chf.body.converted_price, '9.00');
      const gbp = await app.request('GET', `${P}${made.body.id}/?currency=GBP`, { headers: u.headers });
      assert.equal(gbp.body.detail, 'Invalid currency. Supported currencies are CHF, EUR, USD');
    } finally {
      await app.close();
    }
  });
});
