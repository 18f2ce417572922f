// CRUD throughput and p99 over loopback HTTP, on the embedded database and on PostgreSQL, each
// beside the raw driver ceiling of the same statements measured in the same run.
//   node bench/crud.ts [--seconds 5] [--connections 20] [--pg postgres://postgres@127.0.0.1:5432/test]
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { openDatabase, type Database } from '../src/platform/db.ts';
import { eventLog } from '../src/modules/resources/resources.tables.ts';
import { and, asc, count, eq } from 'drizzle-orm';
import postgres from 'postgres';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '20' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'skip-pg': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const body = JSON.stringify({ event_type: 'bench', event_source: 'bench', log_level: 'info', event_data: { page: '/home', ms: 42 } });

interface Row { backend: string; op: string; httpRps: number; httpP99: number; driverOps: number; ratio: number }

const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' };

/** Starts `arbiter serve` with a bootstrap admin and returns the bearer header of its token. */
async function startServer(env: Record<string, string>): Promise<{ proc: ChildProcess; url: string; auth: string }> {
  const port = 30000 + Math.floor(Math.random() * 10000);
  const proc = spawn(process.execPath, ['src/cli.ts', 'serve'], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
    stdio: 'inherit',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/ready`)).ok) {
        const res = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
        const { access } = (await res.json()) as { access: string };
        return { proc, url, auth: `Bearer ${access}` };
      }
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('server did not start');
}

async function cannon(opts: autocannon.Options): Promise<{ rps: number; p99: number; errors: number }> {
  const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/** The same insert and list the routes run, straight through Drizzle, at the same concurrency. */
async function driverCeiling(database: Database): Promise<{ create: number; list: number }> {
  const { db } = database;
  const run = async (op: () => Promise<unknown>) => {
    let done = 0;
    const end = Date.now() + SECONDS * 1000;
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        await op();
        done++;
      }
    }));
    return done / SECONDS;
  };
  const create = await run(() => db.insert(eventLog).values({ event_type: 'bench', event_source: 'bench', log_level: 'info', event_data: { page: '/home', ms: 42 } }).returning());
  const where = and(eq(eventLog.event_type, 'bench'));
  const list = await run(() => Promise.all([
    db.select().from(eventLog).where(where).orderBy(asc(eventLog.ts), asc(eventLog.event_id)).limit(10),
    db.select({ n: count() }).from(eventLog).where(where),
  ]));
  return { create, list };
}

async function benchBackend(name: string, env: Record<string, string>, dbConfig: Parameters<typeof openDatabase>[0]): Promise<Row[]> {
  const { proc, url, auth } = await startServer(env);
  const create = await cannon({ url: `${url}/events`, method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body });
  const list = await cannon({ url: `${url}/events?event_type=bench&page=1&size=10`, headers: { authorization: auth } });
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  const database = await openDatabase(dbConfig);
  await database.migrate();
  const ceiling = await driverCeiling(database);
  await database.close();
  if (create.errors || list.errors) throw new Error(`${name}: ${create.errors + list.errors} errors or non-2xx answers; the figures would be meaningless`);
  return [
    { backend: name, op: 'create (POST /events)', httpRps: create.rps, httpP99: create.p99, driverOps: ceiling.create, ratio: create.rps / ceiling.create },
    { backend: name, op: 'list (GET /events?…)', httpRps: list.rps, httpP99: list.p99, driverOps: ceiling.list, ratio: list.rps / ceiling.list },
  ];
}

const rows: Row[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-bench-'));
try {
  rows.push(...(await benchBackend('embedded (PGlite)', { DATA_DIR: path.join(dir, 'server') }, { databaseUrl: null, dataDir: path.join(dir, 'driver'), memoryDb: false, dbPoolSize: 1 })));
  if (!args['skip-pg']) {
    const admin = postgres(args.pg!, { max: 1, onnotice: () => {} });
    const url = new URL(args.pg!);
    for (const db of ['arbiter_bench_http', 'arbiter_bench_driver']) await admin.unsafe(`drop database if exists ${db} with (force); `).then(() => admin.unsafe(`create database ${db}`));
    await admin.end();
    const at = (db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString();
    rows.push(...(await benchBackend('PostgreSQL 15', { DATABASE_URL: at('arbiter_bench_http') }, { databaseUrl: at('arbiter_bench_driver'), dataDir: dir, memoryDb: false, dbPoolSize: 10 })));
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`\nCRUD benchmark: ${CONNECTIONS} connections, ${SECONDS} s per phase, loopback, ${os.cpus().length} cores, node ${process.version}`);
console.log('| backend | operation | HTTP req/s | HTTP p99 (ms) | driver ceiling ops/s | HTTP / driver |');
console.log('|---|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.backend} | ${r.op} | ${r.httpRps.toFixed(0)} | ${r.httpP99.toFixed(1)} | ${r.driverOps.toFixed(0)} | ${r.ratio.toFixed(2)} |`);
