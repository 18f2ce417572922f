// CRUD throughput and p99 over loopback HTTP (Debian's wrk, one thread, after a warm-up), on the
// embedded database and on PostgreSQL, each beside the driver ceiling of the same statements (through
// Drizzle, 20 at once, no HTTP) measured in the same run, over a seeded
// event log (--rows, default 100,000: 1,000 event types of 100 rows each; each list asks for a
// random type): creates (beside the CRUD repository's own batched create without HTTP, and beside
// single-row and 10-row inserts), lists with an exact count, and lists
// with `Prefer: count=none`. For every phase it also prints the machine's CPU time per operation (all
// cores, from /proc/stat through os.cpus(): wrk, server, database and bench alike), and it measures two
// HTTP floors under the same wrk load: a bare Fastify route that echoes the create's JSON body, and, per
// backend, a bare Fastify route that calls the CRUD repository's create (what HTTP alone costs the
// repository reference).
//   node bench/crud.ts [--seconds 5] [--connections 20] [--rows 100000] [--pg postgres://postgres@127.0.0.1:5432/test] [--skip-pg]
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, type Database } from '../src/platform/db.ts';
import { eventLog } from '../src/modules/resources/resources.tables.ts';
import { eventLogSpec } from '../src/modules/resources/resources.schemas.ts';
import { createCrudRepository } from '../src/platform/crud.ts';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { asc, count, eq, getTableColumns, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { spawnServer } from '../test/helpers/server.ts';
import { wrk } from './wrk.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '20' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'skip-pg': { type: 'boolean', default: false },
    rows: { type: 'string', default: '100000' },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const ROWS = Number(args.rows);
const TYPES = 1000;
const randomType = () => `type-${Math.floor(Math.random() * TYPES)}`;
/** Rows a batched insert writes per statement (the batched ceiling of creates). */
const BATCH = 10;
const body = JSON.stringify({ event_type: 'bench', event_source: 'bench', log_level: 'info', event_data: { page: '/home', ms: 42 } });

interface Row { backend: string; op: string; httpRps: number; httpP99: number; driverOps: number; ratio: number; target: string; httpCpu?: number; driverCpu?: number }

/** Runs `work` and answers its result with the machine's busy CPU time per operation over it, in µs (all cores). */
async function metered<T extends { rate: number }>(work: () => Promise<T>): Promise<T & { cpuPerOp: number }> {
  const busy = () => os.cpus().reduce((a, c) => ({ busy: a.busy + c.times.user + c.times.nice + c.times.sys + c.times.irq, all: a.all + c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle }), { busy: 0, all: 0 });
  const before = busy();
  const out = await work();
  const after = busy();
  // os.cpus() times are ms summed over cores: the busy fraction of the machine, times its cores, per op.
  const busyCores = ((after.busy - before.busy) / (after.all - before.all)) * os.cpus().length;
  return { ...out, cpuPerOp: (busyCores / out.rate) * 1e6 };
}
const wrkMetered = (o: Parameters<typeof wrk>[0]) => metered(async () => { const r = await wrk(o); return { ...r, rate: r.rps }; });

/**
 * The HTTP floor: a bare Fastify route (no auth, no validation, no metrics) in its own process, under
 * the same wrk load as the creates. Without a database it echoes the create's body (201); with one it
 * answers the CRUD repository's create, the same batched path the server's route takes, so its ratio to
 * the in-process repository is the most HTTP turnaround on these cores leaves of that reference.
 */
async function httpFloor(database?: Parameters<typeof openDatabase>[0]): Promise<{ rps: number; p99: number; cpuPerOp: number }> {
  const script = `import Fastify from 'fastify';
const config = process.env.FLOOR_DATABASE ? JSON.parse(process.env.FLOOR_DATABASE) : null;
let create = async (row) => ({ event_id: 1, ...row }), close = async () => {};
if (config) {
  const { openDatabase } = await import('./src/platform/db.ts');
  const { createCrudRepository } = await import('./src/platform/crud.ts');
  const { eventLogSpec } = await import('./src/modules/resources/resources.schemas.ts');
  const database = await openDatabase(config);
  const repo = createCrudRepository(database.db, eventLogSpec);
  create = (row) => repo.create(row, null);
  close = () => database.close();
}
const app = Fastify({ logger: false });
app.post('/events', async (req, reply) => { reply.status(201); return create(req.body); });
await app.listen({ port: 0, host: '127.0.0.1' });
process.once('SIGTERM', () => app.close().then(close).then(() => process.exit(0)));
console.log(app.server.address().port);`;
  const env = { ...process.env, FLOOR_DATABASE: database ? JSON.stringify(database) : '' };
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: path.dirname(import.meta.dirname), env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  const port = await Promise.race([
    new Promise<string>((resolve) => proc.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))),
    exited.then((code) => Promise.reject(new Error(`HTTP floor: the bare route's process exited (${code}) before it listened`))),
  ]);
  try {
    const r = await wrkMetered({ url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, seconds: SECONDS, path: '/events', method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body });
    if (r.errors) throw new Error(`HTTP floor: ${r.errors} errors or non-2xx answers`);
    return { rps: r.rps, p99: r.p99, cpuPerOp: r.cpuPerOp };
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}

