// A simulated micro-randomized trial through the HTTP API, end to end: every decision is POST
// /api/v1/action, every outcome POST /api/v1/upload_data, and each night POST /api/v1/update.
// The world: users with 5 decision points a day; context x = (stress ~ N(0,1), weekend ∈ {0,1});
// reward = 1 + 0.3·weekend + A·τ + N(0,1), where the treatment effect τ = (0.3 + 0.6·stress)·e^(−day/15)
// depends on the context and fades over the study. Policies: thompson, linucb, ε-greedy (each clipped to
// [0.2, 0.8] as the trial requires), uniform p = 0.5, against the oracle (treat exactly when τ > 0).
// Regret is the pseudo-regret Σ max(τ, 0) − A·τ. Then, from the uniform log only (exported through
// the API), POST /api/v1/problems/{id}/evaluate scores each policy kind, fitted on the first half of
// the log, on the second half; its true value on those contexts is computed from the known world.
//   node bench/decisions-study.ts [--users 100] [--days 30] [--per-day 5] [--seed 1]
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { Rng } from '../src/ml/rng.ts';
import { buildEncoder, encode, loadPolicy, normalizeConfig, probabilitiesOf, trainingSet, trainPolicy, type LoggedRow, type PolicyConfig } from '../src/modules/decisions/decisions.domain.ts';
import { httpRequest } from '../test/helpers/app.ts';

const { values: args } = parseArgs({
  options: { users: { type: 'string', default: '100' }, days: { type: 'string', default: '30' }, 'per-day': { type: 'string', default: '5' }, seed: { type: 'string', default: '1' } },
});
const USERS = Number(args.users);
const DAYS = Number(args.days);
const PER_DAY = Number(args['per-day']);
const START = Date.UTC(2026, 0, 1);

const tau = (stress: number, day: number) => (0.3 + 0.6 * stress) * Math.exp(-day / 15);
const mean = (stress: number, weekend: number, day: number, a: number) => 1 + 0.3 * weekend + a * tau(stress, day);
const dayOf = (iso: string) => Math.floor((Date.parse(iso) - START) / 86_400_000);

const config = loadConfig({ LOG_LEVEL: 'error' }, { memoryDb: true, auth: { adminEmail: 'study@example.com', adminPassword: 'study-password-1', rateLimitPerIp: 1e6, rateLimitPerAccount: 1e6 } });
const app = await buildApp(config);
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const login = await httpRequest(url, 'POST', '/api/v1/auth/login/', { body: { email: 'study@example.com', password: 'study-password-1' } });
const headers = { authorization: `Bearer ${login.body.access}` };
const call = async (method: string, path: string, body?: unknown) => {
  const r = await httpRequest(url, method, path, { body, headers });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
};

for (let u = 0; u < USERS; u++) await call('POST', '/api/v1/add_user', { user_id: `s${u}` });
const policies: Record<string, PolicyConfig> = {
  thompson: { kind: 'thompson' },
  linucb: { kind: 'linucb', alpha: 1 },
  epsilon_greedy: { kind: 'epsilon_greedy', epsilon: 0.1 },
  uniform: { kind: 'fixed', probabilities: [0.5, 0.5] },
};
const base = { actions: ['no_nudge', 'nudge'], clip: { p_min: 0.2, p_max: 0.8 }, context: { mode: 'schema', numeric: ['stress', 'weekend'] } };

const results: { name: string; regret: number; reward: number; oracle: number; n: number; seconds: number }[] = [];
for (const [name, policy] of Object.entries(policies)) {
  await call('POST', '/api/v1/problems', { name, config: { ...base, policy } });
  // The same contexts and noise for every policy.
  const world = new Rng(Number(args.seed));
  let regret = 0;
  let reward = 0;
  let oracle = 0;
  let n = 0;
  const t0 = performance.now();
  for (let day = 0; day < DAYS; day++) {
    const weekend = day % 7 >= 5 ? 1 : 0;
    for (let k = 0; k < PER_DAY; k++) {
      const ts = new Date(START + day * 86_400_000 + (8 + 3 * k) * 3_600_000).toISOString();
      const points = Array.from({ length: USERS }, (_, u) => ({ u, stress: world.normal(), noise: world.normal() }));
      await Promise.all(
        points.map(async ({ u, stress, noise }) => {
          const idx = day * PER_DAY + k;
          const d = await call('POST', '/api/v1/action', { user_id: `s${u}`, timestamp: ts, decision_idx: idx, problem: name, context: { stress, weekend } });
          const a = d.action.action_type === 'nudge' ? 1 : 0;
          const t = tau(stress, day);
          const r = mean(stress, weekend, day, a) + noise;
          regret += Math.max(t, 0) - a * t;
          reward += r;
          oracle += mean(stress, weekend, day, t > 0 ? 1 : 0);
          n++;
          await call('POST', '/api/v1/upload_data', { user_id: `s${u}`, timestamp: ts, decision_idx: idx, problem: name, data: { action: d.action, action_prob: d.action_prob, state: d.state, outcome: { clicks: r } } });
        }),
      );
    }
    await call('POST', '/api/v1/update', { timestamp: new Date(START + (day + 1) * 86_400_000 - 1000).toISOString(), problem: name });
  }
  results.push({ name, regret, reward: reward / n, oracle: oracle / n, n, seconds: (performance.now() - t0) / 1000 });
}

