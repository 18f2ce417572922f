// Outbound webhooks against a real HTTP receiver on loopback: alert subscriptions (admin only), every
// alert raised delivered once per subscriber with a verifiable HMAC-SHA256 signature and an
// idempotency key, a retry after a 500 (in the delivery log), and hosts outside WEBHOOK_ALLOWED_HOSTS
// refused at subscription and at delivery.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { authHeaders, createAccount, type TestAccount } from './helpers/auth.ts';
import { startJobsApp, waitFor } from './helpers/jobs.ts';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
const failedOnce = new Set<string>();
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    received.push({ path: req.url!, headers: req.headers, body });
    const key = String(req.headers['idempotency-key']);
    // /flaky answers 500 to the first delivery of each key, then 200.
    if (req.url === '/flaky' && !failedOnce.has(key)) {
      failedOnce.add(key);
      res.writeHead(500).end('try again');
      return;
    }
    res.writeHead(200).end('ok');
  });
});

/** What a receiver does: recompute the signature over "<t>.<raw body>" with its secret, compare in constant time. */
function verify(secret: string, header: string, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2], 'hex'));
}

let ctx: Awaited<ReturnType<typeof startJobsApp>>;
let base: string;
let user: TestAccount;
let adminH: Record<string, string>;

before(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  ctx = await startJobsApp([], { webhooks: { allowedHosts: ['127.0.0.1', '*.example.com'], timeoutMs: 2000, retryLimit: 3, retryDelaySeconds: 1 } });
  user = await createAccount(ctx);
  adminH = await authHeaders(ctx, 'admin');
});
after(async () => {
  await ctx?.close();
  receiver.close();
});

const subscribe = (body: object, headers = adminH) => ctx.request('POST', '/api/alert-webhooks', { body, headers });
const withdraw = (amount: string, time: number) => ctx.request('POST', '/api/events', { body: { type: 'withdraw', amount, user_id: user.id, time }, headers: adminH });

