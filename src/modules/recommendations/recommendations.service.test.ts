// The service on an in-memory repository: serving switches versions only when a build is complete,
// keeps answering from the old one while a build runs or after it fails; the bandit logs its
// choices with their probabilities, is rewarded by later interactions and refit from its log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../ml/rng.ts';
import type { Principal } from '../../platform/access.ts';
import type { CatalogueProduct } from './recommendations.domain.ts';
import type { RecommendationsRepository } from './recommendations.repository.ts';
import { createRecommendationsService, type RecommendationsServiceDeps } from './recommendations.service.ts';
import runThread, { type ThreadInput } from './train-thread.ts';

function fakeRepo() {
  const products = new Map<string, CatalogueProduct>();
  const interactions = new Map<string, { product_id: string; user_id: string; count: number; at: number }>();
  const versions: { id: number; kind: string; status: string; stats: any; model: unknown; error?: string }[] = [];
  const decisions: { id: number; user_id: string; strategy: string; probability: number; product_ids: string[]; reward: number | null; at: number }[] = [];
  let tick = 0;
  const repo = {
    async upsertProduct(p: CatalogueProduct) {
      products.set(p.product_id, p);
      return { ...p, created_at: '', updated_at: String(++tick) };
    },
    async isDeleted() {
      return false;
    },
    async addInteraction(i: { user_id: string; product_id: string; category: string }) {
      const key = `${i.product_id}|${i.user_id}`;
      const row = interactions.get(key) ?? { product_id: i.product_id, user_id: i.user_id, count: 0, at: 0 };
      row.count++;
      row.at = ++tick;
      interactions.set(key, row);
      return { ...i, count: row.count, viewed: false, created_at: '', updated_at: '' };
    },
    async userProducts(u: string) {
      return new Set([...interactions.values()].filter((i) => i.user_id === u).map((i) => i.product_id));
    },
    async dataStamp() {
      return { products: products.size, interactions: interactions.size, productsChanged: String(tick), interactionsChanged: String(tick) };
    },
    async trainingData() {
      return { products: [...products.values()], interactions: [...interactions.values()] };
    },
    async startVersion(kind: string, stats: object) {
      versions.push({ id: versions.length + 1, kind, status: 'building', stats, model: null });
      return versions.length;
    },
    async finishVersion(id: number, v: { model: unknown; stats: object }) {
      Object.assign(versions[id - 1], { status: 'ready', model: v.model, stats: v.stats });
    },
    async failVersion(id: number, error: string) {
      Object.assign(versions[id - 1], { status: 'failed', error });
    },
    async latestReady() {
      const out: Record<string, { id: number; stats: any }> = {};
      for (const v of versions) if (v.status === 'ready') out[v.kind] = { id: v.id, stats: v.stats };
      return out;
    },
    async versionModel(id: number) {
      return versions[id - 1].model;
    },
    async logDecision(d: { user_id: string; strategy: string; probability: number; product_ids: string[] }) {
      decisions.push({ id: decisions.length + 1, ...d, reward: null, at: Date.now() });
      return decisions.length;
    },
    async rewardDecisions(u: string, p: string) {
      let n = 0;
      for (const d of decisions) if (d.user_id === u && d.reward === null && d.product_ids.includes(p)) (d.reward = 1), n++;
      return n;
    },
    async settledDecisions(before: Date) {
      return decisions.filter((d) => d.reward !== null || d.at < before.getTime()).map((d) => ({ strategy: d.strategy, probability: d.probability, reward: d.reward ?? 0 }));
    },
  };
  return { repo: repo as unknown as RecommendationsRepository, versions, decisions };
}

const service: Principal = { kind: 'service' };

function make(overrides: Partial<RecommendationsServiceDeps> = {}, rewardWindowMs = 3_600_000) {
  const f = fakeRepo();
  const deps: RecommendationsServiceDeps = {
    repo: f.repo,
    settings: { params: { nClusters: 2, nNeighbors: 3, nInit: 3, seed: 1 }, refreshMs: 0, bandit: 'egreedy', epsilon: 0.3, rewardWindowMs },
    clock: { now: () => new Date() },
    rng: new Rng(7),
    log: { info() {}, warn() {}, error() {} },
    runThread: async (input) => runThread(input as ThreadInput, { signal: new AbortController().signal, progress() {} }),
    enqueueTrain: async () => 'job',
    resolvePrincipal: async () => service,
    ...overrides,
  };
  return { svc: createRecommendationsService(deps), ...f };
}

async function seed(svc: ReturnType<typeof make>['svc']) {
  for (const [id, cat] of [['a', 'Toys Kids'], ['b', 'Toys Kids'], ['c', 'Garden Tools'], ['d', 'Garden Tools']]) await svc.saveProduct({ product_id: id, product_name: id.toUpperCase(), category: cat });
  for (const [p, u] of [['a', 'u1'], ['b', 'u1'], ['a', 'u2'], ['b', 'u2'], ['c', 'u3'], ['d', 'u3']]) await svc.saveInteraction({ product_id: p, user_id: u, category: '' });
}

const job = (force = true) => ({ id: 'j', force, signal: new AbortController().signal, progress() {} });

