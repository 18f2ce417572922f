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
