// Seed 004's AI recommendation service: a catalogue and interactions fed by commerce's facts and by
// the seed's endpoints, TF-IDF + k-means category and item-KNN interaction models built as versioned
// jobs (cron and on demand), a strategy bandit for personalised requests, and offline evaluation.
import type { FastifyInstance } from 'fastify';
import { RECOMMENDATIONS_TRAIN_QUEUE, type Config } from '../../config.ts';
import { Rng } from '../../ml/rng.ts';
import type { Principal } from '../../platform/access.ts';
import type { Database } from '../../platform/db.ts';
import type { Facts } from '../../platform/jobs/facts.ts';
import type { JobSystem } from '../../platform/jobs/jobs.ts';
import { runOnThread } from '../../platform/jobs/threads.ts';
import type { Clock } from '../../platform/time.ts';
import { COMMERCE_FACTS, type ProductFact, type ProductViewedFact } from '../commerce/commerce.facts.ts';
import { createRecommendationsRepository } from './recommendations.repository.ts';
import { registerRecommendationsRoutes } from './recommendations.routes.ts';
import { createRecommendationsService } from './recommendations.service.ts';

const THREAD = new URL('./train-thread.ts', import.meta.url);
const CONSUMER = 'recommendations';

export interface RecommendationsModuleDeps {
  database: Database;
  config: Pick<
    Config,
    | 'recommendationsClusters'
    | 'recommendationsNeighbors'
    | 'recommendationsKmeansInit'
    | 'recommendationsSeed'
    | 'recommendationsRefreshMs'
    | 'recommendationsBandit'
    | 'recommendationsEpsilon'
    | 'recommendationsRewardWindowS'
  >;
  jobs: JobSystem;
  facts: Facts;
  clock: Clock;
  /** The auth module's resolver: who sent these headers (401 when no valid credential). */
  resolvePrincipal(headers: Record<string, unknown>): Promise<Principal>;
  /** Serve the routes (MODULES); the fact consumers and the build queue exist in every process. */
  routes: boolean;
}

export function registerRecommendationsModule(app: FastifyInstance, deps: RecommendationsModuleDeps) {
  const { config, jobs, facts } = deps;
  const service = createRecommendationsService({
    repo: createRecommendationsRepository(deps.database),
    settings: {
      params: { nClusters: config.recommendationsClusters, nNeighbors: config.recommendationsNeighbors, nInit: config.recommendationsKmeansInit, seed: config.recommendationsSeed },
      refreshMs: config.recommendationsRefreshMs,
      bandit: config.recommendationsBandit,
      epsilon: config.recommendationsEpsilon,
      rewardWindowMs: config.recommendationsRewardWindowS * 1000,
    },
    clock: deps.clock,
    rng: new Rng(config.recommendationsSeed),
    log: app.log,
    runThread: (input, opts) => runOnThread(THREAD, input, opts),
    enqueueTrain: ({ force, owner }) => jobs.enqueue(RECOMMENDATIONS_TRAIN_QUEUE, { force }, { owner, singletonKey: force ? undefined : 'cron' }),
    resolvePrincipal: deps.resolvePrincipal,
  });
  // Builds: one at a time per process; a failure is retried, and the old versions keep serving.
  jobs.define<{ force?: boolean }, unknown>({
    name: RECOMMENDATIONS_TRAIN_QUEUE,
    concurrency: 1,
    retryLimit: 2,
    timeoutSeconds: 1800,
    handler: (job) => service.train({ id: job.id, force: job.data?.force === true, signal: job.signal, progress: job.report }),
  });
  // commerce's facts, at least once: every handler is an upsert.
  facts.consume<ProductFact>(COMMERCE_FACTS.productCreated, CONSUMER, (f) => service.onProductFact('upsert', f));
  facts.consume<ProductFact>(COMMERCE_FACTS.productUpdated, CONSUMER, (f) => service.onProductFact('upsert', f));
  facts.consume<ProductFact>(COMMERCE_FACTS.productDeleted, CONSUMER, (f) => service.onProductFact('delete', f));
  facts.consume<ProductViewedFact>(COMMERCE_FACTS.productViewed, CONSUMER, (f) => service.onViewFact(f));
  if (deps.routes) registerRecommendationsRoutes(app, service);
  return { service };
}
