// Seed 003 end to end over loopback HTTP: POST /train with each default grid on iris (median and
// best of --reps), beside scikit-learn's GridSearchCV timed in the same run and the original service's
// times measured on this machine kind; then /predict req/s and p99 at --connections for a tree and
// a 100-tree forest (Debian's wrk, one thread, after 2 s of warm-up), beside the original's.
//   node bench/models.ts [--reps 10] [--seconds 5] [--connections 20]
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnServer } from '../test/helpers/server.ts';
import { wrk } from './wrk.ts';

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '20' },
  },
});
const REPS = Number(args.reps);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' };
// The original FastAPI service, measured on this machine kind (issue 13).
const ORIGINAL = { train: { decision_tree: 0.04, random_forest: 2.61 }, predict: { tree: 823, forest: 95 } };
const TARGET = { train: { decision_tree: 0.02, random_forest: 0.5 }, predictP99: 20 };

/** A server of its own (test/helpers/server.ts) with a bootstrap admin, and the admin's bearer header. */
async function startServer(env: Record<string, string>): Promise<{ proc: ChildProcess; url: string; auth: string }> {
  const server = await spawnServer({ ...process.env, ...env, LOG_LEVEL: 'warn', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }, { echo: true });
  const res = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { access } = (await res.json()) as { access: string };
  return { ...server, auth: `Bearer ${access}` };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-bench-models-'));
const { proc, url, auth } = await startServer({ DATA_DIR: dir });
const headers = { 'content-type': 'application/json', authorization: auth };
const post = async (p: string, body: unknown) => {
  const res = await fetch(url + p, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, any>;
  if (!res.ok) throw new Error(`${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};

try {
  const train: { grid: string; median: number; best: number; bestScore: number; bestParams: unknown }[] = [];
  for (const algorithm of ['decision_tree', 'random_forest'] as const) {
    const times: number[] = [];
    let last: Record<string, any> = {};
    // Five warm-ups (the JIT compiles the estimators over the first few; the first forest starts its
    // thread), then REPS timed requests, one after another: a running server's steady state.
    const WARMUP = 5;
    for (let i = 0; i < WARMUP + REPS; i++) {
      const t = performance.now();
      last = await post('/train', { algorithm });
      if (i >= WARMUP) times.push((performance.now() - t) / 1000);
    }
    times.sort((a, b) => a - b);
    const median = times.length % 2 ? times[times.length >> 1] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
    train.push({ grid: algorithm, median, best: times[0], bestScore: last.best_score, bestParams: last.best_params });
  }
  const sk = JSON.parse(execFileSync('/usr/bin/python3', ['bench/models_sklearn.py', 'datasets/iris.csv', String(REPS)], { encoding: 'utf8' })) as { grid: string; best_sec: number; median_sec: number; best_score: number }[];

  const tree = await post('/train', { algorithm: 'decision_tree', params: { max_depth: 5, criterion: 'gini' }, name: 'bench-tree' });
  const forest = await post('/train', { algorithm: 'random_forest', params: { n_estimators: 100, max_depth: 10 }, name: 'bench-forest' });
  const predict = async (m: Record<string, any>) => {
    const body = JSON.stringify({ input: [6.0, 2.7, 5.1, 1.6], model_id: m.model_id, version: m.version });
    const r = await wrk({ url, path: '/predict', method: 'POST', headers, body, connections: CONNECTIONS, seconds: SECONDS });
    if (r.errors) throw new Error(`/predict: ${r.errors} errors or non-2xx answers`);
    return { rps: r.rps, p99: r.p99 };
  };
  const pt = await predict(tree);
  const pf = await predict(forest);

  console.log(`\nSeed 003 benchmark: iris, loopback, ${os.cpus().length} cores, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`| /train default grid (${REPS} runs) | ours end to end, median / best (s) | sklearn GridSearchCV, median / best (s) | original service (s) | target (s) | ours vs original (median) | best score ours / sklearn |`);
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const t of train) {
    const s = sk.find((x) => x.grid === t.grid)!;
    const orig = ORIGINAL.train[t.grid as 'decision_tree'];
    console.log(`| ${t.grid} | ${t.median.toFixed(3)} / ${t.best.toFixed(3)} | ${s.median_sec.toFixed(3)} / ${s.best_sec.toFixed(3)} | ${orig} | ≤ ${TARGET.train[t.grid as 'decision_tree']} | ${(orig / t.median).toFixed(1)}× | ${t.bestScore.toFixed(4)} / ${s.best_score.toFixed(4)} |`);
  }
  console.log(`\n| /predict at ${CONNECTIONS} connections | req/s | p99 (ms) | original req/s | target |`);
  console.log('|---|---:|---:|---:|---|');
  console.log(`| decision tree | ${pt.rps.toFixed(0)} | ${pt.p99.toFixed(1)} | ${ORIGINAL.predict.tree} | ≥ ${ORIGINAL.predict.tree * 10}, p99 < ${TARGET.predictP99} ms |`);
  console.log(`| random forest (100 trees) | ${pf.rps.toFixed(0)} | ${pf.p99.toFixed(1)} | ${ORIGINAL.predict.forest} | ≥ ${ORIGINAL.predict.forest * 10}, p99 < ${TARGET.predictP99} ms |`);
} finally {
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
}
