// The job system in one process: enqueue in a transaction (rollback leaves no job), retries with
// backoff, the dead-letter queue, cancel reaching the handler's signal, timeouts, worker threads,
// a cron schedule, metrics, and the jobs routes' ownership rule. Embedded PGlite, or PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JobContext, QueueSpec } from '../src/platform/jobs/jobs.ts';
import { createAccount, authHeaders, type TestAccount } from './helpers/auth.ts';
import { startJobsApp, waitFor } from './helpers/jobs.ts';
import type { TestApp } from './helpers/app.ts';
import { longestLoopGap } from './helpers/event-loop.ts';

const attempts = new Map<string, number[]>();
const aborted = new Set<string>();
let cronFirings = 0;

const queues: QueueSpec[] = [
  {
    name: 'test.echo',
    handler: async (job: JobContext<{ tag: string }>) => {
      await job.progress(50, 'half way');
      return { echo: job.data.tag };
    },
  },
  {
    name: 'test.flaky',
    retryLimit: 2,
    retryDelaySeconds: 1,
    backoff: true,
    handler: async (job: JobContext<{ tag: string; failTimes: number }>) => {
      const list = attempts.get(job.data.tag) ?? [];
      list.push(Date.now());
      attempts.set(job.data.tag, list);
      if (list.length <= job.data.failTimes) throw new Error(`failure ${list.length}`);
      return { attempts: list.length };
    },
  },
  { name: 'test.doomed', retryLimit: 1, retryDelaySeconds: 0, backoff: false, handler: async () => { throw new Error('always fails'); } },
  {
    name: 'test.slow',
    retryLimit: 0,
    handler: async (job: JobContext<{ tag: string }>) => {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 30_000);
        job.signal.addEventListener('abort', () => {
          clearTimeout(t);
          aborted.add(job.data.tag);
          resolve();
        });
      });
      return null;
    },
  },
  {
    name: 'test.timeout',
    retryLimit: 0,
    timeoutSeconds: 1,
    handler: async (job: JobContext<{ tag: string }>) => {
      await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => (aborted.add(job.data.tag), resolve())));
    },
  },
  { name: 'test.cpu', thread: new URL('./fixtures/cpu-job.ts', import.meta.url), retryLimit: 0 },
  { name: 'test.cron', retryLimit: 0, handler: async () => void cronFirings++ },
];

let ctx: Awaited<ReturnType<typeof startJobsApp>>;
let alice: TestAccount;
let bob: TestAccount;

before(async () => {
  ctx = await startJobsApp(queues, { jobs: { schedules: [{ queue: 'test.cron', cron: '* * * * *' }] } });
  alice = await createAccount(ctx);
  bob = await createAccount(ctx);
});
after(async () => ctx?.close());

const admin = async () => ctx.withHeaders(await authHeaders(ctx, 'admin'));
const job = async (id: string) => (await admin()).request('GET', `/api/v1/jobs/${id}`);
const settled = (id: string, states = ['completed', 'failed', 'cancelled']) =>
  waitFor(`job ${id} to settle`, async () => {
    const r = await job(id);
    return states.includes(r.body?.state) ? r.body : null;
  });

