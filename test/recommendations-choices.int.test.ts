// GET /api/v1/recommendations/choices: the strategy bandit's logged choices grouped per time bucket
// and strategy (counts, mean probability, rewards), for admins only, with bad windows refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';
import { waitFor } from './helpers/jobs.ts';
import { checkScenario, type Scenario } from './helpers/scenarios.ts';

const SECRET = 'choices-secret';
const S = { 'client-header-secret': SECRET };
const URL_ = '/api/v1/recommendations/choices';
const REWARD_WINDOW_S = 2;
const REQUESTS = 24;

let ctx: TestApp;
let admin: Record<string, string>;
let user: Record<string, string>;
let service: Record<string, string>;

before(async () => {
  ctx = await startTestApp({ auth: { clientHeaderSecret: SECRET }, recommendationsRefreshMs: 0, recommendationsRewardWindowS: REWARD_WINDOW_S, jobs: { pollMs: 500, cronCheckSeconds: 45 } });
  admin = await authHeaders(ctx, 'admin');
  user = await authHeaders(ctx, 'user');
  service = await authHeaders(ctx, 'service');
});
after(async () => ctx?.close());

describe('access: admins only', () => {
  const scenarios: (Scenario & { as?: () => Record<string, string> })[] = [
    { name: 'anonymous: 401', method: 'GET', url: URL_, status: 401 },
    { name: "a user's token: 403", method: 'GET', url: URL_, status: 403, as: () => user },
    { name: "a user's token with a window: 403 (not a 400 first)", method: 'GET', url: `${URL_}?bucket=day`, status: 403, as: () => user },
    { name: 'the Client-Header-Secret: 401 (it opens only the seed routes)', method: 'GET', url: URL_, status: 401, headers: S },
    { name: 'a service API key: 403', method: 'GET', url: URL_, status: 403, as: () => service },
    { name: 'a bad token: 401', method: 'GET', url: URL_, status: 401, headers: { authorization: 'Bearer nope' } },
    { name: 'an admin: 200, empty before any choice', method: 'GET', url: URL_, status: 200, as: () => admin, contains: { bucket: 'hour', bucket_seconds: 3600, policy: 'egreedy', reward_window_seconds: REWARD_WINDOW_S, rows: [] } },
  ];
  test('scenarios', async (t) => {
    for (const s of scenarios) await t.test(s.name, async () => void (await checkScenario(ctx, { ...s, headers: s.as ? s.as() : s.headers })));
  });
});

