// Seed 000's POST /api/v1/action: decisions/s and p50/p99 through HTTP on embedded PGlite and on
// PostgreSQL, beside two ceilings in the same run: the decisions service called in-process at the same
// concurrency (no HTTP), and the database alone (the decision's insert); and the cost of the policy draw alone, in µs, for 10 and 50
// context features. Every request is a new (user_id, decision_idx), so each one draws and inserts.
//   node bench/decisions.ts [--seconds 10] [--connections 50] [--users 100]
//     [--pg postgres://postgres@127.0.0.1:5432/test] [--only embedded,pg] [--skip-draw]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { Rng } from '../src/ml/rng.ts';
import { buildEncoder, decide, loadPolicy, normalizeConfig, trainingSet, trainPolicy, type LoggedRow } from '../src/modules/decisions/decisions.domain.ts';
import { createDecisionsRepository } from '../src/modules/decisions/decisions.repository.ts';
import { createDecisionsService } from '../src/modules/decisions/decisions.service.ts';
import { openDatabase } from '../src/platform/db.ts';
import { systemClock } from '../src/platform/time.ts';
import { spawnServer } from '../test/helpers/server.ts';
import { wrk } from './wrk.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    users: { type: 'string', default: '100' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    only: { type: 'string', default: 'embedded,pg' },
    'skip-draw': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const USERS = Number(args.users);
const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' };
const load1 = () => os.loadavg()[0].toFixed(2);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;

/** The policy draw alone: a Thompson/LinUCB/ε-greedy version fitted on 2,000 rows, d features + intercept, K = 2, clipped. */
function drawCost() {
  console.log('\npolicy draw alone (decide(): encode excluded, K = 2, clip [0.2, 0.8], fitted on 2,000 rows)');
  console.log('| policy | features | µs per draw |\n|---|---:|---:|');
  for (const kind of ['thompson', 'linucb', 'epsilon_greedy'] as const) {
    for (const d of [10, 50]) {
      const keys = Array.from({ length: d }, (_, i) => `f${i}`);
      const config = normalizeConfig({ actions: ['a', 'b'], policy: { kind }, context: { mode: 'schema', numeric: keys } });
      const rng = new Rng(7);
      const rows: LoggedRow[] = Array.from({ length: 2000 }, () => {
        const context = Object.fromEntries(keys.map((k) => [k, rng.normal()]));
        return { userId: 'u', context, action: rng.int(2), probability: 0.5, decidedBy: 'policy', decidedAt: new Date(0), reward: rng.normal() };
      });
      const enc = buildEncoder(config.context, rows.map((r) => r.context));
      const policy = loadPolicy(trainPolicy(config.policy, config, trainingSet(rows, config, enc, new Date())));
      const x = new Float64Array(d + 1).map(() => rng.normal());
      x[0] = 1;
      const n = kind === 'thompson' ? 2000 : 20000;
      for (let i = 0; i < 200; i++) decide({ config, policy: () => policy, x, rng, nonDefaultToday: 0 });
      const t0 = performance.now();
      for (let i = 0; i < n; i++) decide({ config, policy: () => policy, x, rng, nonDefaultToday: 0 });
      console.log(`| ${kind} | ${d} | ${(((performance.now() - t0) / n) * 1000).toFixed(1)} |`);
    }
  }
}

interface Target {
  name: string;
  env(): Promise<Record<string, string>>;
  drop(): Promise<void>;
}

