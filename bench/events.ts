// Seed 001's POST /api/events, and four other hot paths, in the three configurations users run:
// embedded PGlite without Redis (what `npm start` gives), embedded with REDIS_URL, and PostgreSQL with
// Redis. For each it prints, from one run on one machine:
// - events/s and p50/p99 of POST /api/events (50 users, an admin token), beside the database-only
//   ceiling (the events service's batches straight on the driver, no HTTP), with the server's
//   event-loop delay p99 and mean batch size (from its /metrics) during the load;
// - the same req/s, p99 and event-loop delay for a seed 002 create (POST /events), a filtered seed 002
//   list (GET /events?event_type=…), a login (AUTH_RATE_LIMIT_* raised so it measures logins, not
//   429s) and GET /api/alerts;
// - start-up to a ready /health on a fresh and on an existing database, idle RSS, the highest RSS
//   sampled during the loads and the process's lifetime peak (VmHWM, which start-up may set).
// `--baseline DIR` runs a second checkout's server (e.g. `git worktree add /tmp/base <commit>`, with
// node_modules linked) for each configuration right before this one's, so A/B share the load. The two
// list phases count exactly what the earlier phases stored: when A and B ingest at different rates,
// their list figures measure different amounts of data, not only different code.
// The server logs at LOG_LEVEL=error. The 1-minute load average is printed with every row: the machine
// is shared.
//   node bench/events.ts [--seconds 10] [--path-seconds 5] [--connections 50] [--path-connections 20]
//     [--users 50] [--pool 10] [--pg postgres://postgres@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/0]
//     [--only embedded,embedded+redis,pg] [--skip-paths] [--skip-driver] [--baseline DIR] [--webhook]
// `--webhook` subscribes an alert webhook (every code) to a receiver on loopback before the load, as a
// deployment with webhooks runs: each events batch then stores its alert fact in the batch's own
// transaction, and the server delivers the alerts while it ingests. The receiver's count of deliveries
// is printed. The database-only ceiling has no subscription: it stays the plain batch insert.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { openDatabase, type Database } from '../src/platform/db.ts';
import { createMemoryAlertBus } from '../src/modules/events/alert-stream.ts';
import { createEventsRepository } from '../src/modules/events/events.repository.ts';
import type { CreateEvent } from '../src/modules/events/events.schemas.ts';
import { createEventsService } from '../src/modules/events/events.service.ts';
import { INGEST_MAX_BATCH } from '../src/modules/events/index.ts';
import { wrk, type WrkOptions, type WrkResult } from './wrk.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'path-seconds': { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    'path-connections': { type: 'string', default: '20' },
    users: { type: 'string', default: '50' },
    pool: { type: 'string', default: '10' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379/0' },
    only: { type: 'string', default: 'embedded,embedded+redis,pg' },
    'skip-paths': { type: 'boolean', default: false },
    'skip-driver': { type: 'boolean', default: false },
    baseline: { type: 'string' },
    webhook: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const PATH_SECONDS = Number(args['path-seconds']);
/** Seconds of unmeasured load before each measured phase. */
const WARMUP = 2;
const CONNECTIONS = Number(args.connections);
const PATH_CONNECTIONS = Number(args['path-connections']);
const USERS = Number(args.users);
const POOL = Number(args.pool);
const FIRST_USER = 500_001;
const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' };
const CURRENT_DIR = path.resolve(import.meta.dirname, '..');

/** A deterministic stream of events: a deposit/withdraw mix, amounts 1–150, time rising per user. */
function eventSource(seed: number) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const clock = new Array<number>(USERS).fill(0);
  return () => {
    const u = Math.floor(rnd() * USERS);
    clock[u] += Math.floor(rnd() * 10);
    return { type: rnd() < 0.5 ? 'deposit' : 'withdraw', amount: (1 + Math.floor(rnd() * 14900) / 100).toFixed(2), user_id: FIRST_USER + u, time: clock[u] };
  };
}

const load1 = () => os.loadavg()[0];
const procStatus = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

interface Server {
  proc: ChildProcess;
  url: string;
  /** ms from spawn to the first 200 of /health. */
  startMs: number;
}