describe('bad input: a 400 naming the problem', () => {
  const long = 'x'.repeat(100);
  const bad: [string, string, string | RegExp][] = [
    ['an unknown bucket', '?bucket=week', /bucket/],
    ['a numeric bucket', '?bucket=3600', /bucket/],
    ['two buckets', '?bucket=hour&bucket=day', /bucket/],
    ['an unknown parameter', '?strategy=popular', /strategy|additional/i],
    ['from that is not a date', '?from=yesterday', 'from must be an ISO 8601 date-time'],
    ['to on a day that does not exist', '?to=2026-02-30T00:00:00Z', 'to is not a valid date-time'],
    ['from in year 10000', '?from=10000-01-01T00:00:00Z', /from/],
    ['from before year 100', '?from=0099-12-31T00:00:00Z', /from/],
    ['a 100-character from', `?from=${long}`, /from/],
    ['from after to', '?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'from must be before to'],
    ['from equal to to', '?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'from must be before to'],
    ['a year of minute buckets', '?bucket=minute&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', /at most 2000 are allowed/],
    ['a century of day buckets', '?bucket=day&from=1990-01-01T00:00:00Z&to=2090-01-01T00:00:00Z', /at most 2000/],
  ];
  test('scenarios', async (t) => {
    for (const [name, q, detail] of bad) await t.test(name, async () => void (await checkScenario(ctx, { name, method: 'GET', url: URL_ + q, headers: admin, status: 400, detail })));
  });
});

describe('the choices, grouped', () => {
  let decisions: { strategy: string; user: string; products: string[]; at: number }[] = [];
  let mayReward = 0;

  before(async () => {
    const cats = ['Kitchen', 'Garden', 'Books'];
    for (let p = 0; p < 12; p++) {
      const r = await ctx.request('POST', '/products', { headers: S, body: { product_id: `c-${p}`, product_name: `Product ${p}`, category: cats[p % 3] } });
      assert.equal(r.status, 201, r.text);
    }
    for (let u = 0; u < 8; u++) for (let p = u % 4; p < 12; p += 3) await ctx.request('POST', '/interactions', { headers: S, body: { user_id: `u-${u}`, product_id: `c-${p}`, category: cats[p % 3] } });
    const train = await ctx.request('POST', '/api/v1/recommendations/train', { headers: admin });
    assert.equal(train.status, 202, train.text);
    await waitFor('the build', async () => {
      const j = await ctx.request('GET', `/api/v1/jobs/${train.body.job_id}`, { headers: admin });
      if (j.body.state === 'failed') throw new Error(j.text);
      return j.body.state === 'completed' ? j.body : null;
    }, 60_000);
    decisions = [];
    let last: any = null;
    for (let i = 0; i < REQUESTS; i++) {
      const r = await ctx.request('GET', `/interaction-recommendations?product_id=c-${i % 12}&category=${cats[i % 3]}&user_id=shopper-${i % 3}`, { headers: S });
      assert.equal(r.status, 200, r.text);
      decisions.push({ strategy: r.headers.get('x-recommendation-strategy')!, user: `shopper-${i % 3}`, products: r.body.map((x: any) => x.product_id), at: Date.now() });
      last = { user: `shopper-${i % 3}`, body: r.body };
    }
    // A plain request (no user_id) is not a bandit choice.
    assert.equal((await ctx.request('GET', '/interaction-recommendations?product_id=c-1&category=Garden')).status, 200);
    // The last shopper interacts with a product of the answer: that choice is rewarded.
    assert.ok(last.body.length > 0, 'the last answer recommends something');
    const rew = await ctx.request('POST', '/interactions', { headers: S, body: { user_id: last.user, product_id: last.body[0].product_id, category: last.body[0].category } });
    assert.equal(rew.status, 201);
    // It rewards every open choice of that user whose answer held the product (within the window).
    mayReward = decisions.filter((d) => d.user === last.user && d.products.includes(last.body[0].product_id)).length;
  });

  test('hour buckets: counts per strategy add up to the personalised requests, with probabilities and the reward', async () => {
    const r = await ctx.request('GET', URL_, { headers: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.strategies, ['interaction', 'category', 'popular']);
    const total = r.body.rows.reduce((s: number, x: any) => s + x.chosen, 0);
    assert.equal(total, REQUESTS);
    const byStrategy = new Map<string, number>();
    for (const d of decisions) byStrategy.set(d.strategy, (byStrategy.get(d.strategy) ?? 0) + 1);
    for (const [s, n] of byStrategy) assert.equal(r.body.rows.filter((x: any) => x.strategy === s).reduce((a: number, x: any) => a + x.chosen, 0), n, s);
    for (const x of r.body.rows) {
      assert.equal(new Date(x.start).getTime() % 3_600_000, 0, 'on an hour boundary');
      assert.ok(x.mean_probability > 0 && x.mean_probability <= 1, JSON.stringify(x));
      assert.ok(x.rewarded <= x.settled && x.settled <= x.chosen, JSON.stringify(x));
      if (x.settled === 0) assert.equal(x.mean_reward, null);
      else assert.equal(x.mean_reward, x.rewarded / x.settled);
    }
    const rewarded = r.body.rows.reduce((s: number, x: any) => s + x.rewarded, 0);
    assert.ok(rewarded >= 1 && rewarded <= mayReward, `${rewarded} rewarded: at least the last choice, at most the ${mayReward} that showed the product`);
  });

  test('after the reward window every choice is settled; the unrewarded ones count as reward 0', async () => {
    await new Promise((res) => setTimeout(res, REWARD_WINDOW_S * 1000 + 200));
    const r = await ctx.request('GET', `${URL_}?bucket=minute`, { headers: admin });
    assert.equal(r.status, 200);
    assert.equal(r.body.bucket_seconds, 60);
    const settled = r.body.rows.reduce((s: number, x: any) => s + x.settled, 0);
    assert.equal(settled, REQUESTS);
    const rewarded = r.body.rows.reduce((s: number, x: any) => s + x.rewarded, 0);
    assert.ok(rewarded >= 1 && rewarded <= mayReward);
    // The evaluation's off-policy section reads the same log: the same settled and rewarded counts.
    const ev = await ctx.request('GET', '/api/v1/recommendations/evaluation', { headers: admin });
    assert.deepEqual([ev.body.bandit.decisions, ev.body.bandit.rewarded], [settled, rewarded]);
    for (const x of r.body.rows) assert.equal(new Date(x.start).getTime() % 60_000, 0);
  });

  test('the window: day buckets hold them all; a window ending before the first choice holds none', async () => {
    const day = await ctx.request('GET', `${URL_}?bucket=day`, { headers: admin });
    assert.equal(day.body.rows.reduce((s: number, x: any) => s + x.chosen, 0), REQUESTS);
    assert.ok(day.body.rows.length <= 3 * 2, 'at most two days (a run across midnight) of three strategies');
    const before = new Date(decisions[0].at - 60 * 60_000).toISOString();
    const none = await ctx.request('GET', `${URL_}?to=${encodeURIComponent(before)}`, { headers: admin });
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.rows, []);
    assert.equal(none.body.to, before);
    // from is aligned down to its bucket
    const aligned = await ctx.request('GET', `${URL_}?bucket=day&from=2026-01-05T13:14:15Z&to=2026-01-09T00:00:00Z`, { headers: admin });
    assert.equal(aligned.body.from, '2026-01-05T00:00:00.000Z');
  });
});
