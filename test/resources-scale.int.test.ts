// Seed 002 at scale: keyset pagination through the Link header, the count a client asks for with
// Prefer: count=… (PostgREST's convention), and creates batched into one statement under load.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';

let server: TestApp;
let ctx: TestApp;
before(async () => {
  server = await startTestApp();
  ctx = server.withHeaders(await authHeaders(server, 'admin'));
  // 23 sessions: equal times (ties broken by the key), microseconds that a Date would drop, and rows
  // without a time (listed last).
  const times = ['2026-01-01T00:00:00.000001Z', '2026-01-01T00:00:00.000002Z', '2026-01-01T00:00:00Z', '2025-06-01T12:00:00Z', null];
  for (let i = 0; i < 23; i++) {
    const body: Record<string, unknown> = { session_id: `s${String(i).padStart(2, '0')}`, region: i % 2 ? 'eu' : 'us' };
    if (times[i % times.length] !== null) body.ts_start = times[i % times.length];
    assert.equal((await ctx.request('POST', '/sessions', { body })).status, 201);
  }
});
after(() => server?.close());

async function walk(first: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let url: string | null = first;
  let pages = 0;
  while (url) {
    const res = await ctx.request('GET', url);
    assert.equal(res.status, 200, res.text);
    ids.push(...res.body.map((s: { session_id: string }) => s.session_id));
    pages++;
    const link = res.headers.get('link');
    url = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : null;
    assert.ok(pages < 50);
  }
  return { ids, pages };
}

describe('keyset pagination', () => {
  test('following the Link header gives every row once, in the order page/size gives', async () => {
    const byPage: string[] = [];
    for (let page = 1; page <= 5; page++) {
      const res = await ctx.request('GET', `/sessions?size=5&page=${page}`);
      byPage.push(...res.body.map((s: { session_id: string }) => s.session_id));
    }
    assert.equal(byPage.length, 23);
    const { ids, pages } = await walk('/sessions?size=5');
    assert.deepEqual(ids, byPage);
    assert.equal(pages, 5);
    const filtered = await walk('/sessions?size=4&region=eu');
    assert.deepEqual(filtered.ids, byPage.filter((id) => Number(id.slice(1)) % 2 === 1));
  });

  test('a cursor that is not one, or with a page, is a 400', async () => {
    for (const bad of ['xyz', Buffer.from('[1,2,3]').toString('base64url'), Buffer.from('["tomorrow","s1"]').toString('base64url')]) {
      const res = await ctx.request('GET', `/sessions?after=${bad}`);
      assert.equal(res.status, 400, bad);
      assert.match(res.body.detail, /after/);
    }
    const link = (await ctx.request('GET', '/sessions?size=5')).headers.get('link')!;
    const next = /after=([^&>]+)/.exec(link)![1];
    assert.equal((await ctx.request('GET', `/sessions?page=2&after=${next}`)).status, 400);
  });

  test('a user walks only their own rows', async () => {
    const user = server.withHeaders(await authHeaders(server, 'user'));
    const res = await user.request('GET', '/sessions?size=5');
    assert.deepEqual(res.body, []);
    assert.equal(res.headers.get('link'), null);
  });
});

describe('Prefer: count', () => {
  test('exact by default; planned, estimated and none on request, and the answer says which it gave', async () => {
    const plain = await ctx.request('GET', '/sessions?size=2');
    assert.equal(plain.headers.get('x-total-count'), '23');
    assert.equal(plain.headers.get('preference-applied'), null);
    const exact = await ctx.request('GET', '/sessions?size=2', { headers: { prefer: 'count=exact' } });
    assert.equal(exact.headers.get('x-total-count'), '23');
    assert.equal(exact.headers.get('preference-applied'), 'count=exact');
    const planned = await ctx.request('GET', '/sessions?size=2&region=eu', { headers: { prefer: 'return=minimal, count=planned' } });
    assert.equal(planned.headers.get('preference-applied'), 'count=planned');
    assert.ok(Number.isInteger(Number(planned.headers.get('x-total-count'))), 'a whole-number estimate');
    const estimated = await ctx.request('GET', '/sessions?size=2', { headers: { prefer: 'count=estimated' } });
    assert.equal(estimated.headers.get('preference-applied'), 'count=exact', 'small tables are counted exactly');
    assert.equal(estimated.headers.get('x-total-count'), '23');
    const none = await ctx.request('GET', '/sessions?size=2', { headers: { prefer: 'count=none' } });
    assert.equal(none.headers.get('x-total-count'), null);
    assert.equal(none.headers.get('preference-applied'), 'count=none');
    assert.equal(none.body.length, 2);
    const unknown = await ctx.request('GET', '/sessions?size=2', { headers: { prefer: 'count=sometimes' } });
    assert.equal(unknown.headers.get('x-total-count'), '23', 'an unknown preference is ignored');
  });
});

describe('batched creates', () => {
  test('concurrent creates: each answered on its own, a duplicate is only its own 409, every row stored once', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `rec-${i}`);
    ids.splice(20, 0, 'rec-7'); // a duplicate in the middle of the burst
    const answers = await Promise.all(ids.map((id) => ctx.request('POST', '/recordings', { body: { recording_id: id, recording_type: 'audio' } })));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 201).length, 40);
    assert.equal(statuses.filter((s) => s === 409).length, 1);
    assert.match(answers.find((a) => a.status === 409)!.body.detail, /rec-7/);
    for (const a of answers.filter((x) => x.status === 201)) assert.equal(a.headers.get('location'), `/recordings/${a.body.recording_id}`);
    const listed = await ctx.request('GET', '/recordings?size=100&recording_type=audio');
    assert.deepEqual(listed.body.map((r: { recording_id: string }) => r.recording_id).sort(), [...new Set(ids)].sort());
    // Generated keys are handed back to the request that made each row.
    const events = await Promise.all(Array.from({ length: 30 }, (_, i) => ctx.request('POST', '/events', { body: { event_type: `t${i}` } })));
    for (const [i, e] of events.entries()) {
      assert.equal(e.status, 201);
      const again = await ctx.request('GET', `/events/${e.body.event_id}`);
      assert.equal(again.body.event_type, `t${i}`);
    }
  });
});
