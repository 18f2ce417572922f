// API checks as tables of scenarios (PocketBase's ApiScenario): each one request and what must come back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestApp, TestResponse } from './app.ts';

export interface Scenario {
  name: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  status: number;
  /** A subset the JSON body must contain (objects by key, arrays element by element and by length). */
  contains?: unknown;
  /** Substring the error detail must contain. */
  detail?: string | RegExp;
  responseHeaders?: Record<string, string | RegExp>;
  check?: (res: TestResponse) => void;
}

export function assertContains(actual: unknown, expected: unknown, path = 'body'): void {
  if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path}: expected an object or array, got ${JSON.stringify(actual)}`);
    if (Array.isArray(expected)) {
      assert.ok(Array.isArray(actual), `${path}: expected an array`);
      assert.equal(actual.length, expected.length, `${path}: expected ${expected.length} items, got ${actual.length}`);
    }
    for (const [k, v] of Object.entries(expected)) assertContains((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    assert.deepEqual(actual, expected, `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export async function checkScenario(ctx: TestApp, s: Scenario): Promise<TestResponse> {
  const res = await ctx.request(s.method, s.url, { body: s.body, rawBody: s.rawBody, headers: s.headers });
  assert.equal(res.status, s.status, `${s.method} ${s.url}: expected ${s.status}, got ${res.status} ${res.text.slice(0, 300)}`);
  if (s.status >= 400) {
    assert.equal(typeof res.body?.detail, 'string', `error responses carry a detail: ${res.text}`);
    assert.equal(typeof res.body?.code, 'string');
    assert.equal(typeof res.body?.requestId, 'string');
  }
  if (s.detail !== undefined) {
    const d = String(res.body?.detail);
    if (typeof s.detail === 'string') assert.ok(d.includes(s.detail), `detail "${d}" should contain "${s.detail}"`);
    else assert.match(d, s.detail);
  }
  if (s.contains !== undefined) assertContains(res.body, s.contains);
  for (const [h, v] of Object.entries(s.responseHeaders ?? {})) {
    const got = res.headers.get(h);
    if (typeof v === 'string') assert.equal(got, v, `header ${h}`);
    else assert.match(got ?? '', v, `header ${h}`);
  }
  s.check?.(res);
  return res;
}

/** Runs scenarios in order (later ones may depend on earlier writes), each as a subtest. */
export async function runScenarios(t: { test: typeof test }, ctx: () => TestApp, scenarios: Scenario[]): Promise<void> {
  for (const s of scenarios) await t.test(s.name, async () => void (await checkScenario(ctx(), s)));
}