describe('alert webhooks', () => {
  let okHook: { id: number; secret: string };
  let flakyHook: { id: number; secret: string };

  test('only admins subscribe; a user token is refused', async () => {
    const asUser = await subscribe({ url: `${base}/ok` }, user.headers);
    assert.equal(asUser.status, 403);
    assert.equal((await ctx.request('GET', '/api/alert-webhooks', { headers: user.headers })).status, 403);
    assert.equal((await ctx.request('DELETE', '/api/alert-webhooks/1', { headers: user.headers })).status, 403);
    assert.equal((await ctx.request('GET', '/api/alert-webhooks/1/deliveries', { headers: user.headers })).status, 403);
    const res = await subscribe({ url: `${base}/ok`, codes: [1100] });
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.secret, /^whsec_/);
    okHook = res.body;
    const flaky = await subscribe({ url: `${base}/flaky` });
    assert.equal(flaky.status, 201, flaky.text);
    flakyHook = flaky.body;
    const list = await ctx.request('GET', '/api/alert-webhooks', { headers: adminH });
    assert.equal(list.status, 200);
    assert.equal(list.body.length, 2);
    assert.ok(list.body.every((w: object) => !('secret' in w)), 'secrets are shown once only');
  });

  test('hosts outside WEBHOOK_ALLOWED_HOSTS are refused (loopback, private and link-local unless listed)', async () => {
    for (const url of ['http://localhost:9/x', 'http://10.0.0.1/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://evil.test/', 'ftp://127.0.0.1/x', 'http://u:p@127.0.0.1/x', 'not a url']) {
      const r = await subscribe({ url });
      assert.equal(r.status, 422, `${url}: ${r.text}`);
      assert.ok(r.body.detail);
    }
    const bad = await subscribe({ url: `${base}/ok`, extra: 1 });
    assert.equal(bad.status, 400);
  });

  test('an alert is delivered to each subscriber, signed, with an idempotency key; a 500 is retried', async () => {
    const event = await withdraw('150.00', 1);
    assert.equal(event.status, 200, event.text);
    assert.deepEqual(event.body.alert_codes, [1100]);
    const ok = await waitFor('the delivery to /ok', async () => received.find((r) => r.path === '/ok'));
    const body = JSON.parse(ok.body);
    assert.equal(body.event, 'alert.raised');
    assert.equal(body.alert.code, 1100);
    assert.equal(body.alert.user_id, user.id);
    assert.equal(ok.headers['idempotency-key'], body.idempotency_key);
    assert.equal(ok.headers['x-arbiter-event'], 'alert.raised');
    assert.ok(verify(okHook.secret, String(ok.headers['x-arbiter-signature']), ok.body), 'signature verifies with the subscriber secret');
    assert.ok(!verify(flakyHook.secret, String(ok.headers['x-arbiter-signature']), ok.body), 'and not with another secret');
    assert.ok(!verify(okHook.secret, String(ok.headers['x-arbiter-signature']), ok.body.replace('1100', '1101')), 'nor over another body');

    const flaky = await waitFor('the retried delivery to /flaky', async () => {
      const got = received.filter((r) => r.path === '/flaky');
      return got.length >= 2 ? got : null;
    });
    assert.equal(flaky[0].headers['idempotency-key'], flaky[1].headers['idempotency-key'], 'a retry carries the same key');
    assert.ok(verify(flakyHook.secret, String(flaky[1].headers['x-arbiter-signature']), flaky[1].body));
    const log = await waitFor('the delivery log', async () => {
      const r = await ctx.request('GET', `/api/alert-webhooks/${flakyHook.id}/deliveries`, { headers: adminH });
      return r.body.length >= 2 ? r.body : null;
    });
    assert.deepEqual(
      log.map((d: { attempt: number; status: number; ok: boolean }) => [d.attempt, d.status, d.ok]),
      [
        [2, 200, true],
        [1, 500, false],
      ],
    );
  });

  test('an event without an alert, or with a code nobody wants, enqueues nothing', async () => {
    const before = received.length;
    await ctx.request('DELETE', `/api/alert-webhooks/${flakyHook.id}`, { headers: adminH });
    const r = await withdraw('5.00', 100); // no rule fires
    assert.deepEqual(r.body.alert_codes, []);
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(received.length, before);
    const facts = await ctx.app.jobs.list({ owner: null, queue: 'fact.alert.raised.alert-webhooks', page: 1, size: 100 });
    assert.equal(facts.total, 1, 'one fact job, for the one alerting event');
  });

  test('a delivery to a host no longer allowed fails at once, without retries, and is logged', async () => {
    const id = await ctx.app.jobs.enqueue('webhooks.deliver', { url: 'http://10.1.2.3/hook', event: 'alert.raised', body: {}, idempotencyKey: 'k1', target: `alert-webhook:${okHook.id}` });
    const job = await waitFor('the refusal', async () => {
      const j = await ctx.app.jobs.get(id!);
      return j?.state === 'failed' ? j : null;
    });
    assert.equal(job.attempts, 1);
    assert.match(job.error!, /not in WEBHOOK_ALLOWED_HOSTS/);
    const log = await ctx.request('GET', `/api/alert-webhooks/${okHook.id}/deliveries`, { headers: adminH });
    assert.match(log.body[0].error, /^refused: /);
  });
  test("an alert's fact is stored in its event's transaction: when it cannot be, the event is not stored either", async () => {
    // A fault in the job table that refuses only this consumer's facts (an internal error, not a statement the client caused).
    await ctx.database.query(`create function pg_temp_refuse_fact() returns trigger language plpgsql as $$ begin raise exception 'fact refused' using errcode = 'XX000'; end $$`);
    await ctx.database.query(`create trigger refuse_alert_facts before insert on pgboss.job for each row when (new.name = 'fact.alert.raised.alert-webhooks') execute function pg_temp_refuse_fact()`);
    const events = async () => (await ctx.request('GET', `/api/events?user_id=${user.id}&size=100`, { headers: adminH })).body.length as number;
    const facts = async () => (await ctx.app.jobs.list({ owner: null, queue: 'fact.alert.raised.alert-webhooks', page: 1, size: 100 })).total;
    const [eventsBefore, factsBefore] = [await events(), await facts()];
    const refused = await withdraw('150.00', 200); // raises 1100, which okHook wants
    assert.equal(refused.status, 500, refused.text);
    assert.equal(await events(), eventsBefore, 'the event was not stored without its fact');
    assert.equal(await facts(), factsBefore);
    const quiet = await ctx.request('POST', '/api/events', { body: { type: 'deposit', amount: '5.00', user_id: user.id, time: 201 }, headers: adminH });
    assert.deepEqual(quiet.body.alert_codes, [], 'raises nothing: no fact, so nothing refused');
    assert.equal(quiet.status, 200, quiet.text);

    await ctx.database.query('drop trigger refuse_alert_facts on pgboss.job');
    const stored = await withdraw('150.00', 202);
    assert.equal(stored.status, 200, stored.text);
    assert.ok(stored.body.alert_codes.includes(1100), stored.text);
    assert.equal(await events(), eventsBefore + 2);
    assert.equal(await facts(), factsBefore + 1, 'the fact exists as soon as the answer is sent');
  });
});
