// Seed 004 recommendations on a synthetic catalogue (default 10k products, 5k users, 200k interaction
// events): the retrain time of both models beside the original's scikit-learn pipeline in the same
// run (TfidfVectorizer + KMeans(5, random_state=42); NearestNeighbors(cosine, brute) over the item ×
// user count matrix, every item's 6 neighbours), the leave-last-out quality table, and
// /interaction-recommendations over loopback HTTP (embedded database, a server of its own).
//   node bench/recommendations.ts [--products 10000] [--users 5000] [--events 200000] [--seconds 5] [--connections 50]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { wrk } from './wrk.ts';
import { Rng } from '../src/ml/rng.ts';
import { evaluate, type CatalogueProduct, type Interaction } from '../src/modules/recommendations/recommendations.domain.ts';
import runThread from '../src/modules/recommendations/train-thread.ts';
import { openDatabase } from '../src/platform/db.ts';
import { spawnServer, stopServer as stop } from '../test/helpers/server.ts';

const { values: args } = parseArgs({
  options: {
    products: { type: 'string', default: '10000' },
    users: { type: 'string', default: '5000' },
    events: { type: 'string', default: '200000' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
  },
});
const PRODUCTS = Number(args.products);
const USERS = Number(args.users);
const EVENTS = Number(args.events);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const PARAMS = { nClusters: 5, nNeighbors: 6, nInit: 10, seed: 42 };
const SECRET = 'bench-secret';
const ADMIN = { email: 'bench-admin@pearmonie.com', password: 'bench-admin-password-1' };

/** Themes of words; a category is a theme word and one or two more of its words; users prefer a theme. */
function synthetic(): { products: CatalogueProduct[]; interactions: Interaction[] } {
  const rng = new Rng(20261202);
  const themes = Array.from({ length: 20 }, (_, t) => Array.from({ length: 6 }, (_, w) => `t${t}w${w}`));
  const categories = Array.from({ length: 200 }, (_, c) => {
    const t = themes[c % themes.length];
    const words = [t[0], t[1 + rng.int(5)]];
    if (rng.next() < 0.5) words.push(t[1 + rng.int(5)]);
    return { theme: c % themes.length, name: words.join(' ') };
  });
  const products: CatalogueProduct[] = [];
  const byTheme: number[][] = themes.map(() => []);
  for (let i = 0; i < PRODUCTS; i++) {
    const c = categories[rng.int(categories.length)];
    products.push({ product_id: String(i + 1), product_name: `Product ${i + 1}`, category: c.name });
    byTheme[c.theme].push(i);
  }
  // Popularity within a theme is skewed (a squared uniform picks low ranks more often).
  const pick = (list: number[]) => list[Math.floor(rng.next() ** 2 * list.length)];
  const pref = Array.from({ length: USERS }, () => [rng.int(themes.length), rng.int(themes.length)]);
  const pairs = new Map<string, Interaction>();
  for (let e = 0; e < EVENTS; e++) {
    const u = rng.int(USERS);
    const list = rng.next() < 0.8 ? byTheme[pref[u][rng.next() < 0.7 ? 0 : 1]] : byTheme[rng.int(themes.length)];
    if (!list.length) continue;
    const p = pick(list);
    const key = `${p}|${u}`;
    const row = pairs.get(key) ?? { product_id: String(p + 1), user_id: `u${u + 1}`, count: 0, at: 0 };
    row.count++;
    row.at = e;
    pairs.set(key, row);
  }
  return { products, interactions: [...pairs.values()] };
}

const SKLEARN = String.raw`
import json, sys, time
import numpy as np
from scipy.sparse import csr_matrix
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestNeighbors
d = json.load(open(sys.argv[1]))
def best(fn, reps=3):
    b = float("inf")
    for _ in range(reps):
        t = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t)
    return b
def category():
    X = TfidfVectorizer().fit_transform([p["category"] for p in d["products"]])
    KMeans(n_clusters=5, random_state=42, n_init=10).fit(X)
def interaction():
    items = sorted({i["product_id"] for i in d["interactions"]})
    users = sorted({i["user_id"] for i in d["interactions"]})
    ix = {p: k for k, p in enumerate(items)}; ux = {u: k for k, u in enumerate(users)}
    r = [ix[i["product_id"]] for i in d["interactions"]]; c = [ux[i["user_id"]] for i in d["interactions"]]
    M = csr_matrix((np.array([i["count"] for i in d["interactions"]], dtype=float), (r, c)), shape=(len(items), len(users)))
    nn = NearestNeighbors(metric="cosine", algorithm="brute").fit(M)
    nn.kneighbors(M, n_neighbors=6)
print(json.dumps({"category": best(category), "interaction": best(interaction)}))
`;

function bestOf<T>(fn: () => T, reps = 3): { sec: number; out: T } {
  let sec = Infinity;
  let out!: T;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    out = fn();
    sec = Math.min(sec, (performance.now() - t) / 1000);
  }
  return { sec, out };
}