async function startServer(dir: string, env: Record<string, string>): Promise<Server> {
  const port = 30000 + Math.floor(Math.random() * 10000);
  const t0 = performance.now();
  // bin/arbiter.mjs, as `npm start` runs it (with its compile cache).
  const proc = spawn(process.execPath, ['bin/arbiter.mjs', 'serve'], {
    cwd: dir,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', SECRET_KEY: 'bench-secret-0123456789-abcdefghijklmnop' },
    stdio: 'inherit',
  });
  const url = `http://127.0.0.1:${port}`;
  while (performance.now() - t0 < 60_000) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { proc, url, startMs: performance.now() - t0 };
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error('server did not start');
}

async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode !== null) return;
  s.proc.kill('SIGTERM');
  await new Promise((r) => s.proc.once('exit', r));
}

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  if (res.status !== 200) throw new Error(`admin login: ${res.status} ${await res.text()}`);
  return `Bearer ${((await res.json()) as { access: string }).access}`;
}

/** The server's event-loop delay p99 since the previous scrape (prom-client resets it on each), and the batch-size sums. */
async function scrape(url: string, auth: string): Promise<{ lagP99: number; batchSum: number; batchCount: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: auth } })).text();
  const num = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { lagP99: num('nodejs_eventloop_lag_p99_seconds') * 1000, batchSum: num('events_ingest_batch_size_sum'), batchCount: num('events_ingest_batch_size_count') };
}

interface Phase {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  lagP99: number;
  /** Mean events per ingest batch (events phase only, NaN when the server has no such metric). */
  batch: number;
  load: number;
  /** The highest RSS sampled during this phase, in MB. */
  rss: number;
}

async function phase(server: Server, auth: string, opts: Omit<WrkOptions, 'url'>, pid: number, rssPeak: { mb: number }): Promise<Phase> {
  let before = await scrape(server.url, auth);
  let rss = 0;
  const sampler = setInterval(() => {
    rss = Math.max(rss, procStatus(pid, 'VmRSS'));
    rssPeak.mb = Math.max(rssPeak.mb, rss);
  }, 200);
  let result: WrkResult;
  try {
    // The warm-up first (compiling the path's code), then a fresh scrape so the loop delay and batches are the measured run's.
    await wrk({ url: server.url, ...opts, seconds: WARMUP, warmupSeconds: 0 });
    before = await scrape(server.url, auth);
    result = await wrk({ url: server.url, ...opts, warmupSeconds: 0 });
  } finally {
    clearInterval(sampler);
  }
  const after = await scrape(server.url, auth);
  return { ...result, lagP99: after.lagP99, batch: (after.batchSum - before.batchSum) / (after.batchCount - before.batchCount), load: load1(), rss };
}