function embedded(): Target {
  let dir = '';
  return {
    name: 'embedded (PGlite)',
    env: async () => ({ DATA_DIR: (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-bench-decisions-'))) }),
    drop: async () => void (dir && fs.rmSync(dir, { recursive: true, force: true })),
  };
}

function pg(base: string): Target {
  const name = `arbiter_bench_decisions_${randomBytes(3).toString('hex')}`;
  return {
    name: 'PostgreSQL',
    env: async () => {
      const admin = postgres(base, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database ${name}`);
      await admin.end();
      const url = new URL(base);
      url.pathname = `/${name}`;
      return { DATABASE_URL: url.toString() };
    },
    drop: async () => {
      const admin = postgres(base, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

const startServer = (env: Record<string, string>) =>
  spawnServer(
    { ...process.env, ...env, LOG_LEVEL: 'error', SECRET_KEY: 'bench-secret-0123456789-abcdefghijklmnop', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
    { echo: true, readyTimeoutMs: 60_000 },
  );

async function http(target: Target) {
  const env = await target.env();
  const server = await startServer(env);
  try {
    const login = await fetch(`${server.url}/api/v1/auth/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    const auth = `Bearer ${((await login.json()) as { access: string }).access}`;
    const headers = { 'content-type': 'application/json', authorization: auth };
    for (let u = 0; u < USERS; u++) await fetch(`${server.url}/api/v1/add_user`, { method: 'POST', headers, body: JSON.stringify({ user_id: `bench-${u}` }) });
    // Every request a new (user, decision_idx): RUN keeps the warm-up's indexes apart from the measured run's.
    const result = await wrk({
      url: server.url,
      connections: CONNECTIONS,
      seconds: SECONDS,
      method: 'POST',
      headers,
      requestLua: `n = (n or RUN * 100000000) + 1
  path = "/api/v1/action"
  body = string.format('{"user_id":"bench-%d","timestamp":"%s","decision_idx":%d,"context":{"temperature":%d,"steps":%d}}', n % ${USERS}, os.date("!%Y-%m-%dT%H:%M:%SZ", 1767225600 + n), n, 15 + n % 20, n % 7000)`,
    });
    return result;
  } finally {
    server.proc.kill('SIGTERM');
    await new Promise((r) => server.proc.once('exit', r));
    await target.drop();
  }
}

/** The decisions service straight on the database at the same concurrency: the ceiling HTTP can reach. */
async function ceiling(target: Target) {
  const env = await target.env();
  const database = await openDatabase({ databaseUrl: env.DATABASE_URL ?? null, dataDir: env.DATA_DIR ?? '', memoryDb: false, dbPoolSize: 10 });
  try {
    await database.migrate();
    const service = createDecisionsService({
      repo: createDecisionsRepository(database),
      users: { findByExternalId: async () => ({}) as never, addExternalUser: async () => null },
      jobs: {} as never,
      webhooks: {} as never,
      clock: systemClock,
      rng: new Rng(1),
      log: console as never,
      syncUpdateWaitMs: 1000,
    });
    await service.ensureDefaultProblem();
    const lat: number[] = [];
    let n = 0;
    const end = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < end) {
          const k = n++;
          const t0 = performance.now();
          await service.action({ user_id: `bench-${k % USERS}`, timestamp: new Date(1_767_225_600_000 + k * 1000).toISOString(), decision_idx: k, context: { temperature: 15 + (k % 20), steps: k % 7000 } }, { kind: 'service' });
          lat.push(performance.now() - t0);
        }
      }),
    );
    lat.sort((a, b) => a - b);
    // The database alone: the decision's insert (one prepared statement) at the same concurrency.
    const repo = createDecisionsRepository(database);
    const problem = (await repo.findProblemByName('default'))!;
    let m = 0;
    const dbEnd = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < dbEnd) {
          const k = m++;
          await repo.insertDecision({
            problem_id: problem.id, user_id: `db-${k % USERS}`, decision_idx: k, policy_version_id: problem.live_version_id!, context: { temperature: 20 }, encoded: [1, 0],
            action: 1, action_name: 'action', probabilities: [0.5, 0.5], probability: 0.5, rng_state: [1, 2, 3, 4], method: 'exact', decided_by: 'policy', reason: null, shadow: null,
            client_timestamp: new Date(1_767_225_600_000 + k * 1000),
          });
        }
      }),
    );
    return { ops: lat.length / SECONDS, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), dbOps: m / SECONDS };
  } finally {
    await database.close();
    await target.drop();
  }
}

if (!args['skip-draw']) drawCost();
console.log(`\nPOST /api/v1/action, ${CONNECTIONS} connections, ${SECONDS} s, ${USERS} users, default problem (Thompson, clip [0.2, 0.8]); an admin token`);
console.log('| backend | HTTP decisions/s | p50 ms | p99 ms | errors | service-only ceiling ops/s | ceiling p99 ms | HTTP / ceiling | database-only inserts/s | load |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const which of args.only.split(',')) {
  const make = () => (which === 'pg' ? pg(args.pg) : embedded());
  const h = await http(make());
  const c = await ceiling(make());
  console.log(`| ${make().name} | ${h.rps.toFixed(0)} | ${h.p50} | ${h.p99} | ${h.errors} | ${c.ops.toFixed(0)} | ${c.p99.toFixed(1)} | ${(h.rps / c.ops).toFixed(2)} | ${c.dbOps.toFixed(0)} | ${load1()} |`);
}
