// Seed 004 commerce over loopback HTTP (wrk, one thread, after a warm-up), on the embedded database and
// on PostgreSQL: product retrieve
// (each one a counted view: UPDATE views_count + 1 and the viewer upsert in one transaction) at 50
// connections beside the database-only ceiling of the same transaction in the same run, and
// most-popular over N products (default 100k).
//   node bench/commerce.ts [--seconds 5] [--connections 50] [--products 100000] [--pg postgres://…] [--skip-pg]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { wrk } from './wrk.ts';
import postgres from 'postgres';
import { createCommerceRepository } from '../src/modules/commerce/commerce.repository.ts';
import { openDatabase, type Database } from '../src/platform/db.ts';
import { spawnServer, stopServer as stop } from '../test/helpers/server.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    products: { type: 'string', default: '100000' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'skip-pg': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const PRODUCTS = Number(args.products);
const VENDOR = { email: 'vendor@example.com', password: 'bench-password-1', first_name: 'Bench', last_name: 'Vendor' };

interface Row { backend: string; op: string; httpRps: number; httpP50: number; httpP99: number; ceiling: number | null }

const startServer = (env: Record<string, string>) =>
  spawnServer({ ...process.env, ...env, LOG_LEVEL: 'warn', AUTH_RATE_LIMIT_PER_IP: '100000' }, { echo: true, readyTimeoutMs: 60_000 });


const post = async (url: string, body: unknown, auth?: string) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, any>>;
};

/** N products in the vendor's store, with view counts spread deterministically (no randomness). */
async function seed(database: Database, storeId: number) {
  await database.query(
    `insert into products (store_id, name, description, price, quantity, category, views_count)
     select $1, 'Product ' || i, 'Description of product ' || i, (i % 10000) / 100.0, i % 50, 'Category ' || (i % 20), (i * 7919) % 100003
     from generate_series(1, $2::int) as i`,
    [storeId, PRODUCTS],
  );
  await database.query('analyze products');
}

/** The view transaction the route runs, straight on the database, at the same concurrency. */
async function ceiling(database: Database, productId: number, userId: number): Promise<number> {
  const repo = createCommerceRepository(database.db);
  let done = 0;
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < end) {
      await repo.transaction((tx) => repo.view(tx, productId, userId));
      done++;
    }
  }));
  return done / SECONDS;
}

/** GET `path` under wrk (bench/wrk.ts: one thread, 2 s of warm-up) with CONNECTIONS for SECONDS; every answer must be 2xx. */
async function load(url: string, path: string, headers: Record<string, string>) {
  const r = await wrk({ url, path, headers, connections: CONNECTIONS, seconds: SECONDS });
  if (r.errors) throw new Error(`${path}: ${r.errors} errors or non-2xx answers; the figures would be meaningless`);
  return { rps: r.rps, p50: r.p50, p99: r.p99 };
}

async function benchBackend(name: string, env: Record<string, string>, dbConfig: Parameters<typeof openDatabase>[0]): Promise<Row[]> {
  // 1. The vendor registers (and gets its store); the server stops so the bench can seed the database.
  let server = await startServer(env);
  const vendor = await post(`${server.url}/api/v1/auth/register`, VENDOR);
  await stop(server.proc);
  const database = await openDatabase(dbConfig);
  const store = (await database.query<{ id: number }>('select id::int as id from stores where owner_id = $1', [vendor.id]))[0];
  const t0 = performance.now();
  await seed(database, store.id);
  console.error(`${name}: seeded ${PRODUCTS} products in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const hot = (await database.query<{ id: number }>('select max(id)::int as id from products'))[0].id;
  const driver = await ceiling(database, hot, vendor.id);
  await database.close();
  // 2. The HTTP paths.
  server = await startServer(env);
  const { access } = await post(`${server.url}/api/v1/auth/login`, { email: VENDOR.email, password: VENDOR.password });
  const headers = { authorization: `Bearer ${access}` };
  const view = await load(server.url, `/api/v1/store/products/${hot}/`, headers);
  const popular = await load(server.url, '/api/v1/store/products/most-popular/', headers);
  await stop(server.proc);
  return [
    { backend: name, op: `retrieve + view (GET /products/{id}/)`, httpRps: view.rps, httpP50: view.p50, httpP99: view.p99, ceiling: driver },
    { backend: name, op: `most-popular over ${PRODUCTS} products (100 a page)`, httpRps: popular.rps, httpP50: popular.p50, httpP99: popular.p99, ceiling: null },
  ];
}

const rows: Row[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-bench-commerce-'));
try {
  const dataDir = path.join(dir, 'data');
  rows.push(...(await benchBackend('embedded (PGlite)', { DATA_DIR: dataDir }, { databaseUrl: null, dataDir, memoryDb: false, dbPoolSize: 1 })));
  if (!args['skip-pg']) {
    const admin = postgres(args.pg!, { max: 1, onnotice: () => {} });
    await admin.unsafe('drop database if exists arbiter_bench_commerce with (force)');
    await admin.unsafe('create database arbiter_bench_commerce');
    const url = Object.assign(new URL(args.pg!), { pathname: '/arbiter_bench_commerce' }).toString();
    try {
      rows.push(...(await benchBackend('PostgreSQL', { DATABASE_URL: url }, { databaseUrl: url, dataDir: dir, memoryDb: false, dbPoolSize: 10 })));
    } finally {
      await admin.unsafe('drop database if exists arbiter_bench_commerce with (force)');
      await admin.end();
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`\nCommerce benchmark: ${CONNECTIONS} connections, ${SECONDS} s per phase, loopback, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
console.log('| backend | path | HTTP req/s | p50 (ms) | p99 (ms) | database-only ceiling (tx/s) | HTTP / ceiling |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const c = r.ceiling === null ? '–' : r.ceiling.toFixed(0);
  const ratio = r.ceiling === null ? '–' : (r.httpRps / r.ceiling).toFixed(2);
  console.log(`| ${r.backend} | ${r.op} | ${r.httpRps.toFixed(0)} | ${r.httpP50.toFixed(1)} | ${r.httpP99.toFixed(1)} | ${c} | ${ratio} |`);
}
