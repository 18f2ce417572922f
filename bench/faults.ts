// Outages under load: a server on PostgreSQL + Redis, each reached through a TCP proxy on loopback
// (test/helpers/tcp-proxy.ts), loaded by clients that POST /api/events with an Idempotency-Key and retry
// the same request after a 503 or a lost connection. PostgreSQL is cut for --cut seconds, then Redis,
// each as a server that is down (or --mode partition). Printed per cut: the time to the first 503, the
// longest request during the outage, the time to the first 200 after it, and, at the end, acknowledged
// writes lost or stored twice (checked against the database: both must be 0).
//   node bench/faults.ts [--pg postgres://postgres@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/0]
//                        [--cut 10] [--clients 20] [--mode down|partition]
import { randomBytes } from 'node:crypto';
import { execSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../test/helpers/tcp-proxy.ts';

const { values: args } = parseArgs({
  options: {
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379/0' },
    cut: { type: 'string', default: '10' },
    clients: { type: 'string', default: '20' },
    mode: { type: 'string', default: 'down' },
  },
});
const CUT_S = Number(args.cut);
const CLIENTS = Number(args.clients);
const MODE = args.mode as ProxyMode;
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

const name = `arbiter_faults_${randomBytes(4).toString('hex')}`;
const admin = postgres(args.pg!, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${name}`);
const dbUrl = new URL(args.pg!);
dbUrl.pathname = `/${name}`;
const pgProxy = await startTcpProxy({ host: dbUrl.hostname, port: Number(dbUrl.port || 5432) });
const redisUrl = new URL(args.redis!);
const redisProxy = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
const config = loadConfig(
  { LOG_LEVEL: 'warn' },
  { databaseUrl: pgProxy.url(dbUrl.href), memoryDb: false, redisUrl: redisProxy.url(args.redis!), redisPrefix: `arbiter:faults:${randomBytes(4).toString('hex')}:`, auth: { rateLimitPerIp: 100_000, rateLimitPerAccount: 100_000 } },
);
const app = await buildApp(config);
const base = await app.listen({ port: 0, host: '127.0.0.1' });

// One account per client; each client writes its own user's events.
const accounts: { id: number; auth: string }[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const email = `faults-${i}-${randomBytes(3).toString('hex')}@example.com`;
  const reg = await fetch(`${base}/api/v1/auth/register/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'faults-password-1' }) });
  const user = (await reg.json()) as { id: number };
  if (!reg.ok) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  const login = await fetch(`${base}/api/v1/auth/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'faults-password-1' }) });
  accounts.push({ id: user.id, auth: `Bearer ${((await login.json()) as { access: string }).access}` });
}

interface Sample { at: number; ms: number; status: number }
const samples: Sample[] = [];
const acked = accounts.map(() => [] as number[]);
let running = true;
let unknown = 0;

async function client(i: number): Promise<void> {
  for (let n = 1; running; n++) {
    const key = `faults-${i}-${n}`;
    // The same request, with the same key, until it is acknowledged.
    for (;;) {
      const t = performance.now();
      let status = 0;
      try {
        const res = await fetch(`${base}/api/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: accounts[i].auth, 'idempotency-key': key },
          body: JSON.stringify({ type: 'deposit', amount: `${n}.00`, user_id: accounts[i].id, time: n }),
          signal: AbortSignal.timeout(30_000),
        });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = 0; // connection lost or timed out
      }
      samples.push({ at: t, ms: performance.now() - t, status });
      if (status === 200) {
        acked[i].push(n);
        break;
      }
      // Whether the first attempt took effect is unknown (its connection was lost mid-write): a client
      // would check; here it is counted and the next write uses a new key.
      if (status === 409) {
        unknown++;
        break;
      }
      if (!running) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function cut(proxy: TcpProxy, what: string) {
  await new Promise((r) => setTimeout(r, 3000));
  const from = performance.now();
  await proxy.set(MODE);
  await new Promise((r) => setTimeout(r, CUT_S * 1000));
  const to = performance.now();
  await proxy.set('up');
  await new Promise((r) => setTimeout(r, 4000));
  // Every request that was running at some point of the cut, including those sent just before it.
  const during = samples.filter((s) => s.at < to && s.at + s.ms > from);
  const first503 = during.find((s) => s.status === 503);
  const firstOkAfter = samples.filter((s) => s.at >= to && s.status === 200).sort((a, b) => a.at + a.ms - (b.at + b.ms))[0];
  if (process.env.FAULTS_TRACE) {
    const after = samples.filter((s) => s.at >= to - 500 && s.at < to + 4000);
    const buckets = new Map<number, Map<number, number>>();
    for (const s of after) {
      const b = Math.floor((s.at - to) / 250) * 250;
      const m = buckets.get(b) ?? new Map();
      m.set(s.status, (m.get(s.status) ?? 0) + 1);
      buckets.set(b, m);
    }
    for (const [b, m] of [...buckets].sort((a, c) => a[0] - c[0])) console.log(what, b, [...m].map(([k, v]) => `${k}:${v}`).join(' '), Math.max(...after.filter((s) => Math.floor((s.at - to) / 250) * 250 === b).map((s) => s.ms)).toFixed(0));
  }
  const statuses = new Map<number, number>();
  for (const s of during) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
  return {
    what,
    first503: first503 ? first503.at + first503.ms - from : NaN,
    longest: Math.max(0, ...during.map((s) => s.ms)),
    backAfter: firstOkAfter ? firstOkAfter.at + firstOkAfter.ms - to : NaN,
    statuses: [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s || 'reset'}×${n}`).join(' '),
  };
}

console.log(`bench/faults.ts: ${CLIENTS} clients POST /api/events (Idempotency-Key, retry after 503), ${CUT_S} s cut each (${MODE}); ${os.cpus().length} cores, load before: ${load()}`);
const clients = accounts.map((_, i) => client(i));
const results = [await cut(pgProxy, 'PostgreSQL'), await cut(redisProxy, 'Redis')];
running = false;
await Promise.all(clients);

// Every acknowledged write stored once, and nothing stored that was not acknowledged (or retried).
let lost = 0;
let twice = 0;
const direct = postgres(dbUrl.href, { max: 2, onnotice: () => {} });
for (let i = 0; i < CLIENTS; i++) {
  const rows = await direct<{ amount: string; n: number }[]>`select e.amount::text as amount, count(*)::int as n from alert_events e join users u on u.id = e.user_id where u.user_id = ${String(accounts[i].id)} group by 1`;
  const stored = new Map(rows.map((r) => [Number(r.amount), r.n]));
  for (const n of acked[i]) if (!stored.has(n)) lost++;
  for (const [, c] of stored) if (c > 1) twice += c - 1;
}
await direct.end();
const total = acked.reduce((a, l) => a + l.length, 0);

console.log('| cut | first 503 after the cut | longest request during it | first 200 after it is back | answers during the cut |');
console.log('|---|---:|---:|---:|---|');
for (const r of results) console.log(`| ${r.what} ${MODE} ${CUT_S} s | ${r.first503.toFixed(0)} ms | ${r.longest.toFixed(0)} ms | ${r.backAfter.toFixed(0)} ms | ${r.statuses} |`);
console.log(`acknowledged writes: ${total}; lost: ${lost}; stored twice: ${twice}; outcome unknown (409, not retried): ${unknown}`);
console.log(`load after: ${load()} (uptime: ${execSync('uptime').toString().trim()})`);
await app.close();
await pgProxy.close();
await redisProxy.close();
await admin.unsafe(`drop database if exists ${name} with (force)`);
await admin.end();
process.exit(lost || twice ? 1 : 0);