/** The event log as the bench reads it: ROWS rows over TYPES event types, a second apart. */
async function seed(database: Database): Promise<void> {
  await database.migrate();
  for (let from = 1; from <= ROWS; from += 20_000) {
    const to = Math.min(ROWS, from + 19_999);
    await database.query(
      `insert into event_log (event_type, event_source, log_level, event_data, ts)
       select 'type-' || (g % ${TYPES}), 'seed', 'info', '{"n": 1}'::json, now() - make_interval(secs => g) from generate_series(${from}, ${to}) g`,
    );
  }
  // As autovacuum would after a bulk load: the visibility map lets counts use index-only scans.
  await database.query('vacuum analyze event_log');
}

const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' };

/** Starts `arbiter serve` with a bootstrap admin and returns the bearer header of its token. */
/** Starts `arbiter serve` (test/helpers/server.ts) with a bootstrap admin and returns the bearer header of its token. */
async function startServer(env: Record<string, string>): Promise<{ proc: ChildProcess; url: string; auth: string }> {
  const server = await spawnServer({ ...process.env, ...env, LOG_LEVEL: 'warn', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }, { echo: true });
  const res = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { access } = (await res.json()) as { access: string };
  return { ...server, auth: `Bearer ${access}` };
}


/** The statements the routes run, straight through Drizzle, at the same concurrency. */
type Metered = { rate: number; cpuPerOp: number };
async function driverCeiling(database: Database): Promise<{ create: Metered; batched: Metered; repository: Metered; list: Metered; listNoCount: Metered }> {
  const { db } = database;
  const run = (op: () => Promise<unknown>, perOp = 1) =>
    metered(async () => {
      let done = 0;
      const end = Date.now() + SECONDS * 1000;
      await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < end) {
          await op();
          done += perOp;
        }
      }));
      return { rate: done / SECONDS };
    });
  const row = { event_type: 'bench', event_source: 'bench', log_level: 'info', event_data: { page: '/home', ms: 42 } };
  const create = await run(() => db.insert(eventLog).values(row).returning());
  const batched = await run(() => db.insert(eventLog).values(Array.from({ length: BATCH }, () => row)).returning(), BATCH);
  // The route's own create path without HTTP: the CRUD repository (its adaptive batcher) at the same concurrency.
  const repo = createCrudRepository(db, eventLogSpec);
  const repository = await run(() => repo.create(row, null));
  // The routes' statements as the list route keeps them: built once, then run prepared with a new type each time.
  const type = sql.placeholder('t');
  const page = db.select().from(eventLog).where(eq(eventLog.event_type, type)).orderBy(asc(eventLog.ts), asc(eventLog.event_id)).limit(10);
  const pageOnly = page.prepare('page');
  // The exact list: the count and the page in one statement (see crud.ts).
  const c = db.select({ n: count().as('n') }).from(eventLog).where(eq(eventLog.event_type, type)).as('c');
  const p = page.as('p');
  const fields = Object.fromEntries(Object.keys(getTableColumns(eventLog)).map((k) => [k, p[k as keyof typeof p] as PgColumn]));
  const counted = db.select({ n: c.n, row: fields }).from(c).leftJoinLateral(p, sql`true`).prepare('counted');
  const list = await run(() => counted.execute({ t: randomType() }));
  const listNoCount = await run(() => pageOnly.execute({ t: randomType() }));
  return { create, batched, repository, list, listNoCount };
}

