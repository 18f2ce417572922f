// Jobs/s enqueued and completed through Arbiter's job system, beside pg-boss's own minimal loop (the
// ceiling) in the same run, and the latency from enqueue to handler start at low load.
//   node bench/jobs.ts [--jobs 2000] [--pg postgres://postgres@127.0.0.1:5432/test]
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { PgBoss, fromPglite } from 'pg-boss';
import { loadConfig } from '../src/config.ts';
import { openDatabase, type Database } from '../src/platform/db.ts';
import { createJobSystem } from '../src/platform/jobs/jobs.ts';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '2000' }, pg: { type: 'string' } } });
const N = Number(values.jobs);
const log = { info() {}, warn() {}, error() {} };
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function arbiter(database: Database, url: string | null) {
  let done = 0;
  let resolveAll: () => void = () => {};
  const starts: number[] = [];
  const sentAt = new Map<number, number>();
  const config = loadConfig({}, { jobs: { workers: 1, pollMs: 500, superviseSeconds: 30, cronCheckSeconds: 30, schedules: [] } }).jobs;
  const jobs = createJobSystem({ database, databaseUrl: url, config, log });
  jobs.define<{ i: number; latency?: boolean }, null>({
    name: 'bench.noop',
    concurrency: 8,
    handler: async (job) => {
      if (job.data.latency) starts.push(performance.now() - sentAt.get(job.data.i)!);
      else if (++done === N) resolveAll();
      return null;
    },
  });
  await jobs.start({ work: true });
  const all = new Promise<void>((r) => (resolveAll = r));
  let t = performance.now();
  for (let i = 0; i < N; i += 100) await jobs.enqueueMany('bench.noop', Array.from({ length: Math.min(100, N - i) }, (_, k) => ({ data: { i: i + k } })));
  const enqueueS = (performance.now() - t) / 1000;
  await all;
  const totalS = (performance.now() - t) / 1000;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    sentAt.set(i, performance.now());
    await jobs.enqueue('bench.noop', { i, latency: true });
  }
  await new Promise((r) => setTimeout(r, 1500));
  await jobs.stop(2000);
  starts.sort((a, b) => a - b);
  return { enqueuePerS: N / enqueueS, completedPerS: N / totalS, p50: starts[Math.floor(starts.length / 2)], p95: starts[Math.floor(starts.length * 0.95)] };
}

async function ceiling(opts: ConstructorParameters<typeof PgBoss>[0]) {
  const boss = new PgBoss(opts as never);
  await boss.start();
  await boss.createQueue('ceiling');
  let done = 0;
  let resolveAll: () => void = () => {};
  const all = new Promise<void>((r) => (resolveAll = r));
  // The same fetching as Arbiter's: one loop taking up to 8 jobs a fetch, fetching again at once while full.
  await boss.work('ceiling', { batchSize: 8, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    done += jobs.length;
    if (done === N) resolveAll();
  });
  const t = performance.now();
  for (let i = 0; i < N; i += 100) await boss.insert('ceiling', Array.from({ length: Math.min(100, N - i) }, (_, k) => ({ data: { i: i + k } })));
  const enqueueS = (performance.now() - t) / 1000;
  await all;
  const totalS = (performance.now() - t) / 1000;
  await boss.stop({ graceful: true, timeout: 2000 });
  return { enqueuePerS: N / enqueueS, completedPerS: N / totalS };
}

console.log(`bench/jobs.ts: ${N} no-op jobs, concurrency 8 (fetches of up to 8), inserts of 100; ${os.cpus().length} cores, load before: ${load()}`);
console.log('| backend | Arbiter enqueue jobs/s | Arbiter completed jobs/s | pg-boss alone enqueue jobs/s | pg-boss alone completed jobs/s | Arbiter / pg-boss (completed) | enqueue→start p50 / p95 (ms, 1 job per 100 ms) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
const row = (name: string, a: Awaited<ReturnType<typeof arbiter>>, c: Awaited<ReturnType<typeof ceiling>>) =>
  console.log(`| ${name} | ${a.enqueuePerS.toFixed(0)} | ${a.completedPerS.toFixed(0)} | ${c.enqueuePerS.toFixed(0)} | ${c.completedPerS.toFixed(0)} | ${(a.completedPerS / c.completedPerS).toFixed(2)} | ${a.p50.toFixed(1)} / ${a.p95.toFixed(1)} |`);

{
  const database = await openDatabase({ databaseUrl: null, dataDir: '', memoryDb: true, dbPoolSize: 1 });
  await database.migrate();
  const a = await arbiter(database, null);
  await database.close();
  const pg = new PGlite();
  const c = await ceiling({ db: fromPglite(pg), backend: 'pglite' });
  await pg.close();
  row('embedded (PGlite)', a, c);
}
if (values.pg) {
  const name = `arbiter_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(values.pg, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(values.pg);
  url.pathname = `/${name}`;
  try {
    const database = await openDatabase({ databaseUrl: url.href, dataDir: '', memoryDb: false, dbPoolSize: 10 });
    await database.migrate();
    const a = await arbiter(database, url.href);
    await database.close();
    const c = await ceiling({ connectionString: url.href, max: 4, schema: 'ceiling' });
    row('PostgreSQL', a, c);
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
console.log(`load after: ${load()} (uptime: ${execSync('uptime').toString().trim()})`);
process.exit(0);
