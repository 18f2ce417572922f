// Seed 001's POST /api/events with rule evaluation: events/s and p50/p99 over loopback HTTP, 50
// users, on the embedded database and on PostgreSQL, each beside the database side alone measured in
// the same run (the events service's batches straight on the driver, and one events_ingest statement
// per event as before batching), and the ratio to the original Flask service's ~120 events/s. Every
// answer is sent after the event's transaction committed.
// The server logs at LOG_LEVEL=warn (at info, pino writes two lines per request). Beside each phase
// it prints the 1-minute load average (the machine is shared) and the client's CPU, so a saturated
// client (autocannon) would show.
//   node bench/events.ts [--seconds 10] [--connections 50] [--users 50] [--pool 10] [--pg postgres://postgres@127.0.0.1:5432/test] [--skip-pg] [--skip-embedded]
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import type { PGlite } from '@electric-sql/pglite';
import { openDatabase, type Database } from '../src/platform/db.ts';
import { createMemoryAlertBus } from '../src/modules/events/alert-stream.ts';
import { createEventsRepository } from '../src/modules/events/events.repository.ts';
import type { CreateEvent } from '../src/modules/events/events.schemas.ts';
import { createEventsService } from '../src/modules/events/events.service.ts';
import { INGEST_MAX_BATCH } from '../src/modules/events/index.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    users: { type: 'string', default: '50' },
    pool: { type: 'string', default: '10' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'skip-pg': { type: 'boolean', default: false },
    'skip-embedded': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const USERS = Number(args.users);
const POOL = Number(args.pool);
const ORIGINAL_EVENTS_PER_S = 120;
const FIRST_USER = 500_001;

/** A deterministic stream of events: 50 users, a deposit/withdraw mix, amounts 1–150, time rising per user. */
function eventSource(seed: number) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const clock = new Array<number>(USERS).fill(0);
  return () => {
    const u = Math.floor(rnd() * USERS);
    clock[u] += Math.floor(rnd() * 10);
    return {
      type: rnd() < 0.5 ? 'deposit' : 'withdraw',
      amount: (1 + Math.floor(rnd() * 14900) / 100).toFixed(2),
      user_id: FIRST_USER + u,
      time: clock[u],
    };
  };
}

interface Row {
  backend: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  alertRate: number;
  /** The events service straight on the database (batched as the server sends), no HTTP. */
  driver: number;
  driverP99: number;
  /** One events_ingest statement per event through the driver, no batching. */
  single: number;
  singleP99: number;
  /** The bench process's CPU while autocannon ran, in % of one core. */
  clientCpu: number;
  /** 1-minute load average at the end of the HTTP phase and of the driver phase. */
  load: [number, number];
}

async function startServer(env: Record<string, string>): Promise<{ proc: ChildProcess; url: string }> {
  const port = 30000 + Math.floor(Math.random() * 10000);
  const proc = spawn(process.execPath, ['src/cli.ts', 'serve'], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SECRET_KEY: 'bench-secret-0123456789-abcdefghijklmnop' },
    stdio: 'inherit',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/ready`)).ok) return { proc, url };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('server did not start');
}

/** With auth on, a bearer token for a fresh account (as test/helpers/auth.ts makes one); without, no header. */
async function authHeader(url: string): Promise<Record<string, string>> {
  const probe = await fetch(`${url}/api/rules`);
  if (probe.status !== 401) return {};
  const email = `bench-${Date.now()}@example.com`;
  const password = 'bench-password-123';
  const json = { 'content-type': 'application/json' };
  const reg = await fetch(`${url}/api/v1/auth/register/`, { method: 'POST', headers: json, body: JSON.stringify({ email, password, first_name: 'Bench', last_name: 'User' }) });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`);
  const login = await fetch(`${url}/api/v1/auth/login/`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
  const { access } = (await login.json()) as { access: string };
  return { authorization: `Bearer ${access}` };
}

async function benchHttp(url: string): Promise<Omit<Row, 'backend' | 'driver' | 'driverP99' | 'single' | 'singleP99' | 'load'> & { auth: boolean }> {
  const auth = await authHeader(url);
  const headers = { 'content-type': 'application/json', ...auth };
  for (let u = 0; u < USERS; u++) {
    const r = await fetch(`${url}/users`, { method: 'POST', headers, body: JSON.stringify({ user_id: String(FIRST_USER + u) }) });
    if (r.status !== 201 && r.status !== 409) throw new Error(`creating user: ${r.status} ${await r.text()}`);
  }
  const next = eventSource(42);
  let answers = 0;
  let alerting = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [{ method: 'POST', path: '/api/events', headers, setupRequest: (req) => ({ ...req, body: JSON.stringify(next()) }), onResponse: (status, body) => {
      if (status !== 200) return;
      answers++;
      if (body.includes('"alert":true')) alerting++;
    } }],
  });
  const cpu = process.cpuUsage(cpu0);
  const clientCpu = ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx, alertRate: answers ? alerting / answers : 0, clientCpu, auth: Object.keys(auth).length > 0 };
}