async function benchBackend(name: string, env: Record<string, string>, serverDb: Parameters<typeof openDatabase>[0], driverDb: Parameters<typeof openDatabase>[0], pg: boolean): Promise<Row[]> {
  for (const c of [serverDb, driverDb]) {
    const database = await openDatabase(c);
    await seed(database);
    await database.close();
  }
  const { proc, url, auth } = await startServer(env);
  const load = { url, connections: CONNECTIONS, seconds: SECONDS };
  const listReq = (prefer?: string) => ({
    ...load,
    headers: { authorization: auth, ...(prefer ? { prefer } : {}) },
    pathLua: `"/events?event_type=type-" .. math.random(0, ${TYPES - 1}) .. "&page=1&size=10"`,
  });
  const create = await wrkMetered({ ...load, path: '/events', method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body });
  const list = await wrkMetered(listReq());
  const listNoCount = await wrkMetered(listReq('count=none'));
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  const database = await openDatabase(driverDb);
  const ceiling = await driverCeiling(database);
  await database.close();
  // After the ceiling: the floor's creates add rows to the driver's database, which its lists read.
  const floor = await httpFloor(driverDb);
  if (create.errors || list.errors || listNoCount.errors) throw new Error(`${name}: ${create.errors + list.errors + listNoCount.errors} errors or non-2xx answers; the figures would be meaningless`);
  return [
    { backend: name, op: 'create (POST /events), beside the CRUD repository without HTTP', httpRps: create.rps, httpP99: create.p99, driverOps: ceiling.repository.rate, ratio: create.rps / ceiling.repository.rate, target: pg ? '≥ 2,000/s, p99 < 50 ms, ≥ 0.8× batched' : '–', httpCpu: create.cpuPerOp, driverCpu: ceiling.repository.cpuPerOp },
    { backend: name, op: '(a bare Fastify route calling the same repository: no auth, no validation)', httpRps: floor.rps, httpP99: floor.p99, driverOps: ceiling.repository.rate, ratio: floor.rps / ceiling.repository.rate, target: '', httpCpu: floor.cpuPerOp, driverCpu: ceiling.repository.cpuPerOp },
    { backend: name, op: `(${BATCH}-row inserts on ${CONNECTIONS} connections, for comparison)`, httpRps: NaN, httpP99: NaN, driverOps: ceiling.batched.rate, ratio: create.rps / ceiling.batched.rate, target: '', driverCpu: ceiling.batched.cpuPerOp },
    { backend: name, op: '(single-row inserts, for comparison)', httpRps: NaN, httpP99: NaN, driverOps: ceiling.create.rate, ratio: create.rps / ceiling.create.rate, target: '', driverCpu: ceiling.create.cpuPerOp },
    { backend: name, op: 'list, exact count (GET /events?event_type=…)', httpRps: list.rps, httpP99: list.p99, driverOps: ceiling.list.rate, ratio: list.rps / ceiling.list.rate, target: pg ? '≥ 2,000/s, p99 < 20 ms' : '–', httpCpu: list.cpuPerOp, driverCpu: ceiling.list.cpuPerOp },
    { backend: name, op: 'list, Prefer: count=none', httpRps: listNoCount.rps, httpP99: listNoCount.p99, driverOps: ceiling.listNoCount.rate, ratio: listNoCount.rps / ceiling.listNoCount.rate, target: pg ? '≥ 3,000/s' : '–', httpCpu: listNoCount.cpuPerOp, driverCpu: ceiling.listNoCount.cpuPerOp },
  ];
}

const rows: Row[] = [];
const floor = await httpFloor();
rows.push({ backend: 'none', op: 'HTTP floor: a bare Fastify route echoing the create body', httpRps: floor.rps, httpP99: floor.p99, driverOps: NaN, ratio: NaN, target: '', httpCpu: floor.cpuPerOp });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-bench-'));
try {
  rows.push(...(await benchBackend('embedded (PGlite)', { DATA_DIR: path.join(dir, 'server') }, { databaseUrl: null, dataDir: path.join(dir, 'server'), memoryDb: false, dbPoolSize: 1 }, { databaseUrl: null, dataDir: path.join(dir, 'driver'), memoryDb: false, dbPoolSize: 1 }, false)));
  if (!args['skip-pg']) {
    const admin = postgres(args.pg!, { max: 1, onnotice: () => {} });
    const url = new URL(args.pg!);
    for (const db of ['arbiter_bench_http', 'arbiter_bench_driver']) await admin.unsafe(`drop database if exists ${db} with (force); `).then(() => admin.unsafe(`create database ${db}`));
    await admin.end();
    const at = (db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString();
    rows.push(...(await benchBackend('PostgreSQL 15', { DATABASE_URL: at('arbiter_bench_http') }, { databaseUrl: at('arbiter_bench_http'), dataDir: dir, memoryDb: false, dbPoolSize: 10 }, { databaseUrl: at('arbiter_bench_driver'), dataDir: dir, memoryDb: false, dbPoolSize: 10 }, true)));
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`\nCRUD benchmark: wrk (one thread) with ${CONNECTIONS} connections, ${SECONDS} s per phase after 2 s of warm-up, ${ROWS} seeded rows, loopback, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
console.log('| backend | operation | HTTP req/s | HTTP p99 (ms) | driver ceiling ops/s | HTTP / driver | machine CPU per op, HTTP / driver (µs) | target |');
console.log('|---|---|---:|---:|---:|---:|---:|---|');
const num = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const cpu = (r: Row) => `${r.httpCpu === undefined ? '–' : num(r.httpCpu)} / ${r.driverCpu === undefined ? '–' : num(r.driverCpu)}`;
for (const r of rows) console.log(`| ${r.backend} | ${r.op} | ${num(r.httpRps)} | ${num(r.httpP99, 1)} | ${num(r.driverOps)} | ${num(r.ratio, 2)} | ${cpu(r)} | ${r.target} |`);