/** The events service's batches straight on the database at the same concurrency: the ceiling HTTP can reach. */
async function driverCeiling(database: Database): Promise<{ ops: number; p99: number }> {
  const service = createEventsService({
    repo: createEventsRepository(database),
    bus: createMemoryAlertBus(),
    users: { findByExternalId: async () => null, findById: async () => null },
    autoCreateUsers: false,
    batching: { lanes: 1, maxBatch: INGEST_MAX_BATCH },
  });
  for (let u = 0; u < USERS; u++) await database.query('insert into users (user_id) values ($1) on conflict do nothing', [String(FIRST_USER + u)]);
  const next = eventSource(42);
  const latencies: number[] = [];
  let done = 0;
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        await service.ingest(next() as CreateEvent, { kind: 'service' });
        latencies.push(performance.now() - t0);
        done++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { ops: done / SECONDS, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

interface Result {
  config: string;
  code: string;
  startFresh: number;
  startExisting: number;
  idleRss: number;
  loadRss: number;
  hwm: number;
  phases: Map<string, Phase>;
  driver?: { ops: number; p99: number; load: number };
}

interface Target {
  name: string;
  /** A fresh database each call (a new DATA_DIR or a new PostgreSQL database), as env for the server. */
  fresh(tag: string): Promise<Record<string, string>>;
  /** The same kind of database for the driver ceiling. */
  driverDb(tag: string): Promise<Parameters<typeof openDatabase>[0]>;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-bench-events-'));
let dbCounter = 0;
async function freshPgDatabase(): Promise<string> {
  const name = `arbiter_bench_ev_${process.pid}_${dbCounter++}`;
  const admin = postgres(args.pg!, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  createdPg.push(name);
  return Object.assign(new URL(args.pg!), { pathname: `/${name}` }).toString();
}
const createdPg: string[] = [];

const allTargets: Target[] = [
  {
    name: 'embedded',
    fresh: async (tag) => ({ DATA_DIR: path.join(work, tag) }),
    driverDb: async (tag) => ({ databaseUrl: null, dataDir: path.join(work, tag), memoryDb: false, dbPoolSize: 1 }),
  },
  {
    name: 'embedded+redis',
    fresh: async (tag) => ({ DATA_DIR: path.join(work, tag), REDIS_URL: args.redis! }),
    driverDb: async (tag) => ({ databaseUrl: null, dataDir: path.join(work, tag), memoryDb: false, dbPoolSize: 1 }),
  },
  {
    name: 'pg',
    fresh: async () => ({ DATABASE_URL: await freshPgDatabase(), DB_POOL_SIZE: String(POOL), REDIS_URL: args.redis! }),
    driverDb: async () => ({ databaseUrl: await freshPgDatabase(), dataDir: work, memoryDb: false, dbPoolSize: POOL }),
  },
];
const targets = allTargets.filter((t) => args.only!.split(',').includes(t.name));

const LABEL: Record<string, string> = { embedded: 'embedded, no Redis', 'embedded+redis': 'embedded + Redis', pg: 'PostgreSQL + Redis' };

async function benchServer(target: Target, code: string, dir: string): Promise<Result> {
  const tag = `${target.name}-${code}-${dbCounter++}`;
  const env = await target.fresh(tag);
  // Start-up as `npm start` does it (no bootstrap admin): once on a fresh database, once on the same one again.
  const fresh = await startServer(dir, env);
  await stopServer(fresh);
  const existing = await startServer(dir, env);
  await stopServer(existing);
  const server = await startServer(dir, { ...env, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, AUTH_RATE_LIMIT_PER_IP: '1000000', AUTH_RATE_LIMIT_PER_ACCOUNT: '1000000', ...(receiver ? { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } : {}) });
  const pid = server.proc.pid!;
  const phases = new Map<string, Phase>();
  const rssPeak = { mb: 0 };
  let idleRss = NaN;
  let hwm = NaN;
  try {
    const auth = await login(server.url);
    const headers = { 'content-type': 'application/json', authorization: auth };
    if (receiver) {
      const r = await fetch(`${server.url}/api/alert-webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: receiver.url }) });
      if (r.status !== 201) throw new Error(`subscribing the webhook: ${r.status} ${await r.text()}`);
    }
    for (let u = 0; u < USERS; u++) {
      const r = await fetch(`${server.url}/users`, { method: 'POST', headers, body: JSON.stringify({ user_id: String(FIRST_USER + u) }) });
      if (r.status !== 201 && r.status !== 409) throw new Error(`creating user: ${r.status} ${await r.text()}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    idleRss = procStatus(pid, 'VmRSS');
    // Seed 001 events for USERS users: deposits and withdrawals of 1.00–149.99, each user's time rising.
    const eventsLua = `n = (n or 0) + 1
  local kind = (math.random() < 0.5) and "deposit" or "withdraw"
  body = string.format('{"type":"%s","amount":"%d.%02d","user_id":%d,"time":%d}', kind, math.random(1, 149), math.random(0, 99), ${FIRST_USER} + n % ${USERS}, n)
  path = "/api/events"`;
    phases.set('POST /api/events', await phase(server, auth, { connections: CONNECTIONS, seconds: SECONDS, method: 'POST', headers, requestLua: eventsLua }, pid, rssPeak));
    if (!args['skip-paths']) {
      const common = { connections: PATH_CONNECTIONS, seconds: PATH_SECONDS };
      const logBody = JSON.stringify({ event_type: 'bench', event_source: 'bench', log_level: 'info', event_data: { page: '/home', ms: 42 } });
      phases.set('seed 002 create (POST /events)', await phase(server, auth, { ...common, path: '/events', method: 'POST', headers, body: logBody }, pid, rssPeak));
      phases.set('seed 002 list (GET /events?event_type=)', await phase(server, auth, { ...common, path: '/events?event_type=bench&page=2&size=10', headers: { authorization: auth } }, pid, rssPeak));
      phases.set('login (POST /api/v1/auth/login/)', await phase(server, auth, { ...common, path: '/api/v1/auth/login/', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) }, pid, rssPeak));
      phases.set('GET /api/alerts', await phase(server, auth, { ...common, path: '/api/alerts?page=1&size=10', headers: { authorization: auth } }, pid, rssPeak));
    }
  } finally {
    hwm = procStatus(pid, 'VmHWM');
    await stopServer(server);
  }
  return { config: LABEL[target.name], code, startFresh: fresh.startMs, startExisting: existing.startMs, idleRss, loadRss: rssPeak.mb, hwm, phases };
}

/** With --webhook: a loopback receiver that answers every delivery 204 and counts them. */
const receiver = args.webhook
  ? await new Promise<{ url: string; deliveries: number; server: http.Server }>((resolve) => {
      const r = { url: '', deliveries: 0, server: http.createServer((req, res) => req.resume().on('end', () => (r.deliveries++, res.writeHead(204).end()))) };
      r.server.listen(0, '127.0.0.1', () => resolve(Object.assign(r, { url: `http://127.0.0.1:${(r.server.address() as { port: number }).port}/alerts` })));
    })
  : undefined;

const results: Result[] = [];
try {
  for (const target of targets) {
    if (args.baseline) results.push(await benchServer(target, 'baseline', path.resolve(args.baseline)));
    const current = await benchServer(target, 'this', CURRENT_DIR);
    if (!args['skip-driver']) {
      const database = await openDatabase(await target.driverDb(`${target.name}-driver`));
      await database.migrate();
      const d = await driverCeiling(database);
      await database.close();
      current.driver = { ...d, load: load1() };
    }
    results.push(current);
  }
} finally {
  if (createdPg.length) {
    const admin = postgres(args.pg!, { max: 1, onnotice: () => {} });
    for (const name of createdPg) await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
  }
  fs.rmSync(work, { recursive: true, force: true });
  receiver?.server.close();
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
console.log(`\nArbiter hot paths: ${os.cpus().length} cores, node ${process.version}, loopback, wrk (one thread) after ${WARMUP} s of warm-up per phase, server LOG_LEVEL=error, admin bearer token; POST /api/events ${CONNECTIONS} connections × ${SECONDS} s over ${USERS} users; other paths ${PATH_CONNECTIONS} connections × ${PATH_SECONDS} s; PostgreSQL pool ${POOL}${receiver ? `; an alert webhook subscribed, ${receiver.deliveries} deliveries received over the run` : ''}`);
console.log('\n| configuration | code | path | req/s | p50 (ms) | p99 (ms) | event-loop delay p99 (ms) | mean batch | highest RSS (MB) | errors | load |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  for (const [name, p] of r.phases) {
    console.log(`| ${r.config} | ${r.code} | ${name} | ${f0(p.rps)} | ${f1(p.p50)} | ${f1(p.p99)} | ${f1(p.lagP99)} | ${name === 'POST /api/events' ? f1(p.batch) : ''} | ${f0(p.rss)} | ${p.errors} | ${p.load.toFixed(1)} |`);
  }
  if (r.driver) console.log(`| ${r.config} | ${r.code} | events service on the database, no HTTP (ceiling) | ${f0(r.driver.ops)} | | ${f1(r.driver.p99)} | | | | | ${r.driver.load.toFixed(1)} |`);
}
console.log('\n| configuration | code | start-up, fresh database (s) | start-up, existing database (s) | idle RSS (MB) | highest RSS under load (MB) | lifetime peak RSS, VmHWM (MB) |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of results) console.log(`| ${r.config} | ${r.code} | ${(r.startFresh / 1000).toFixed(2)} | ${(r.startExisting / 1000).toFixed(2)} | ${f0(r.idleRss)} | ${f0(r.loadRss)} | ${f0(r.hwm)} |`);
