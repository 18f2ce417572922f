// Runs on a worker thread (platform/jobs/threads.ts): the CPU-heavy fits and the offline evaluation,
// so the event loop that serves recommendations never blocks while a model builds.
import { emptyCategoryModel, emptyInteractionModel, evaluate, fitCategoryModel, fitInteractionModel, popularityOf, type CatalogueProduct, type Interaction, type ModelParams } from './recommendations.domain.ts';

export interface ThreadInput {
  task: 'train' | 'evaluate';
  products: CatalogueProduct[];
  interactions: Interaction[];
  params: ModelParams;
}

export default function run(input: ThreadInput, ctx: { signal: AbortSignal; progress(p: number, note?: string): void }) {
  const { products, interactions, params } = input;
  if (input.task === 'evaluate') return evaluate(products, interactions, params);
  const popularity = popularityOf(products, interactions);
  let t = performance.now();
  ctx.progress(10, 'category model');
  const category = fitCategoryModel(products, popularity, params) ?? emptyCategoryModel(products, popularity);
  const categoryMs = performance.now() - t;
  ctx.signal.throwIfAborted();
  t = performance.now();
  ctx.progress(50, 'interaction model');
  const interaction = fitInteractionModel(products, popularity, interactions, params) ?? emptyInteractionModel(products, popularity);
  const interactionMs = performance.now() - t;
  return { category, interaction, categoryMs, interactionMs };
}
