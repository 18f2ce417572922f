// Queries of the recommendation tables (plain parameterized SQL through the driver: every statement
// here is an upsert, a page, or a whole-table read for a build).
import type { Database } from '../../platform/db.ts';
import type { ChoiceGroup } from './recommendations.choices.ts';
import type { CatalogueProduct, Interaction } from './recommendations.domain.ts';

export interface ProductRow extends CatalogueProduct {
  created_at: string;
  updated_at: string;
}

export interface InteractionRow {
  user_id: string;
  product_id: string;
  category: string;
  count: number;
  viewed: boolean;
  created_at: string;
  updated_at: string;
}

export interface VersionRow {
  id: number;
  kind: string;
  status: 'building' | 'ready' | 'failed';
  stats: Record<string, unknown>;
  error: string | null;
  train_ms: number | null;
  job_id: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface DecisionLog {
  strategy: string;
  probability: number;
  reward: number;
}

/** Interaction rows per query of a build's read. */
const TRAINING_PAGE_DEFAULT = 10_000;

const PRODUCT_COLS = `product_id, product_name, category, to_json(created_at) #>> '{}' as created_at, to_json(updated_at) #>> '{}' as updated_at`;
const INTERACTION_COLS = `user_id, product_id, category, (api_count + case when viewed then 1 else 0 end)::int as count, viewed, to_json(created_at) #>> '{}' as created_at, to_json(updated_at) #>> '{}' as updated_at`;
const VERSION_COLS = `id::int as id, kind, status, stats, error, train_ms, job_id, to_json(started_at) #>> '{}' as started_at, to_json(finished_at) #>> '{}' as finished_at`;

export function createRecommendationsRepository(database: Database, opts: { trainingPage?: number } = {}) {
  const q = database.query.bind(database);
  const TRAINING_PAGE = opts.trainingPage ?? TRAINING_PAGE_DEFAULT;
  const deleteInteractions = async (productId: string): Promise<void> => {
    await q(`delete from rec_interactions where product_id = $1`, [productId]);
  };

  return {
    /**
     * Saves a product. From a POST (`at` absent) it always wins (and revives a deleted id); from a fact
     * it applies only if not older than what is stored, so facts handled out of order converge.
     * Null when an older fact was ignored.
     */
    async upsertProduct(p: CatalogueProduct, at?: string): Promise<ProductRow | null> {
      const rows = await q<ProductRow>(
        at === undefined
          ? `insert into rec_products (product_id, product_name, category) values ($1, $2, $3)
             on conflict (product_id) do update set product_name = excluded.product_name, category = excluded.category, source_at = now(), deleted = false, updated_at = now()
             returning ${PRODUCT_COLS}`
          : `insert into rec_products (product_id, product_name, category, source_at) values ($1, $2, $3, $4)
             on conflict (product_id) do update set product_name = excluded.product_name, category = excluded.category, source_at = excluded.source_at, updated_at = now()
             where excluded.source_at >= rec_products.source_at and not rec_products.deleted
             returning ${PRODUCT_COLS}`,
        at === undefined ? [p.product_id, p.product_name, p.category] : [p.product_id, p.product_name, p.category, at],
      );
      return rows[0] ?? null;
    },

    /**
     * A commerce deletion: the product becomes a tombstone, then its interactions go. In that order, a
     * view stored concurrently is either removed here or sees the tombstone when it checks after
     * storing (service.onViewFact).
     */
    async deleteProduct(productId: string, at: string): Promise<void> {
      await q(
        `insert into rec_products (product_id, product_name, category, source_at, deleted) values ($1, '', '', $2, true)
         on conflict (product_id) do update set deleted = true, source_at = greatest(rec_products.source_at, excluded.source_at), updated_at = now()`,
        [productId, at],
      );
      await deleteInteractions(productId);
    },

    deleteInteractions,

    async isDeleted(productId: string): Promise<boolean> {
      const rows = await q<{ deleted: boolean }>(`select deleted from rec_products where product_id = $1`, [productId]);
      return rows[0]?.deleted === true;
    },

    /** One more interaction posted by a caller (`api`), or the user's first view reported by commerce (`view`, idempotent). */
    async addInteraction(i: { user_id: string; product_id: string; category: string }, kind: 'api' | 'view'): Promise<InteractionRow> {
      const [row] = await q<InteractionRow>(
        kind === 'api'
          ? `insert into rec_interactions (product_id, user_id, category, api_count) values ($1, $2, $3, 1)
             on conflict (product_id, user_id) do update set api_count = rec_interactions.api_count + 1, category = excluded.category, updated_at = now()
             returning ${INTERACTION_COLS}`
          : `insert into rec_interactions (product_id, user_id, category, viewed) values ($1, $2, $3, true)
             on conflict (product_id, user_id) do update set viewed = true, category = excluded.category,
               updated_at = case when rec_interactions.viewed then rec_interactions.updated_at else now() end
             returning ${INTERACTION_COLS}`,
        [i.product_id, i.user_id, i.category],
      );
      return row;
    },

    async listProducts(page: { limit: number; offset: number }): Promise<{ rows: ProductRow[]; total: number }> {
      const rows = await q<ProductRow>(`select ${PRODUCT_COLS} from rec_products where not deleted order by created_at desc, product_id limit $1 offset $2`, [page.limit, page.offset]);
      const [{ n }] = await q<{ n: number }>(`select count(*)::int as n from rec_products where not deleted`);
      return { rows, total: n };
    },

    async listInteractions(page: { limit: number; offset: number; userId?: string; productId?: string }): Promise<{ rows: InteractionRow[]; total: number }> {
      const where = `where ($1::text is null or user_id = $1) and ($2::text is null or product_id = $2)`;
      const args = [page.userId ?? null, page.productId ?? null];
      const rows = await q<InteractionRow>(`select ${INTERACTION_COLS} from rec_interactions ${where} order by updated_at desc, product_id, user_id limit $3 offset $4`, [...args, page.limit, page.offset]);
      const [{ n }] = await q<{ n: number }>(`select count(*)::int as n from rec_interactions ${where}`, args);
      return { rows, total: n };
    },

    /** Product ids a user has interacted with. */
    async userProducts(userId: string): Promise<Set<string>> {
      const rows = await q<{ product_id: string }>(`select product_id from rec_interactions where user_id = $1`, [userId]);
      return new Set(rows.map((r) => r.product_id));
    },

    /** Counts and last changes: what decides whether the data changed since a build. */
    async dataStamp(): Promise<{ products: number; interactions: number; productsChanged: string | null; interactionsChanged: string | null }> {
      const [r] = await q<{ p: number; i: number; pc: string | null; ic: string | null }>(
        `select (select count(*) from rec_products)::int as p, (select count(*) from rec_interactions)::int as i,
                (select to_json(max(updated_at)) #>> '{}' from rec_products) as pc, (select to_json(max(updated_at)) #>> '{}' from rec_interactions) as ic`,
      );
      return { products: r.p, interactions: r.i, productsChanged: r.pc, interactionsChanged: r.ic };
    },

    /**
     * The whole catalogue and every interaction, for a build. Interactions are read in keyset pages of
     * TRAINING_PAGE rows: on the embedded database one answer of 200k rows would arrive from the
     * database's thread in one message, read in one turn of the event loop; pages let requests in between.
     */
    async trainingData(): Promise<{ products: CatalogueProduct[]; interactions: Interaction[] }> {
      const products = await q<CatalogueProduct>(`select product_id, product_name, category from rec_products where not deleted order by product_id`);
      const interactions: Interaction[] = [];
      let after: [string, string] | null = null;
      for (;;) {
        const page: Interaction[] = await q<Interaction>(
          `select product_id, user_id, (api_count + case when viewed then 1 else 0 end)::int as count, (extract(epoch from updated_at) * 1000)::float8 as at
           from rec_interactions where $1::text is null or (product_id, user_id) > ($1::text, $2::text) order by product_id, user_id limit $3`,
          [after?.[0] ?? null, after?.[1] ?? null, TRAINING_PAGE],
        );
        for (const i of page) interactions.push({ product_id: i.product_id, user_id: i.user_id, count: Number(i.count), at: Number(i.at) });
        if (page.length < TRAINING_PAGE) break;
        const last = page[page.length - 1];
        after = [last.product_id, last.user_id];
      }
      return { products, interactions };
    },

    async startVersion(kind: string, stats: object, jobId: string | null): Promise<number> {
      const [r] = await q<{ id: number }>(`insert into rec_model_versions (kind, status, stats, job_id) values ($1, 'building', $2::jsonb, $3) returning id::int as id`, [kind, JSON.stringify(stats), jobId]);
      return r.id;
    },

    async finishVersion(id: number, v: { model: unknown; stats: object; trainMs: number }): Promise<void> {
      await q(`update rec_model_versions set status = 'ready', model = $2::jsonb, stats = $3::jsonb, train_ms = $4, finished_at = now() where id = $1`, [id, JSON.stringify(v.model), JSON.stringify(v.stats), v.trainMs]);
    },

    async failVersion(id: number, error: string): Promise<void> {
      await q(`update rec_model_versions set status = 'failed', error = $2, finished_at = now() where id = $1`, [id, error.slice(0, 2000)]);
    },

    /** The newest ready version id of each kind. */
    async latestReady(): Promise<Record<string, { id: number; stats: Record<string, unknown> }>> {
      const rows = await q<{ kind: string; id: number; stats: Record<string, unknown> }>(
        `select distinct on (kind) kind, id::int as id, stats from rec_model_versions where status = 'ready' order by kind, id desc`,
      );
      return Object.fromEntries(rows.map((r) => [r.kind, { id: r.id, stats: r.stats }]));
    },

    async versionModel(id: number): Promise<unknown> {
      const [r] = await q<{ model: unknown }>(`select model from rec_model_versions where id = $1`, [id]);
      return r?.model ?? null;
    },

    async listVersions(page: { limit: number; offset: number; kind?: string }): Promise<{ rows: VersionRow[]; total: number }> {
      const rows = await q<VersionRow>(`select ${VERSION_COLS} from rec_model_versions where ($1::text is null or kind = $1) order by id desc limit $2 offset $3`, [page.kind ?? null, page.limit, page.offset]);
      const [{ n }] = await q<{ n: number }>(`select count(*)::int as n from rec_model_versions where ($1::text is null or kind = $1)`, [page.kind ?? null]);
      return { rows, total: n };
    },

    async logDecision(d: { user_id: string; strategy: string; probability: number; probabilities: number[]; product_ids: string[] }): Promise<number> {
      const [r] = await q<{ id: number }>(
        `insert into rec_decisions (user_id, strategy, probability, probabilities, product_ids) values ($1, $2, $3, $4::jsonb, $5::jsonb) returning id::int as id`,
        [d.user_id, d.strategy, d.probability, JSON.stringify(d.probabilities), JSON.stringify(d.product_ids)],
      );
      return r.id;
    },

    /** Rewards (1) the user's open decisions since `since` that recommended this product. */
    async rewardDecisions(userId: string, productId: string, since: Date): Promise<number> {
      const rows = await q<{ id: number }>(
        `update rec_decisions set reward = 1, rewarded_at = now()
         where user_id = $1 and reward is null and created_at >= $2 and product_ids @> jsonb_build_array($3::text) returning id::int as id`,
        [userId, since.toISOString(), productId],
      );
      return rows.length;
    },

    /**
     * The bandit's choices in [from, to) grouped by UTC bucket of `seconds` and strategy: how many, their
     * mean probability, how many were rewarded, and how many are settled (rewarded, or made before
     * `settledBefore` so their reward 0 is final).
     */
    async choiceGroups(w: { seconds: number; from: Date; to: Date; settledBefore: Date }): Promise<ChoiceGroup[]> {
      return q<ChoiceGroup>(
        `select (floor(extract(epoch from created_at) / $1::int) * $1::int)::float8 as start_s, strategy,
                count(*)::int as chosen, avg(probability)::float8 as mean_probability,
                count(*) filter (where reward is not null)::int as rewarded,
                count(*) filter (where reward is not null or created_at < $4)::int as settled
         from rec_decisions where created_at >= $2 and created_at < $3
         group by 1, 2 order by 1, 2`,
        [w.seconds, w.from.toISOString(), w.to.toISOString(), w.settledBefore.toISOString()],
      );
    },

    /** Decisions whose reward is known: rewarded, or older than the window (reward 0). */
    async settledDecisions(before: Date): Promise<DecisionLog[]> {
      const rows = await q<DecisionLog>(
        `select strategy, probability, coalesce(reward, 0)::float8 as reward from rec_decisions where reward is not null or created_at < $1 order by id`,
        [before.toISOString()],
      );
      return rows.map((r) => ({ strategy: r.strategy, probability: Number(r.probability), reward: Number(r.reward) }));
    },
  };
}

export type RecommendationsRepository = ReturnType<typeof createRecommendationsRepository>;
