// Use cases of the recommendation service: the catalogue and interactions (from the seed's endpoints
// and commerce's facts), builds of model versions (jobs), serving from the newest ready versions held
// in memory, the strategy bandit and the offline evaluation.
import { banditFromJSON, EpsilonGreedy, ThompsonSampling, UniformRandom, type BanditJSON, type BanditPolicy } from '../../ml/bandit.ts';
import { matrix } from '../../ml/matrix.ts';
import { ips, snips, type BanditLogs } from '../../ml/ope.ts';
import type { Rng } from '../../ml/rng.ts';
import { assertActsFor, type Principal } from '../../platform/access.ts';
import { AppError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/jobs/jobs.ts';
import type { Clock } from '../../platform/time.ts';
import {
  CategoryRecommender,
  emptyCategoryModel,
  emptyInteractionModel,
  fingerprintOf,
  InteractionRecommender,
  popularProducts,
  STRATEGIES,
  type CatalogueProduct,
  type CategoryModelJSON,
  type EvaluationResult,
  type InteractionModelJSON,
  type ModelParams,
  type Recommendation,
  type Strategy,
} from './recommendations.domain.ts';
import { choiceRows, choiceWindow } from './recommendations.choices.ts';
import type { RecommendationsRepository } from './recommendations.repository.ts';
import type { ThreadInput } from './train-thread.ts';

export type BanditKind = 'egreedy' | 'thompson' | 'uniform' | 'off';

export interface RecommendationsSettings {
  params: ModelParams;
  /** How often a process asks the database whether a newer version is ready. */
  refreshMs: number;
  bandit: BanditKind;
  epsilon: number;
  /** An interaction this long after a decision no longer rewards it. */
  rewardWindowMs: number;
}

export interface RecommendationsServiceDeps {
  repo: RecommendationsRepository;
  settings: RecommendationsSettings;
  clock: Clock;
  rng: Rng;
  log: Logger;
  /** Runs train-thread.ts's task on a worker thread. */
  runThread(input: ThreadInput, opts: { signal: AbortSignal; progress(p: number, note?: string): void }): Promise<unknown>;
  /** Enqueues a build (the job `recommendations.train`); resolves with its job id. */
  enqueueTrain(opts: { force: boolean; owner: string | null }): Promise<string | null>;
  /** The caller behind request headers (the auth module), for `user_id` on the public endpoints. */
  resolvePrincipal(headers: Record<string, unknown>): Promise<Principal>;
}

interface Loaded<T> {
  id: number;
  model: T;
  stats: Record<string, unknown>;
}

export interface RecommendQuery {
  product_id?: string;
  category?: string;
  user_id?: string;
  limit?: number;
}

export interface Served {
  items: Recommendation[];
  strategy: Strategy;
  decision: number | null;
  version: number | null;
}

const MISSING_INTERACTION = 'Missing product_id or category';
const MISSING_CATEGORY = 'Missing category';
const CONTEXT = [1];
const present = (s: string | undefined): s is string => typeof s === 'string' && s.trim() !== '';

export function createRecommendationsService(deps: RecommendationsServiceDeps) {
  const { repo, settings, clock, log } = deps;
  let category: Loaded<CategoryRecommender> | null = null;
  let interaction: Loaded<InteractionRecommender> | null = null;
  let banditVersion: number | null = null;
  let policy: BanditPolicy | null = settings.bandit === 'off' ? null : freshPolicy(settings);
  let checkedAt = -Infinity;
  let refreshing: Promise<void> | null = null;
  const evalCache = new Map<string, Promise<EvaluationResult>>();

  /** Loads the newest ready versions that this process does not hold yet; the old ones serve meanwhile. */
  async function refresh(): Promise<void> {
    const latest = await repo.latestReady();
    checkedAt = Date.now();
    const c = latest.category;
    if (c && c.id !== category?.id) {
      const model = (await repo.versionModel(c.id)) as CategoryModelJSON | null;
      category = { id: c.id, stats: c.stats, model: new CategoryRecommender(model ?? emptyCategoryModel([], [])) };
    }
    const i = latest.interaction;
    if (i && i.id !== interaction?.id) {
      const model = (await repo.versionModel(i.id)) as InteractionModelJSON | null;
      interaction = { id: i.id, stats: i.stats, model: new InteractionRecommender(model ?? emptyInteractionModel([], [])) };
    }
    const b = latest.bandit;
    if (b && settings.bandit !== 'off' && b.id !== banditVersion) {
      const json = (await repo.versionModel(b.id)) as BanditJSON | null;
      if (json) policy = banditFromJSON(json);
      banditVersion = b.id;
    }
  }

  /** Serving never waits for the database once it holds a model: a stale check refreshes in the background. */
  async function current(): Promise<void> {
    if (Date.now() - checkedAt < settings.refreshMs) return;
    refreshing ??= refresh()
      .catch((err: unknown) => log.warn({ err }, 'recommendations: could not load the newest model versions'))
      .finally(() => (refreshing = null));
    if (!category && !interaction) await refreshing;
  }

  /** The catalogue and popularity of the newest build (both models of a build carry the same). */
  const popularFrom = (): { products: CatalogueProduct[]; popularity: number[] } | null => {
    const a = interaction?.model;
    const b = category?.model;
    const m = a && (!b || a.products.length >= b.products.length) ? a : b;
    return m ? { products: m.products, popularity: m.popularity } : null;
  };

  function popular(opts: { category?: string; exclude: Set<string>; limit: number }): Recommendation[] {
    const src = popularFrom();
    return src ? popularProducts(src.products, src.popularity, opts) : [];
  }

  async function excluded(q: RecommendQuery, headers: Record<string, unknown>): Promise<Set<string>> {
    if (!present(q.user_id)) return new Set();
    // user_id reveals what that user interacted with (it is excluded): only a caller who may act for
    // that user (the user, an admin, a service credential) may name one.
    const p = await deps.resolvePrincipal(headers);
    assertActsFor(p, q.user_id, 'personalise recommendations');
    return repo.userProducts(q.user_id);
  }

  function byStrategy(s: Strategy, q: { product_id: string; category: string }, exclude: Set<string>, limit: number): Recommendation[] {
    const size = Math.min(limit, Math.max(1, (interaction?.model.k ?? settings.params.nNeighbors) - 1));
    switch (s) {
      case 'interaction': {
        const own = new Set([...exclude, q.product_id]);
        const list = interaction?.model.neighbours(q.product_id, exclude);
        // An unknown product: the category's popular products, then everyone's (never []).
        if (list) return list.slice(0, limit);
        const inCategory = popular({ category: q.category, exclude: own, limit: size });
        return inCategory.length ? inCategory : popular({ exclude: own, limit: size });
      }
      case 'category': {
        const own = new Set([...exclude, q.product_id]);
        return category?.model.recommend(q.category, own, size) ?? popular({ exclude: own, limit: size });
      }
      case 'popular':
        return popular({ exclude: new Set([...exclude, q.product_id]), limit: size });
      default:
        throw new Error(`unknown strategy ${s satisfies never}`);
    }
  }

  return {
    /** GET /interaction-recommendations: item KNN, or with user_id the strategy the bandit picks. */
    async interactionRecommendations(q: RecommendQuery, headers: Record<string, unknown>): Promise<Served> {
      if (!present(q.product_id) || !present(q.category)) throw new AppError('BAD_REQUEST', MISSING_INTERACTION);
      const exclude = await excluded(q, headers);
      await current();
      const query = { product_id: q.product_id, category: q.category };
      const limit = q.limit ?? Infinity;
      if (!present(q.user_id) || !policy) return { items: byStrategy('interaction', query, exclude, limit), strategy: 'interaction', decision: null, version: interaction?.id ?? null };
      const choice = policy.choose(CONTEXT, deps.rng);
      const strategy = STRATEGIES[choice.action];
      const items = byStrategy(strategy, query, exclude, limit);
      const decision = await repo.logDecision({ user_id: q.user_id, strategy, probability: choice.probability, probabilities: Array.from(choice.probabilities), product_ids: items.map((i) => i.product_id) });
      return { items, strategy, decision, version: (strategy === 'category' ? category?.id : interaction?.id) ?? null };
    },

    /** GET /category-recommendations: every product of the category's cluster (popular ones for unknown words). */
    async categoryRecommendations(q: RecommendQuery, headers: Record<string, unknown>): Promise<Served> {
      if (!present(q.category)) throw new AppError('BAD_REQUEST', MISSING_CATEGORY);
      const exclude = await excluded(q, headers);
      await current();
      const limit = q.limit ?? Infinity;
      const items = category?.model.recommend(q.category, exclude, limit) ?? popular({ exclude, limit: Math.min(limit, settings.params.nNeighbors - 1) });
      return { items, strategy: 'category', decision: null, version: category?.id ?? null };
    },

    async saveProduct(p: CatalogueProduct) {
      const product = (await repo.upsertProduct(p))!;
      return { message: 'Product saved successfully', product };
    },

    listProducts: (page: { page: number; size: number }) => repo.listProducts({ limit: page.size, offset: (page.page - 1) * page.size }),

    async saveInteraction(i: { user_id: string; product_id: string; category: string }, kind: 'api' | 'view' = 'api') {
      const interaction = await repo.addInteraction(i, kind);
      if (settings.bandit !== 'off') await repo.rewardDecisions(i.user_id, i.product_id, new Date(clock.now().getTime() - settings.rewardWindowMs));
      return { message: 'Interaction saved successfully', interaction };
    },

    listInteractions: (page: { page: number; size: number; user_id?: string; product_id?: string }) =>
      repo.listInteractions({ limit: page.size, offset: (page.page - 1) * page.size, userId: page.user_id, productId: page.product_id }),

    /** commerce's facts: product.created / product.updated upsert, product.deleted removes, product.viewed is an interaction. */
    async onProductFact(kind: 'upsert' | 'delete', f: { product_id: number | string; name: string; category: string; occurred_at: string }) {
      const id = String(f.product_id);
      if (kind === 'delete') await repo.deleteProduct(id, f.occurred_at);
      else await repo.upsertProduct({ product_id: id, product_name: f.name, category: f.category }, f.occurred_at);
    },

    async onViewFact(f: { product_id: number | string; user_id: number | string; name: string; category: string; viewed_at: string }) {
      const productId = String(f.product_id);
      // The view may be handled before product.created: the catalogue learns the product from it. A
      // view of a product deleted since is dropped.
      const saved = await repo.upsertProduct({ product_id: productId, product_name: f.name, category: f.category }, f.viewed_at);
      if (!saved && (await repo.isDeleted(productId))) return;
      await this.saveInteraction({ user_id: String(f.user_id), product_id: productId, category: f.category }, 'view');
      // A deletion handled meanwhile (another queue) may have missed the view just stored: look again.
      if (await repo.isDeleted(productId)) await repo.deleteInteractions(productId);
    },

    /** POST /api/v1/recommendations/train: a forced build as a job. */
    async requestTraining(p: Principal): Promise<{ job_id: string | null; status: string }> {
      const id = await deps.enqueueTrain({ force: true, owner: p.kind === 'service' ? null : p.externalId });
      return { job_id: id, status: id ? 'queued' : 'already queued' };
    },

    /**
     * The job: builds both models (and refits the bandit) unless nothing changed since the newest
     * ready versions. Versions become ready only when complete; a failed build leaves the old ones serving.
     */
    async train(job: { id: string | null; force: boolean; signal: AbortSignal; progress(p: number, note?: string): void }) {
      const stamp = await repo.dataStamp();
      const fingerprint = fingerprintOf({ ...stamp, params: settings.params });
      const latest = await repo.latestReady();
      const bandit = settings.bandit === 'off' ? null : await refitBandit(latest.bandit?.stats);
      if (!job.force && latest.category?.stats.fingerprint === fingerprint && latest.interaction?.stats.fingerprint === fingerprint) {
        if (bandit) await refresh();
        return { skipped: true, reason: 'no data changed since the last build', bandit };
      }
      const base = { fingerprint, products: stamp.products, interactions: stamp.interactions, params: settings.params };
      const ids = { category: await repo.startVersion('category', base, job.id), interaction: await repo.startVersion('interaction', base, job.id) };
      try {
        const data = await repo.trainingData();
        const users = new Set(data.interactions.map((i) => i.user_id)).size;
        const out = (await deps.runThread({ task: 'train', ...data, params: settings.params }, job)) as {
          category: CategoryModelJSON;
          interaction: InteractionModelJSON;
          categoryMs: number;
          interactionMs: number;
        };
        const stats = { ...base, products: data.products.length, interactions: data.interactions.length, users };
        await repo.finishVersion(ids.category, { model: out.category, stats: { ...stats, clusters: out.category.nClusters }, trainMs: out.categoryMs });
        await repo.finishVersion(ids.interaction, { model: out.interaction, stats: { ...stats, items: out.interaction.items.length }, trainMs: out.interactionMs });
        await refresh();
        return { versions: ids, stats, bandit };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        await repo.failVersion(ids.category, message);
        await repo.failVersion(ids.interaction, message);
        throw err;
      }
    },

    async versions(q: { page: number; size: number; kind?: string }) {
      return repo.listVersions({ limit: q.size, offset: (q.page - 1) * q.size, kind: q.kind });
    },

    /** The strategy bandit's logged choices per time bucket and strategy (GET /api/v1/recommendations/choices). */
    async choices(q: { bucket?: string; from?: string; to?: string }) {
      const now = clock.now();
      const w = choiceWindow(q, now);
      const groups = await repo.choiceGroups({ seconds: w.seconds, from: w.from, to: w.to, settledBefore: new Date(now.getTime() - settings.rewardWindowMs) });
      return {
        bucket: w.bucket,
        bucket_seconds: w.seconds,
        from: w.from.toISOString(),
        to: w.to.toISOString(),
        policy: settings.bandit,
        reward_window_seconds: Math.round(settings.rewardWindowMs / 1000),
        strategies: [...STRATEGIES],
        rows: choiceRows(groups),
      };
    },

    /** Leave-last-out quality of the three strategies (cached per data state) and the bandit's off-policy values. */
    async evaluation() {
      const stamp = await repo.dataStamp();
      const key = fingerprintOf({ ...stamp, params: settings.params });
      let result = evalCache.get(key);
      if (!result) {
        evalCache.clear();
        result = repo.trainingData().then((data) => deps.runThread({ task: 'evaluate', ...data, params: settings.params }, { signal: new AbortController().signal, progress: () => {} }) as Promise<EvaluationResult>);
        result.catch(() => evalCache.delete(key));
        evalCache.set(key, result);
      }
      const offline = await result;
      return { method: 'leave-last-out', k: 10, ...offline, bandit: await offPolicy() };
    },

    /** Loads the newest versions now (tests, and the process that just trained). */
    refresh,
  };

  async function offPolicy() {
    const logs = await repo.settledDecisions(new Date(clock.now().getTime() - settings.rewardWindowMs));
    const n = logs.length;
    const strategies = STRATEGIES.map((s) => ({ strategy: s, chosen: logs.filter((l) => l.strategy === s).length, ips: null as number | null, snips: null as number | null, ci: null as [number, number] | null }));
    if (n >= 2) {
      const data = toLogs(logs);
      for (const [a, row] of strategies.entries()) {
        const target = matrix(n, STRATEGIES.length);
        for (let r = 0; r < n; r++) target.data[r * STRATEGIES.length + a] = 1;
        const e = ips(data, target);
        row.ips = round(e.value);
        row.ci = [round(e.ci[0]), round(e.ci[1])];
        // SNIPS is undefined for a strategy never logged (no weight): left null.
        if (row.chosen > 0) row.snips = round(snips(data, target).value);
      }
    }
    return { policy: settings.bandit, decisions: n, rewarded: logs.filter((l) => l.reward > 0).length, strategies };
  }

  /** Refits the policy on every settled decision when more have settled since the last fit. */
  async function refitBandit(lastStats: Record<string, unknown> | undefined) {
    const logs = await repo.settledDecisions(new Date(clock.now().getTime() - settings.rewardWindowMs));
    const rewarded = logs.filter((l) => l.reward > 0).length;
    if (lastStats && lastStats.decisions === logs.length && lastStats.rewarded === rewarded) return null;
    if (!logs.length) return null;
    const p = freshPolicy(settings);
    const data = toLogs(logs);
    p.updateBatch(data.contexts, data.actions, data.rewards);
    const id = await repo.startVersion('bandit', { decisions: logs.length, rewarded }, null);
    await repo.finishVersion(id, { model: p.toJSON(), stats: { decisions: logs.length, rewarded }, trainMs: 0 });
    return { version: id, decisions: logs.length, rewarded };
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function toLogs(logs: { strategy: string; probability: number; reward: number }[]): BanditLogs {
  const n = logs.length;
  return {
    contexts: matrix(n, 1, new Float64Array(n).fill(1)),
    actions: Int32Array.from(logs.map((l) => Math.max(0, STRATEGIES.indexOf(l.strategy as Strategy)))),
    rewards: Float64Array.from(logs.map((l) => l.reward)),
    propensities: Float64Array.from(logs.map((l) => l.probability)),
  };
}

function freshPolicy(s: Pick<RecommendationsSettings, 'bandit' | 'epsilon'>): BanditPolicy {
  const base = { nActions: STRATEGIES.length, dim: 1, actionNames: [...STRATEGIES] };
  switch (s.bandit) {
    case 'egreedy':
    case 'off':
      return new EpsilonGreedy({ ...base, epsilon: s.epsilon, estimator: 'average' });
    case 'thompson':
      return new ThompsonSampling({ ...base, clip: { pMin: 0.05, pMax: 0.9 } });
    case 'uniform':
      return new UniformRandom(base);
    default:
      throw new Error(`unknown bandit ${s.bandit satisfies never}`);
  }
}

export type RecommendationsService = ReturnType<typeof createRecommendationsService>;