test('a failed build is marked failed and the old version keeps serving', async () => {
  let fail = false;
  const m = make({ runThread: async (input) => (fail ? Promise.reject(new Error('thread crashed')) : runThread(input as ThreadInput, { signal: new AbortController().signal, progress() {} })) });
  await seed(m.svc);
  await m.svc.train(job());
  const first = await m.svc.interactionRecommendations({ product_id: 'a', category: 'Toys Kids' }, {});
  // 3 neighbours minus the item: b (same users), then c at similarity 0 (sklearn keeps k neighbours).
  assert.deepEqual(first.items.map((r) => [r.product_id, r.score]), [['b', 1], ['c', 0]]);
  fail = true;
  await m.svc.saveProduct({ product_id: 'e', product_name: 'E', category: 'Toys Kids' });
  await assert.rejects(m.svc.train(job()), /thread crashed/);
  assert.deepEqual(m.versions.map((v) => v.status), ['ready', 'ready', 'failed', 'failed']);
  assert.equal(m.versions[2].error, 'thread crashed');
  const again = await m.svc.interactionRecommendations({ product_id: 'a', category: 'Toys Kids' }, {});
  assert.equal(again.version, first.version);
  assert.deepEqual(again.items, first.items);
});

test('while a build runs, answers come from the previous version; the new one serves once complete', async () => {
  let release!: () => void;
  let gate: Promise<void> | null = null;
  const m = make({
    runThread: async (input) => {
      if (gate) await gate;
      return runThread(input as ThreadInput, { signal: new AbortController().signal, progress() {} });
    },
  });
  await seed(m.svc);
  await m.svc.train(job());
  gate = new Promise((r) => (release = r));
  await m.svc.saveProduct({ product_id: 'f', product_name: 'F', category: 'Toys Kids' });
  const building = m.svc.train(job());
  await new Promise((r) => setTimeout(r, 10));
  const during = await m.svc.categoryRecommendations({ category: 'toys' }, {});
  assert.deepEqual(during.items.map((r) => r.product_id).sort(), ['a', 'b']);
  release();
  await building;
  const afterBuild = await m.svc.categoryRecommendations({ category: 'toys' }, {});
  assert.deepEqual(afterBuild.items.map((r) => r.product_id).sort(), ['a', 'b', 'f']);
  assert.ok(afterBuild.version! > during.version!);
});

test('an unchanged catalogue is not rebuilt unless forced', async () => {
  const m = make();
  await seed(m.svc);
  await m.svc.train(job(false));
  const r = await m.svc.train(job(false));
  assert.equal((r as { skipped?: boolean }).skipped, true);
  await m.svc.train(job(true));
  assert.equal(m.versions.filter((v) => v.kind === 'interaction').length, 2);
});

test('the bandit logs each choice with its probability, is rewarded by an interaction with a recommended product, and refits', async () => {
  const m = make();
  await seed(m.svc);
  await m.svc.train(job());
  for (let i = 0; i < 40; i++) {
    const s = await m.svc.interactionRecommendations({ product_id: 'c', category: 'Garden Tools', user_id: `v${i}` }, {});
    assert.ok(s.decision! > 0);
    // Users who got the item-KNN list interact with what it recommended; others do not.
    if (s.strategy === 'interaction' && s.items.length) await m.svc.saveInteraction({ user_id: `v${i}`, product_id: s.items[0].product_id, category: '' });
  }
  assert.equal(m.decisions.length, 40);
  for (const d of m.decisions) assert.ok(d.probability > 0 && d.probability <= 1);
  // With ε = 0.3 over 3 strategies the smallest probability is 0.1.
  assert.ok(m.decisions.every((d) => d.probability >= 0.1 - 1e-12));
  const rewarded = m.decisions.filter((d) => d.reward === 1);
  assert.ok(rewarded.length > 0 && rewarded.every((d) => d.strategy === 'interaction'));
  await m.svc.train(job(false));
  const bandit = m.versions.find((v) => v.kind === 'bandit' && v.status === 'ready');
  assert.ok(bandit, 'a bandit version');
  // After the refit the greedy strategy is the rewarded one: most choices now go to it.
  let knn = 0;
  for (let i = 0; i < 50; i++) if ((await m.svc.interactionRecommendations({ product_id: 'c', category: 'Garden Tools', user_id: `w${i}` }, {})).strategy === 'interaction') knn++;
  assert.ok(knn > 30, `interaction chosen ${knn}/50`);
  const ev = await m.svc.evaluation();
  const s = Object.fromEntries(ev.bandit.strategies.map((x) => [x.strategy, x]));
  assert.ok(s.interaction.ips! > s.popular.ips!, JSON.stringify(ev.bandit));
});

test('user_id is refused to a caller who may not act for that user', async () => {
  const m = make({ resolvePrincipal: async () => ({ kind: 'user', userId: 5, externalId: '5', role: 'user', jti: 'j', family: 'f', familyExpiresAt: 0, version: 0, expiresAt: new Date() }) });
  await seed(m.svc);
  await m.svc.train(job());
  await assert.rejects(m.svc.categoryRecommendations({ category: 'toys', user_id: '6' }, {}), /only for yourself/);
  assert.equal((await m.svc.categoryRecommendations({ category: 'toys', user_id: '5' }, {})).items.length, 2);
});

test('an empty service answers [] before any build, and evaluates nothing without failing', async () => {
  const m = make();
  assert.deepEqual((await m.svc.categoryRecommendations({ category: 'toys' }, {})).items, []);
  assert.deepEqual((await m.svc.interactionRecommendations({ product_id: 'a', category: 'toys' }, {})).items, []);
  const ev = await m.svc.evaluation();
  assert.equal(ev.users_evaluated, 0);
  assert.equal(ev.bandit.decisions, 0);
  // A catalogue whose categories have no words, and no interactions: a build still succeeds; answers fall back to popular.
  await m.svc.saveProduct({ product_id: 'x', product_name: 'X', category: '' });
  await m.svc.train(job());
  assert.deepEqual((await m.svc.categoryRecommendations({ category: 'toys' }, {})).items.map((r) => r.product_id), ['x']);
  assert.deepEqual((await m.svc.interactionRecommendations({ product_id: 'q', category: 'toys' }, {})).items.map((r) => r.product_id), ['x']);
});
