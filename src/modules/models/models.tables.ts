import { sql } from 'drizzle-orm';
import os from 'node:os';
import { customType, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/columns.ts';

/** scikit-learn's cv_results_ as stored (training.ts makes it). */
export interface CvResultsJson {
  params: Record<string, unknown>[];
  mean_test_score: number[];
  std_test_score: number[];
  rank_test_score: number[];
  mean_fit_time: (number | null)[];
  std_fit_time: (number | null)[];
  [split: string]: unknown;
}

// Seed 003's model registry. Owners are external user ids ('' = made by a service credential);
// datasets with owner null ship with the server (iris, wine, breast_cancer).

// A dataset's numbers are stored as bytea in network byte order (float8send and int4send's, which
// migration 0015 used to convert the earlier jsonb), in parts of 32 KB of features (one statement
// each, models.repository.ts): a 10 MB upload as one jsonb value cost a JSON.stringify on the way in,
// the database's jsonb parse and a JSON.parse on every read, all on the event loop.
const LITTLE_ENDIAN = os.endianness() === 'LE';

function swap(b: Buffer, width: number): void {
  if (width === 8) b.swap64();
  else b.swap32();
}

/**
 * Runs `send` with the arrays' bytes in network byte order, as Buffers over the arrays' own memory: on a
 * little-endian machine they are swapped in place, and swapped back once `send` has settled, so the
 * arrays hold their values again. Writing a dataset this way copies nothing on the event loop (a copy
 * per part was megabytes of buffers per upload, and with them full garbage collections). Nothing may
 * read the arrays until `send` settles, and `send` must be done with the bytes when it does.
 */
export async function inNetworkOrder<T>(arrays: (Float64Array | Int32Array)[], send: (bytes: Buffer[]) => Promise<T>): Promise<T> {
  const bytes = arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  if (LITTLE_ENDIAN) arrays.forEach((a, i) => swap(bytes[i], a.BYTES_PER_ELEMENT));
  try {
    return await send(bytes);
  } finally {
    if (LITTLE_ENDIAN) arrays.forEach((a, i) => swap(bytes[i], a.BYTES_PER_ELEMENT));
  }
}

/**
 * Copies numbers stored in network byte order into `into` from element `at` on, in this machine's
 * order (straight into its memory, no array in between). Answers how many it wrote.
 */
export function fromNetworkOrder(bytes: Uint8Array, into: Float64Array | Int32Array, at: number): number {
  const width = into.BYTES_PER_ELEMENT;
  const n = bytes.byteLength / width;
  if (!Number.isInteger(n) || at + n > into.length) throw new RangeError(`stored dataset bytes: ${bytes.byteLength} bytes do not fit ${into.length - at} values of ${width} bytes`);
  const target = Buffer.from(into.buffer, into.byteOffset + at * width, bytes.byteLength);
  target.set(bytes);
  if (LITTLE_ENDIAN) swap(target, width);
  return n;
}

/** bytea as the driver reads and writes it: the dataset parts' numbers, converted by the two functions above. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

/** A training table's description; its rows are in ml_dataset_parts. */
export const mlDatasets = pgTable(
  'ml_datasets',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    owner: text('owner'),
    label_column: text('label_column').notNull(),
    feature_names: jsonb('feature_names').$type<string[]>().notNull(),
    class_names: jsonb('class_names').$type<string[]>().notNull(),
    n_rows: integer('n_rows').notNull(),
    content_hash: text('content_hash').notNull(),
    ...timestamps,
  },
  (t) => [index('ml_datasets_owner_created_idx').on(t.owner, t.created_at)],
);

/** A dataset's rows in order, part by part: numeric features (row-major) and class labels 0..k-1. */
export const mlDatasetParts = pgTable(
  'ml_dataset_parts',
  {
    dataset_id: text('dataset_id')
      .notNull()
      .references(() => mlDatasets.id, { onDelete: 'cascade' }),
    /** 0, 1, 2, …: the order of the rows. */
    part: integer('part').notNull(),
    /** Features of this part's rows, row-major: rows × feature_names.length doubles. */
    x: bytea('x').notNull(),
    /** Class index of each of this part's rows (into class_names). */
    y: bytea('y').notNull(),
  },
  (t) => [primaryKey({ columns: [t.dataset_id, t.part] })],
);

/** A named model; its versions are the trainings, one of them active. */
export const mlModels = pgTable(
  'ml_models',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    name: text('name').notNull(),
    owner: text('owner').notNull(),
    algorithm: text('algorithm').notNull(),
    active_version: integer('active_version'),
    /** The highest version number given out (versions are numbered under the model row's lock). */
    last_version: integer('last_version').notNull().default(0),
    /** When a version was last made active: the newest is the model /predict and /status use. */
    activated_at: timestamp('activated_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (t) => [uniqueIndex('ml_models_owner_name_idx').on(t.owner, t.name), index('ml_models_activated_idx').on(t.activated_at)],
);

export const mlModelVersions = pgTable(
  'ml_model_versions',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    model_id: integer('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    algorithm: text('algorithm').notNull(),
    param_grid: jsonb('param_grid').$type<Record<string, unknown>>().notNull(),
    best_params: jsonb('best_params').$type<Record<string, unknown>>().notNull(),
    best_score: doublePrecision('best_score').notNull(),
    scoring: text('scoring').notNull(),
    cv: integer('cv').notNull(),
    cv_results: jsonb('cv_results').$type<CvResultsJson>().notNull(),
    training_accuracy: doublePrecision('training_accuracy').notNull(),
    /** Out-of-fold metrics of the best parameters: accuracy, macro F1, confusion matrix. */
    metrics: jsonb('metrics').$type<{ accuracy: number; f1_macro: number; confusion_matrix: number[][]; method: string }>().notNull(),
    feature_importances: jsonb('feature_importances').$type<Record<string, number>>().notNull(),
    dataset_id: text('dataset_id').notNull(),
    dataset_hash: text('dataset_hash').notNull(),
    feature_names: jsonb('feature_names').$type<string[]>().notNull(),
    class_names: jsonb('class_names').$type<string[]>().notNull(),
    seed: integer('seed').notNull(),
    training_ms: integer('training_ms').notNull(),
    library_version: text('library_version').notNull(),
    job_id: text('job_id'),
    /** The fitted estimator's toJSON(). */
    artifact: jsonb('artifact').notNull(),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [uniqueIndex('ml_model_versions_model_version_idx').on(t.model_id, t.version)],
);