const startServer = (env: Record<string, string>) =>
  spawnServer(
    { ...process.env, ...env, LOG_LEVEL: 'warn', MODULES: 'recommendations,auth,jobs', RECOMMENDATIONS_TRAIN_CRON: 'off', CLIENT_HEADER_SECRET: SECRET, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
    { echo: true, readyTimeoutMs: 120_000 },
  );


const { products, interactions } = synthetic();
console.error(`synthetic: ${products.length} products, ${USERS} users, ${EVENTS} events → ${interactions.length} (product, user) pairs`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-bench-rec-'));
try {
  // 1. Retrain time, ours (the build job's thread function, in this thread) and sklearn's.
  const ours = bestOf(() => runThread({ task: 'train', products, interactions, params: PARAMS }, { signal: new AbortController().signal, progress() {} }) as { categoryMs: number; interactionMs: number });
  const file = path.join(dir, 'data.json');
  fs.writeFileSync(file, JSON.stringify({ products, interactions }));
  const sk = JSON.parse(execFileSync('/usr/bin/python3', ['-c', SKLEARN, file], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } })) as { category: number; interaction: number };

  // 2. Quality on one leave-last-out split.
  const quality = evaluate(products, interactions, PARAMS);

  // 3. HTTP: seed the database, serve, build through the API, load /interaction-recommendations.
  const dataDir = path.join(dir, 'data');
  let server = await startServer({ DATA_DIR: dataDir });
  await stop(server.proc);
  const db = await openDatabase({ databaseUrl: null, dataDir, memoryDb: false, dbPoolSize: 1 });
  await db.query(`insert into rec_products (product_id, product_name, category) select * from unnest($1::text[], $2::text[], $3::text[])`, [
    products.map((p) => p.product_id),
    products.map((p) => p.product_name),
    products.map((p) => p.category),
  ]);
  for (let i = 0; i < interactions.length; i += 20_000) {
    const part = interactions.slice(i, i + 20_000);
    await db.query(
      `insert into rec_interactions (product_id, user_id, category, api_count, updated_at) select p, u, '', c, to_timestamp(1.8e9 + t) from unnest($1::text[], $2::text[], $3::int[], $4::float8[]) as x(p, u, c, t)`,
      [part.map((x) => x.product_id), part.map((x) => x.user_id), part.map((x) => x.count), part.map((x) => x.at ?? 0)],
    );
  }
  await db.close();
  server = await startServer({ DATA_DIR: dataDir });
  let http = { rps: 0, p50: 0, p99: 0, jobSec: 0 };
  try {
    const login = (await (await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })).json()) as { access: string };
    const auth = { authorization: `Bearer ${login.access}` };
    const t0 = performance.now();
    const { job_id } = (await (await fetch(`${server.url}/api/v1/recommendations/train`, { method: 'POST', headers: auth })).json()) as { job_id: string };
    for (;;) {
      const j = (await (await fetch(`${server.url}/api/v1/jobs/${job_id}`, { headers: auth })).json()) as { state: string; error: string | null };
      if (j.state === 'completed') break;
      if (j.state === 'failed') throw new Error(`build failed: ${j.error}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    http.jobSec = (performance.now() - t0) / 1000;
    const byId = new Map(products.map((p) => [p.product_id, p.category]));
    const hot = [...new Set(interactions.slice(0, 2000).map((i) => i.product_id))];
    const paths = hot.map((id) => `/interaction-recommendations?product_id=${id}&category=${encodeURIComponent(byId.get(id)!)}`);
    const r = await wrk({ url: server.url, connections: CONNECTIONS, seconds: SECONDS, requestLua: `paths = paths or { ${paths.map((p) => JSON.stringify(p)).join(', ')} }
  path = paths[math.random(#paths)]` });
    if (r.errors) throw new Error(`${r.errors} errors or non-2xx answers`);
    http = { ...http, rps: r.rps, p50: r.p50, p99: r.p99 };
  } finally {
    await stop(server.proc);
  }

  const f = (x: number, d = 3) => x.toFixed(d);
  console.log(`\nRecommendations benchmark: ${products.length} products, ${USERS} users, ${EVENTS} events (${interactions.length} pairs); ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
  console.log('\n| build (best of 3) | Arbiter (s) | scikit-learn (s, 1 thread) | Arbiter / sklearn |');
  console.log('|---|---:|---:|---:|');
  console.log(`| category: TF-IDF + k-means(5), 10 inits | ${f(ours.out.categoryMs / 1000)} | ${f(sk.category)} | ${f(ours.out.categoryMs / 1000 / sk.category, 2)} |`);
  console.log(`| interaction: count matrix + cosine KNN, 6 neighbours of every item | ${f(ours.out.interactionMs / 1000)} | ${f(sk.interaction)} | ${f(ours.out.interactionMs / 1000 / sk.interaction, 2)} |`);
  console.log(`| the build job through the API (load, thread, store, switch) | ${f(http.jobSec)} | | |`);
  console.log(`\nLeave-last-out, ${quality.users_evaluated} users:\n`);
  console.log('| strategy | precision@10 | recall@10 | NDCG@10 | coverage |');
  console.log('|---|---:|---:|---:|---:|');
  for (const row of quality.rows) console.log(`| ${row.strategy} | ${f(row.precision_at_10, 4)} | ${f(row.recall_at_10, 4)} | ${f(row.ndcg_at_10, 4)} | ${f(row.coverage, 4)} |`);
  console.log(`\n| /interaction-recommendations (embedded, ${CONNECTIONS} connections, ${SECONDS} s) | req/s | p50 (ms) | p99 (ms) |`);
  console.log('|---|---:|---:|---:|');
  console.log(`| item KNN answers over ${[...new Set(interactions.slice(0, 2000).map((i) => i.product_id))].length} products | ${Math.round(http.rps)} | ${http.p50} | ${http.p99} |`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