/**
 * The database side alone, at the same concurrency: `batched` is the route's own path without HTTP (the
 * events service: validation, then the lanes' batches of events_ingest_batch, as the server sends
 * them); `single` is one `select events_ingest(…)` per event, the statement before batching.
 */
async function driverCeiling(database: Database, mode: 'batched' | 'single', next: ReturnType<typeof eventSource>): Promise<{ ops: number; p99: number }> {
  const client = (database.db as unknown as { $client: unknown }).$client;
  const service = createEventsService({
    repo: createEventsRepository(database),
    bus: createMemoryAlertBus(),
    users: { findByExternalId: async () => null },
    autoCreateUsers: false,
    batching: { lanes: 1, maxBatch: INGEST_MAX_BATCH },
  });
  const call: (e: ReturnType<ReturnType<typeof eventSource>>) => Promise<unknown> =
    mode === 'batched'
      ? (e) => service.ingest(e as CreateEvent, { kind: 'service' })
      : database.kind === 'postgres'
        ? (e) => (client as postgres.Sql)`select events_ingest(${String(e.user_id)}, ${e.type}, ${e.amount}, ${e.time}, ${false}, ${false}) as r`
        : (e) => (client as PGlite).query('select events_ingest($1, $2, $3, $4, $5, $6) as r', [String(e.user_id), e.type, e.amount, e.time, false, false]);
  const c = client as postgres.Sql & PGlite;
  for (let u = 0; u < USERS && mode === 'batched'; u++) {
    const id = String(FIRST_USER + u);
    if (database.kind === 'postgres') await c`insert into users (user_id) values (${id}) on conflict do nothing`;
    else await c.query('insert into users (user_id) values ($1) on conflict do nothing', [id]);
  }
  const latencies: number[] = [];
  let done = 0;
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        await call(next());
        latencies.push(performance.now() - t0);
        done++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { ops: done / SECONDS, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

let authUsed = false;
async function benchBackend(name: string, env: Record<string, string>, dbConfig: Parameters<typeof openDatabase>[0]): Promise<Row> {
  const { proc, url } = await startServer(env);
  let http;
  try {
    http = await benchHttp(url);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
  authUsed ||= http.auth;
  const httpLoad = os.loadavg()[0];
  const database = await openDatabase(dbConfig);
  await database.migrate();
  // One event stream for both phases, so the second continues the users' histories.
  const events = eventSource(42);
  const batched = await driverCeiling(database, 'batched', events);
  const single = await driverCeiling(database, 'single', events);
  await database.close();
  if (http.errors) console.error(`${name}: ${http.errors} errors or non-2xx answers`);
  return { backend: name, ...http, driver: batched.ops, driverP99: batched.p99, single: single.ops, singleP99: single.p99, load: [httpLoad, os.loadavg()[0]] };
}

const rows: Row[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-bench-events-'));
try {
  if (!args['skip-embedded']) {
    rows.push(await benchBackend('embedded (PGlite)', { DATA_DIR: path.join(dir, 'server') }, { databaseUrl: null, dataDir: path.join(dir, 'driver'), memoryDb: false, dbPoolSize: 1 }));
  }
  if (!args['skip-pg']) {
    const admin = postgres(args.pg!, { max: 1, onnotice: () => {} });
    for (const db of ['arbiter_bench_events_http', 'arbiter_bench_events_driver']) {
      await admin.unsafe(`drop database if exists ${db} with (force)`);
      await admin.unsafe(`create database ${db}`);
    }
    const [[{ sync }]] = [await admin`select current_setting('synchronous_commit') as sync`];
    await admin.end();
    const at = (db: string) => Object.assign(new URL(args.pg!), { pathname: `/${db}` }).toString();
    rows.push(await benchBackend(`PostgreSQL 15 (synchronous_commit=${sync})`, { DATABASE_URL: at('arbiter_bench_events_http'), DB_POOL_SIZE: String(POOL) }, { databaseUrl: at('arbiter_bench_events_driver'), dataDir: dir, memoryDb: false, dbPoolSize: POOL }));
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`\nEvents benchmark: POST /api/events with the 4 default rules, ${USERS} users, ${CONNECTIONS} connections, ${SECONDS} s per phase, loopback, ${os.cpus().length} cores, node ${process.version}, auth ${authUsed ? 'on (bearer token)' : 'off (no auth module yet)'}, server LOG_LEVEL=warn, PostgreSQL pool ${POOL} (server and driver)`);
console.log('| backend | events/s | p50 (ms) | p99 (ms) | alerting answers | driver, batched events/s (p99 ms) | driver, one statement per event events/s (p99 ms) | HTTP / batched driver | vs original 120/s | client CPU | load (HTTP, driver) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(
    `| ${r.backend} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.alertRate * 100).toFixed(0)}% | ${r.driver.toFixed(0)} (${r.driverP99.toFixed(1)}) | ${r.single.toFixed(0)} (${r.singleP99.toFixed(1)}) | ${(r.rps / r.driver).toFixed(2)} | ${(r.rps / ORIGINAL_EVENTS_PER_S).toFixed(1)}× | ${r.clientCpu.toFixed(0)}% | ${r.load[0].toFixed(1)}, ${r.load[1].toFixed(1)} |`,
  );
}
