import { Type, type Static } from 'typebox';
import { PageProps } from '../../platform/pagination.ts';

const ID_MAX = 255;
// Seed callers send ids as strings ("product456"); commerce's are integers: both are kept as text.
const Id = (what: string) =>
  Type.Union([Type.String({ minLength: 1, maxLength: ID_MAX }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })], { description: `${what} (a string of 1–${ID_MAX} characters, or an integer)` });
const Category = Type.String({ maxLength: ID_MAX, description: 'the product category' });

export const RecommendationQuerySchema = Type.Object(
  {
    product_id: Type.Optional(Type.String({ maxLength: ID_MAX, description: 'the product to base recommendations on' })),
    category: Type.Optional(Type.String({ maxLength: ID_MAX, description: 'its category (the fallback for a product without interactions)' })),
    user_id: Type.Optional(Type.String({ minLength: 1, maxLength: ID_MAX, description: "exclude this user's products and let the strategy bandit choose; needs a credential that acts for the user" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'at most this many products' })),
  },
  { additionalProperties: false },
);
export type RecommendationQuery = Static<typeof RecommendationQuerySchema>;

export const CategoryQuerySchema = Type.Object(
  {
    category: Type.Optional(Type.String({ maxLength: ID_MAX, description: 'the category for which recommendations are sought' })),
    user_id: RecommendationQuerySchema.properties.user_id,
    limit: RecommendationQuerySchema.properties.limit,
  },
  { additionalProperties: false },
);

export const RecommendationSchema = Type.Object(
  {
    product_id: Type.String(),
    product_name: Type.String(),
    category: Type.String(),
    score: Type.Number({ description: 'interaction: cosine similarity; category: cosine of the category vectors; popular fallback: interactions / the most popular' }),
  },
  { title: 'Recommendation' },
);

export const SaveProductSchema = Type.Object(
  { product_name: Type.String({ minLength: 1, maxLength: ID_MAX }), product_id: Id('the product id'), category: Category },
  { additionalProperties: false },
);
export const SaveInteractionSchema = Type.Object(
  { user_id: Id('the user id'), product_id: Id('the product id'), category: Category },
  { additionalProperties: false },
);

export const ProductSchema = Type.Object({ product_id: Type.String(), product_name: Type.String(), category: Type.String(), created_at: Type.String(), updated_at: Type.String() });
export const InteractionSchema = Type.Object({
  user_id: Type.String(),
  product_id: Type.String(),
  category: Type.String(),
  count: Type.Integer({ description: 'interactions posted plus 1 for a first view reported by commerce' }),
  viewed: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

const ListPage = { ...PageProps, size: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'items per page, 1 to 1000' }) };
export const ListProductsQuerySchema = Type.Object(ListPage, { additionalProperties: false });
export const ListInteractionsQuerySchema = Type.Object(
  { ...ListPage, user_id: Type.Optional(Type.String({ maxLength: ID_MAX })), product_id: Type.Optional(Type.String({ maxLength: ID_MAX })) },
  { additionalProperties: false },
);
export const VersionsQuerySchema = Type.Object(
  { ...PageProps, kind: Type.Optional(Type.Union([Type.Literal('category'), Type.Literal('interaction'), Type.Literal('bandit')])) },
  { additionalProperties: false },
);

export const SavedProductSchema = Type.Object({ message: Type.String(), product: ProductSchema });
export const SavedInteractionSchema = Type.Object({ message: Type.String(), interaction: InteractionSchema });

export const VersionSchema = Type.Object({
  id: Type.Integer(),
  kind: Type.String({ description: 'category, interaction or bandit' }),
  status: Type.String({ description: 'building, ready or failed' }),
  stats: Type.Unknown({ description: 'what the build saw: products, users, interactions, clusters, items, the data fingerprint' }),
  error: Type.Union([Type.String(), Type.Null()]),
  train_ms: Type.Union([Type.Number(), Type.Null()]),
  job_id: Type.Union([Type.String(), Type.Null()]),
  started_at: Type.String(),
  finished_at: Type.Union([Type.String(), Type.Null()]),
});

export const TrainResponseSchema = Type.Object({ job_id: Type.Union([Type.String(), Type.Null()]), status: Type.String() });

const Metric = Type.Number({ minimum: 0, maximum: 1 });
export const EvaluationSchema = Type.Object({
  method: Type.String(),
  k: Type.Integer(),
  users_evaluated: Type.Integer(),
  products: Type.Integer(),
  interactions: Type.Integer(),
  rows: Type.Array(Type.Object({ strategy: Type.String(), precision_at_10: Metric, recall_at_10: Metric, ndcg_at_10: Metric, coverage: Metric, users: Type.Integer() })),
  bandit: Type.Object({
    policy: Type.String(),
    decisions: Type.Integer(),
    rewarded: Type.Integer(),
    strategies: Type.Array(
      Type.Object({
        strategy: Type.String(),
        chosen: Type.Integer(),
        ips: Type.Union([Type.Number(), Type.Null()]),
        snips: Type.Union([Type.Number(), Type.Null()]),
        ci: Type.Union([Type.Array(Type.Number()), Type.Null()]),
      }),
    ),
  }),
});

export const ChoicesQuerySchema = Type.Object(
  {
    bucket: Type.Optional(Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')], { description: 'the time bucket (UTC), hour by default', default: 'hour' })),
    from: Type.Optional(Type.String({ maxLength: 64, description: 'choices from this time (ISO 8601; aligned down to its bucket); default: 360 minutes, 168 hours or 90 days before `to`' })),
    to: Type.Optional(Type.String({ maxLength: 64, description: 'choices before this time (ISO 8601); default: now' })),
  },
  { additionalProperties: false },
);

export const ChoicesSchema = Type.Object(
  {
    bucket: Type.String({ description: 'minute, hour or day' }),
    bucket_seconds: Type.Integer(),
    from: Type.String({ format: 'date-time', description: 'the window start (inclusive, on a bucket boundary)' }),
    to: Type.String({ format: 'date-time', description: 'the window end (exclusive)' }),
    policy: Type.String({ description: 'the configured bandit (RECOMMENDATIONS_BANDIT): egreedy, thompson, uniform or off' }),
    reward_window_seconds: Type.Integer({ description: 'a choice with no interaction after this long is settled with reward 0' }),
    strategies: Type.Array(Type.String(), { description: 'the strategies the bandit chooses among' }),
    rows: Type.Array(
      Type.Object({
        start: Type.String({ format: 'date-time', description: 'the bucket start (UTC)' }),
        strategy: Type.String(),
        chosen: Type.Integer({ description: 'how many requests the bandit answered with this strategy' }),
        mean_probability: Type.Number({ minimum: 0, maximum: 1, description: 'the mean probability with which it was chosen' }),
        rewarded: Type.Integer({ description: 'choices after which the user interacted with a recommended product' }),
        settled: Type.Integer({ description: 'choices whose reward is known (rewarded, or the reward window has passed)' }),
        mean_reward: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'rewarded / settled; null while none is settled' }),
      }),
      { description: 'one row per bucket and strategy chosen in it, in time order; buckets without choices are absent' },
    ),
  },
  { title: 'RecommendationChoices' },
);
