import { Type, type Static } from 'typebox';
import { PageProps } from '../../platform/pagination.ts';
import { MAX_CV, MAX_NAME } from './models.domain.ts';

const Grid = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  description: 'parameter name (scikit-learn snake_case, e.g. max_depth, n_estimators, criterion) → a value or a list of values; default: the seed\'s grid for the algorithm',
});

/** Optional, and null taken as absent: Python clients send None for an unset field. */
const Opt = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

export const TrainBodySchema = Type.Object(
  {
    algorithm: Type.String({ maxLength: 100, description: 'decision_tree or random_forest' }),
    params: Opt(Grid),
    param_grid: Opt(Grid),
    dataset: Opt(Type.String({ minLength: 1, maxLength: 100, description: 'dataset id (default iris)' })),
    cv: Opt(Type.Integer({ minimum: 2, maximum: MAX_CV, description: 'stratified folds (default 5)' })),
    scoring: Opt(Type.Union([Type.Literal('accuracy'), Type.Literal('balanced_accuracy'), Type.Literal('f1_macro')], { description: 'default accuracy' })),
    seed: Opt(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'random seed of the estimators (default 0)' })),
    name: Opt(Type.String({ minLength: 1, maxLength: MAX_NAME, description: 'model name in the registry (default the algorithm); each training adds a version' })),
    async: Opt(Type.Boolean({ description: 'true: answer 202 with a job id at once' })),
  },
  { additionalProperties: false },
);
export type TrainBody = Static<typeof TrainBodySchema>;

export const TrainQuerySchema = Type.Object({ async: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

const CvResults = Type.Object(
  {
    params: Type.Array(Type.Record(Type.String(), Type.Unknown())),
    mean_test_score: Type.Array(Type.Number()),
    std_test_score: Type.Array(Type.Number()),
    rank_test_score: Type.Array(Type.Integer()),
    mean_fit_time: Type.Array(Type.Union([Type.Number(), Type.Null()]), { description: 'seconds per fold (fit + score); null when the search ran on several threads' }),
    std_fit_time: Type.Array(Type.Union([Type.Number(), Type.Null()])),
  },
  { additionalProperties: true, description: "scikit-learn's cv_results_ (plus split<k>_test_score)" },
);

const Metrics = Type.Object({
  accuracy: Type.Number(),
  f1_macro: Type.Number(),
  confusion_matrix: Type.Array(Type.Array(Type.Integer())),
  method: Type.String(),
});

export const TrainAnswerSchema = Type.Object({
  message: Type.String(),
  best_params: Type.Record(Type.String(), Type.Unknown()),
  best_score: Type.Number(),
  model_id: Type.Integer(),
  version: Type.Integer(),
  training_accuracy: Type.Number(),
  dataset: Type.String(),
  metrics: Metrics,
  cv_results: CvResults,
});

export const TrainAcceptedSchema = Type.Object({
  message: Type.String(),
  job_id: Type.String(),
  status_url: Type.String(),
  state: Type.String(),
});

export const PredictBodySchema = Type.Object(
  {
    input: Type.Unknown({ description: 'one row [5.1, 3.5, 1.4, 0.2], a batch [[...], ...], or an object keyed by feature name' }),
    model_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })),
    version: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })),
  },
  { additionalProperties: false },
);
export type PredictBody = Static<typeof PredictBodySchema>;

const Prediction = Type.Object({
  prediction: Type.Integer({ description: 'the class index (iris: 0 setosa, 1 versicolor, 2 virginica)' }),
  class_name: Type.String(),
  probabilities: Type.Record(Type.String(), Type.Number(), { description: 'class name → probability' }),
  model_id: Type.Integer(),
  version: Type.Integer(),
});
export const PredictAnswerSchema = Type.Union([Prediction, Type.Array(Prediction)]);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const StatusSchema = Type.Object({
  is_trained: Type.Boolean(),
  model_algorithm: Nullable(Type.String()),
  best_params: Nullable(Type.Record(Type.String(), Type.Unknown())),
  training_accuracy: Nullable(Type.Number()),
  best_score: Nullable(Type.Number()),
  model_id: Nullable(Type.Integer()),
  version: Nullable(Type.Integer()),
  dataset: Nullable(Type.String()),
  scoring: Nullable(Type.String()),
  trained_at: Nullable(Type.String({ format: 'date-time' })),
});