describe('jobs', () => {
  test('a job enqueued in a transaction that rolls back does not exist; one that commits runs', async () => {
    let rolledBackId: string | null = null;
    await assert.rejects(
      ctx.database.db.transaction(async (tx) => {
        rolledBackId = await ctx.app.jobs.enqueue('test.echo', { tag: 'rolled-back' }, { tx, owner: String(alice.id) });
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.ok(rolledBackId);
    assert.equal((await job(rolledBackId)).status, 404, 'no job after a rollback');
    const committed = await ctx.database.db.transaction(async (tx) => ctx.app.jobs.enqueue('test.echo', { tag: 'committed' }, { tx, owner: String(alice.id) }));
    const done = await settled(committed!);
    assert.equal(done.state, 'completed');
    assert.deepEqual(done.result, { echo: 'committed' });
    assert.equal(done.progress, 50);
    assert.equal(done.progress_note, 'half way');
    assert.equal(done.owner_user_id, String(alice.id));
  });

  test('a failing job is retried with exponential backoff, then completes', async () => {
    const id = await ctx.app.jobs.enqueue('test.flaky', { tag: 'flaky', failTimes: 2 });
    const done = await settled(id!);
    assert.equal(done.state, 'completed', JSON.stringify(done));
    assert.deepEqual(done.result, { attempts: 3 });
    const [a, b, c] = attempts.get('flaky')!;
    // retryDelay 1 s doubled with jitter: the first wait is 1–2 s, the second 2–4 s (polling adds up to 0.5 s).
    assert.ok(b - a >= 900, `first retry after ${b - a} ms`);
    assert.ok(c - b >= 1900, `second retry after ${c - b} ms: no backoff`);
  });

  test('a job that fails for good lands in its dead-letter queue, with its error', async () => {
    const id = await ctx.app.jobs.enqueue('test.doomed', { tag: 'doomed' });
    const done = await settled(id!);
    assert.equal(done.state, 'failed');
    assert.equal(done.error, 'always fails');
    assert.equal(done.attempts, 2);
    const dead = await waitFor('the dead letter', async () => (await ctx.app.jobs.list({ owner: null, queue: 'test.doomed.dead', page: 1, size: 10 })).rows[0]);
    assert.deepEqual(dead.data, { tag: 'doomed' });
  });

  test('cancel by the owner reaches the running handler through its AbortSignal', async () => {
    const id = await ctx.app.jobs.enqueue('test.slow', { tag: 'slow' }, { owner: String(alice.id) });
    await waitFor('the job to start', async () => (await job(id!)).body.state === 'active');
    const asBob = await ctx.request('POST', `/api/v1/jobs/${id}/cancel`, { headers: bob.headers });
    assert.equal(asBob.status, 404, "someone else's job cannot be cancelled");
    const res = await ctx.request('POST', `/api/v1/jobs/${id}/cancel`, { headers: alice.headers });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.state, 'cancelled');
    await waitFor('the handler to see the abort', async () => aborted.has('slow'), 5000);
    const again = await ctx.request('POST', `/api/v1/jobs/${id}/cancel`, { headers: alice.headers });
    assert.equal(again.status, 409);
  });

  test('a job running past its timeout fails and its signal is aborted', async () => {
    const id = await ctx.app.jobs.enqueue('test.timeout', { tag: 'timeout' });
    const done = await settled(id!);
    assert.equal(done.state, 'failed');
    assert.match(done.error, /exceeded/);
    assert.ok(aborted.has('timeout'));
  });

  test('a CPU-bound job runs on a worker thread: the event loop keeps turning', async () => {
    const { result: done, maxGap: worst } = await longestLoopGap(async () => settled((await ctx.app.jobs.enqueue('test.cpu', { ms: 1500 }))!), 10);
    assert.equal(done.state, 'completed', JSON.stringify(done));
    assert.deepEqual(done.result, { spins: true });
    assert.equal(done.progress, 100);
    assert.ok(worst < 1000, `the event loop stalled for ${worst.toFixed(0)} ms`);
  });

  test('/metrics has queue depth, durations and failures', async () => {
    const text = (await (await admin()).request('GET', '/metrics')).text;
    assert.match(text, /jobs_queue_depth\{queue="test.echo",state="created"\} \d+/);
    assert.match(text, /jobs_duration_seconds_count\{queue="test.echo",outcome="completed"\} [1-9]/);
    assert.match(text, /jobs_failures_total\{queue="test.doomed"\} 2/);
  });

  test('a cron schedule from the configuration fires once per period', { timeout: 90_000 }, async () => {
    const first = await waitFor('the first cron firing', async () => (await ctx.app.jobs.list({ owner: null, queue: 'test.cron', page: 1, size: 10 })).total > 0, 75_000, 500);
    assert.ok(first);
    const minute = new Date().getUTCMinutes();
    await new Promise((r) => setTimeout(r, 4000)); // four more cron passes (JOBS_CRON_CHECK_S=1)
    const { rows } = await ctx.app.jobs.list({ owner: null, queue: 'test.cron', page: 1, size: 10 });
    const inMinute = rows.filter((r) => new Date(r.created_at).getUTCMinutes() === minute);
    assert.equal(inMinute.length, 1, `firings this minute: ${JSON.stringify(rows.map((r) => r.created_at))}`);
  });
});

describe('jobs routes: your own jobs; admins all', () => {
  let aliceJob: string;
  before(async () => {
    aliceJob = (await ctx.app.jobs.enqueue('test.echo', { tag: 'mine' }, { owner: String(alice.id) }))!;
  });
  test('the owner lists and reads it', async () => {
    const list = await ctx.request('GET', '/api/v1/jobs', { headers: alice.headers });
    assert.equal(list.status, 200);
    assert.ok(list.body.some((j: { id: string }) => j.id === aliceJob));
    assert.ok(list.body.every((j: { owner_user_id: string }) => j.owner_user_id === String(alice.id)));
    assert.equal((await ctx.request('GET', `/api/v1/jobs/${aliceJob}`, { headers: alice.headers })).status, 200);
  });
  test("someone else's token is refused: not listed, 404 to read or cancel", async () => {
    const list = await ctx.request('GET', '/api/v1/jobs', { headers: bob.headers });
    assert.equal(list.status, 200);
    assert.ok(!list.body.some((j: { id: string }) => j.id === aliceJob));
    assert.equal((await ctx.request('GET', `/api/v1/jobs/${aliceJob}`, { headers: bob.headers })).status, 404);
    assert.equal((await ctx.request('POST', `/api/v1/jobs/${aliceJob}/cancel`, { headers: bob.headers })).status, 404);
  });
  test('admins see every job, system jobs too', async () => {
    const list = await (await admin()).request('GET', '/api/v1/jobs?size=100');
    assert.equal(list.status, 200);
    assert.ok(list.body.some((j: { id: string }) => j.id === aliceJob));
    assert.ok(list.body.some((j: { owner_user_id: string | null }) => j.owner_user_id === null));
    assert.ok(Number(list.headers.get('x-total-count')) >= list.body.length);
  });
  test('bad input is a 4xx with a detail; no token is 401', async () => {
    for (const [path, status] of [['/api/v1/jobs/not-a-uuid', 400], ['/api/v1/jobs?state=bogus', 400], ['/api/v1/jobs?size=1000', 400], ['/api/v1/jobs?nope=1', 400]] as const) {
      const r = await ctx.request('GET', path, { headers: alice.headers });
      assert.equal(r.status, status, path);
      assert.ok(r.body.detail, path);
    }
    assert.equal((await ctx.request('GET', '/api/v1/jobs')).status, 401);
    assert.equal((await ctx.request('GET', `/api/v1/jobs/00000000-0000-4000-8000-000000000000`, { headers: alice.headers })).status, 404);
  });
});