// The best a trial clipped to [0.2, 0.8] can do: 0.8 on the better action at every decision (same world).
function clippedOracleRegret(): number {
  const world = new Rng(Number(args.seed));
  let regret = 0;
  for (let day = 0; day < DAYS; day++) {
    for (let k = 0; k < PER_DAY; k++) {
      for (let u = 0; u < USERS; u++) {
        const t = tau(world.normal(), day);
        world.normal();
        regret += 0.2 * Math.abs(t);
      }
    }
  }
  return regret;
}
results.push({ name: 'clipped oracle (0.8 on the better action, computed offline)', regret: clippedOracleRegret(), reward: NaN, oracle: NaN, n: 0, seconds: 0 });

console.log(`\nSimulated study through the HTTP API: ${USERS} users × ${PER_DAY} decision points/day × ${DAYS} days = ${USERS * PER_DAY * DAYS} decisions per policy, nightly updates, clip [0.2, 0.8]`);
console.log('| policy | cumulative regret vs oracle | regret / uniform | mean reward | oracle mean reward | run time s |');
console.log('|---|---:|---:|---:|---:|---:|');
const uni = results.find((r) => r.name === 'uniform')!;
for (const r of results) console.log(`| ${r.name} | ${r.regret.toFixed(1)} | ${(r.regret / uni.regret).toFixed(2)} | ${r.reward.toFixed(3)} | ${r.oracle.toFixed(3)} | ${r.seconds.toFixed(0)} |`);

// Off-policy evaluation from the uniform log, through the API.
const candidates = [policies.thompson, policies.linucb, policies.epsilon_greedy];
const job = await call('POST', '/api/v1/problems/uniform/evaluate', { candidates, seed: 5 });
let view: { state: string; result: any; error: string | null };
for (;;) {
  view = await call('GET', job.status_url);
  if (view.state === 'completed' || view.state === 'failed') break;
  await new Promise((r) => setTimeout(r, 200));
}
if (view.state !== 'completed') throw new Error(`evaluation failed: ${view.error}`);
// The truth: the same candidates fitted on the same first half, their π on the second half, and the world's E[r | x, a].
const lines = (await httpRequest(url, 'GET', '/api/v1/decisions/export?problem=uniform&format=jsonl', { headers })).text.trim().split('\n').map((l) => JSON.parse(l));
const rows: (LoggedRow & { day: number })[] = lines
  .map((l) => ({ userId: l.user_id, context: l.context, action: l.action_index, probability: l.probability, decidedBy: l.decided_by, decidedAt: new Date(l.client_timestamp), reward: l.reward, day: dayOf(l.client_timestamp) }))
  .sort((a, b) => a.decidedAt.getTime() - b.decidedAt.getTime());
const cfg = normalizeConfig({ ...base, policy: policies.uniform });
const enc = buildEncoder(cfg.context, rows.map((r) => r.context));
const all = trainingSet(rows, cfg, enc, new Date(8.64e15));
const half = Math.floor(all.contexts.rows / 2);
const trainRows = all.rows.slice(0, half);
const testRows = all.rows.slice(half) as (LoggedRow & { day: number })[];
const truth = (p: ReturnType<typeof loadPolicy>) => {
  const rng = new Rng(9);
  let v = 0;
  for (const r of testRows) {
    const pi = probabilitiesOf(p, encode(enc, r.context, cfg.context), rng);
    const s = r.context.stress as number;
    const w = r.context.weekend as number;
    v += pi[0] * mean(s, w, r.day, 0) + pi[1] * mean(s, w, r.day, 1);
  }
  return v / testRows.length;
};
const trainSet = trainingSet(trainRows, cfg, enc, new Date(8.64e15));
console.log(`\nOff-policy estimates from the uniform log (${view.result.n_test} decisions scored; each kind fitted on the first ${view.result.n_train}), beside the true value on the same contexts`);
console.log('| policy | true value | IPS [95% CI] | SNIPS [95% CI] | DR [95% CI] |');
console.log('|---|---:|---:|---:|---:|');
const fmt = (e: { value: number; ci: [number, number] }) => `${e.value.toFixed(3)} [${e.ci[0].toFixed(3)}, ${e.ci[1].toFixed(3)}]`;
for (const e of view.result.estimates) {
  let v: number | null = null;
  if (e.name === 'uniform') v = truth(loadPolicy({ kind: 'Fixed', version: 1, probabilities: [0.5, 0.5], actionNames: ['no_nudge', 'nudge'], clip: { pMin: 0, pMax: 1 } }));
  else if (e.name.startsWith('candidate_')) v = truth(loadPolicy(trainPolicy(e.policy, cfg, trainSet)));
  if (v === null) continue; // the live version of the uniform problem is uniform itself
  console.log(`| ${e.name === 'uniform' ? 'uniform' : e.policy.kind} | ${v.toFixed(3)} | ${fmt(e.ips)} | ${fmt(e.snips)} | ${fmt(e.dr)} |`);
}
await app.close();