export const ModelSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  owner_user_id: Nullable(Type.String()),
  algorithm: Type.String(),
  active_version: Nullable(Type.Integer()),
  activated_at: Nullable(Type.String({ format: 'date-time' })),
  versions: Type.Optional(Type.Integer()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const VersionSchema = Type.Object({
  id: Type.Integer(),
  model_id: Type.Integer(),
  version: Type.Integer(),
  algorithm: Type.String(),
  param_grid: Type.Record(Type.String(), Type.Unknown()),
  best_params: Type.Record(Type.String(), Type.Unknown()),
  best_score: Type.Number(),
  scoring: Type.String(),
  cv: Type.Integer(),
  cv_results: CvResults,
  training_accuracy: Type.Number(),
  metrics: Metrics,
  feature_importances: Type.Record(Type.String(), Type.Number()),
  dataset_id: Type.String(),
  dataset_hash: Type.String(),
  feature_names: Type.Array(Type.String()),
  class_names: Type.Array(Type.String()),
  seed: Type.Integer(),
  training_ms: Type.Integer(),
  library_version: Type.String(),
  job_id: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});

export const ModelDetailSchema = Type.Intersect([ModelSchema, Type.Object({ active: Nullable(VersionSchema) })]);

export const ModelIdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }) });
export const VersionParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }), version: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }) });
export const ActivateBodySchema = Type.Object({ version: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }) }, { additionalProperties: false });
export const ListModelsQuerySchema = Type.Object(
  { ...PageProps, mine: Type.Optional(Type.Boolean({ description: 'only the caller\'s models' })), algorithm: Type.Optional(Type.String({ maxLength: 100 })) },
  { additionalProperties: false },
);
export const PageQuerySchema = Type.Object({ ...PageProps }, { additionalProperties: false });
export const CompareQuerySchema = Type.Object({ ids: Type.String({ minLength: 1, maxLength: 300, description: 'versions as model_id:version, comma-separated (at most 10), e.g. 1:1,1:2,2:1' }) }, { additionalProperties: false });

const CompareItem = Type.Object({
  model_id: Type.Integer(),
  version: Type.Integer(),
  algorithm: Type.String(),
  best_params: Type.Record(Type.String(), Type.Unknown()),
  best_score: Type.Number(),
  scoring: Type.String(),
  cv: Type.Integer(),
  training_accuracy: Type.Number(),
  heldout_accuracy: Type.Number(),
  heldout_f1_macro: Type.Number(),
  confusion_matrix: Type.Array(Type.Array(Type.Integer())),
  feature_importances: Type.Record(Type.String(), Type.Number()),
  dataset_id: Type.String(),
  dataset_hash: Type.String(),
  training_ms: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
});
export const CompareAnswerSchema = Type.Object({
  versions: Type.Array(CompareItem),
  best: Type.Object({ model_id: Type.Integer(), version: Type.Integer(), by: Type.String() }),
});

export const DatasetSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  owner_user_id: Nullable(Type.String()),
  builtin: Type.Boolean(),
  label_column: Type.String(),
  feature_names: Type.Array(Type.String()),
  feature_types: Type.Array(Type.String()),
  class_names: Type.Array(Type.String()),
  n_rows: Type.Integer(),
  n_features: Type.Integer(),
  content_hash: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

export const CreateDatasetJsonSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: MAX_NAME }),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_NAME, description: 'the label column (default the last column)' })),
    columns: Type.Optional(Type.Array(Type.String({ maxLength: MAX_NAME }), { maxItems: 1001, description: 'column names, when rows are arrays' })),
    rows: Type.Array(Type.Unknown(), { minItems: 1, description: 'objects keyed by column, or arrays in the order of columns' }),
    cv: Type.Optional(Type.Integer({ minimum: 2, maximum: MAX_CV, description: 'the folds this data must support: every class needs at least this many rows (default 5)' })),
  },
  { additionalProperties: false },
);
export type CreateDatasetJson = Static<typeof CreateDatasetJsonSchema>;

export const CreateDatasetQuerySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_NAME, description: 'CSV uploads: the dataset name' })),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_NAME, description: 'CSV uploads: the label column (default the last)' })),
    cv: Type.Optional(Type.Integer({ minimum: 2, maximum: MAX_CV, description: 'CSV uploads: the folds this data must support (default 5)' })),
  },
  { additionalProperties: false },
);
export const DatasetIdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
