// Queries of the models module: datasets, models and their versions. Versions are numbered per model
// under the model row's lock, so concurrent trainings of one model never take the same number.
import { and, asc, count, desc, eq, inArray, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../platform/db.ts';
import type { Tx } from '../../platform/jobs/jobs.ts';
import { offsetOf, type PageQuery } from '../../platform/pagination.ts';
import { fromNetworkOrder, inNetworkOrder, mlDatasetParts, mlDatasets, mlModels, mlModelVersions } from './models.tables.ts';

/** A dataset's rows: features row-major (rows × features) and class indices. */
export interface DatasetData {
  x: Float64Array;
  y: Int32Array;
}
export type DatasetRow = DatasetMeta & DatasetData;
export type DatasetInsert = typeof mlDatasets.$inferInsert;
export type ModelRow = typeof mlModels.$inferSelect;
export type VersionRow = typeof mlModelVersions.$inferSelect;
export type VersionInsert = Omit<typeof mlModelVersions.$inferInsert, 'model_id' | 'version' | 'id'>;

const datasetMeta = {
  id: mlDatasets.id,
  name: mlDatasets.name,
  owner: mlDatasets.owner,
  label_column: mlDatasets.label_column,
  feature_names: mlDatasets.feature_names,
  class_names: mlDatasets.class_names,
  n_rows: mlDatasets.n_rows,
  content_hash: mlDatasets.content_hash,
  created_at: mlDatasets.created_at,
};
export type DatasetMeta = Omit<typeof mlDatasets.$inferSelect, 'updated_at'>;

/**
 * Features per stored part, in bytes. A statement carries one part, and each part's answer arrives as
 * I/O (a socket, or the embedded database's thread), so the event loop turns between parts and a
 * 10 MB dataset never holds it for more than one part's work (postgres.js writes a bytea parameter as
 * hex text on this thread; the embedded database's thread takes the bytes as they are). 32 KB parts
 * halved the time the loop spent in gaps over 8 ms during an upload, against 256 KB (bench/uploads.ts,
 * docs/models.md).
 */
const PART_BYTES = 32 * 1024;

/** Every column of a version but the fitted model (which can be large). */
const versionMetaColumns = {
    id: mlModelVersions.id,
    model_id: mlModelVersions.model_id,
    version: mlModelVersions.version,
    algorithm: mlModelVersions.algorithm,
    param_grid: mlModelVersions.param_grid,
    best_params: mlModelVersions.best_params,
    best_score: mlModelVersions.best_score,
    scoring: mlModelVersions.scoring,
    cv: mlModelVersions.cv,
    cv_results: mlModelVersions.cv_results,
    training_accuracy: mlModelVersions.training_accuracy,
    metrics: mlModelVersions.metrics,
    feature_importances: mlModelVersions.feature_importances,
    dataset_id: mlModelVersions.dataset_id,
    dataset_hash: mlModelVersions.dataset_hash,
    feature_names: mlModelVersions.feature_names,
    class_names: mlModelVersions.class_names,
    seed: mlModelVersions.seed,
    training_ms: mlModelVersions.training_ms,
    library_version: mlModelVersions.library_version,
    job_id: mlModelVersions.job_id,
    created_at: mlModelVersions.created_at,
};
export type VersionMeta = Omit<VersionRow, 'artifact'>;

/** A dataset's rows as parts of at most PART_BYTES of features, one statement each. */
async function insertParts(tx: Tx, id: string, nFeatures: number, data: DatasetData): Promise<void> {
  const perPart = Math.max(1, Math.floor(PART_BYTES / (8 * nFeatures)));
  for (let start = 0, part = 0; start < data.y.length; start += perPart, part++) {
    const end = Math.min(data.y.length, start + perPart);
    // The statement is awaited inside: both drivers have read the bytes by the time it answers.
    await inNetworkOrder([data.x.subarray(start * nFeatures, end * nFeatures), data.y.subarray(start, end)], ([x, y]) =>
      tx.execute(sql`insert into ${mlDatasetParts} (dataset_id, part, x, y) values (${id}, ${part}, ${x}, ${y})`),
    );
  }
}

export function createModelsRepository(database: Database) {
  const db = database.db;
  /** Datasets a caller sees: the shipped ones and their own (everyone's when `owner` is null). */
  const visible = (owner: string | null): SQL | undefined => (owner === null ? undefined : or(isNull(mlDatasets.owner), eq(mlDatasets.owner, owner)));

  async function findDatasetMeta(id: string): Promise<DatasetMeta | null> {
    const [r] = await db.select(datasetMeta).from(mlDatasets).where(eq(mlDatasets.id, id));
    return r ?? null;
  }

  return {
    /** Stores a dataset unless one with its id exists (the shipped ones, at every start). */
    async ensureDataset(row: DatasetInsert, data: DatasetData): Promise<void> {
      await db.transaction(async (tx) => {
        const created = await tx.insert(mlDatasets).values(row).onConflictDoNothing().returning({ id: mlDatasets.id });
        if (created.length) await insertParts(tx, row.id, row.feature_names.length, data);
      });
    },

    async createDataset(row: DatasetInsert, data: DatasetData): Promise<DatasetMeta> {
      return db.transaction(async (tx) => {
        const [r] = await tx.insert(mlDatasets).values(row).returning(datasetMeta);
        await insertParts(tx, row.id, row.feature_names.length, data);
        return r;
      });
    },

    /**
     * A dataset's rows, read part by part into arrays over SharedArrayBuffers: a training thread is
     * handed them without a copy (posting 80,000 × 10 features copied 6.4 MB on the event loop,
     * ~3 ms). The service keeps datasets' arrays for later trainings, shared with every thread that
     * trains on them: nothing may write to them, not even for a moment (as `inNetworkOrder` does to
     * the arrays it stores). Null when the dataset was deleted while its parts were being read.
     */
    async readRows(meta: DatasetMeta): Promise<DatasetRow | null> {
      const { id } = meta;
      const p = meta.feature_names.length;
      const x = new Float64Array(new SharedArrayBuffer(meta.n_rows * p * Float64Array.BYTES_PER_ELEMENT));
      const y = new Int32Array(new SharedArrayBuffer(meta.n_rows * Int32Array.BYTES_PER_ELEMENT));
      let rows = 0;
      for (let part = 0; ; part++) {
        const [r] = await db.select({ x: mlDatasetParts.x, y: mlDatasetParts.y }).from(mlDatasetParts).where(and(eq(mlDatasetParts.dataset_id, id), eq(mlDatasetParts.part, part)));
        if (!r) break;
        const n = r.y.byteLength / Int32Array.BYTES_PER_ELEMENT;
        if (!Number.isInteger(n) || r.x.byteLength !== n * p * Float64Array.BYTES_PER_ELEMENT || rows + n > meta.n_rows) {
          throw new Error(`dataset ${id}: part ${part} does not fit its ${meta.n_rows} rows of ${p} features`);
        }
        fromNetworkOrder(r.x, x, rows * p);
        fromNetworkOrder(r.y, y, rows);
        rows += n;
      }
      if (rows !== meta.n_rows) {
        // Deleted while its parts were being read: as if it had not been found.
        if (!(await findDatasetMeta(id))) return null;
        throw new Error(`dataset ${id}: its parts hold ${rows} rows, not ${meta.n_rows}`);
      }
      return { ...meta, x, y };
    },

    findDatasetMeta,

    async listDatasets(owner: string | null, q: PageQuery): Promise<{ rows: DatasetMeta[]; total: number }> {
      const where = visible(owner);
      const [rows, [{ n }]] = await Promise.all([
        db.select(datasetMeta).from(mlDatasets).where(where).orderBy(asc(mlDatasets.created_at), asc(mlDatasets.id)).limit(q.size).offset(offsetOf(q)),
        db.select({ n: count() }).from(mlDatasets).where(where),
      ]);
      return { rows, total: Number(n) };
    },

    async deleteDataset(id: string): Promise<boolean> {
      return (await db.delete(mlDatasets).where(eq(mlDatasets.id, id)).returning({ id: mlDatasets.id })).length > 0;
    },

    /**
     * Adds a version to the model (owner, name), creating the model, and makes it active; `publish`
     * runs inside the same transaction (the fact exists exactly when the version does).
     */
    async createVersion(
      model: { owner: string; name: string; algorithm: string },
      version: VersionInsert,
      publish: (tx: Tx, ref: { model_id: number; version: number; version_id: number }) => Promise<void>,
    ): Promise<{ model_id: number; version: number; version_id: number; created_at: Date }> {
      return db.transaction(async (tx) => {
        // One upsert creates the model or takes its row lock, numbers the version and activates it.
        const [m] = await tx
          .insert(mlModels)
          .values({ ...model, last_version: 1, active_version: 1, activated_at: sql`clock_timestamp()` })
          .onConflictDoUpdate({
            target: [mlModels.owner, mlModels.name],
            set: {
              last_version: sql`${mlModels.last_version} + 1`,
              active_version: sql`${mlModels.last_version} + 1`,
              activated_at: sql`clock_timestamp()`,
              algorithm: model.algorithm,
              updated_at: sql`now()`,
            },
          })
          .returning({ id: mlModels.id, next: mlModels.last_version });
        const next = m.next;
        const [v] = await tx
          .insert(mlModelVersions)
          .values({ ...version, model_id: m.id, version: next })
          .returning({ id: mlModelVersions.id, created_at: mlModelVersions.created_at });
        const ref = { model_id: m.id, version: next, version_id: v.id };
        await publish(tx, ref);
        return { ...ref, created_at: v.created_at };
      });
    },

    async listModels(q: PageQuery & { owner?: string; algorithm?: string }): Promise<{ rows: ModelRow[]; total: number }> {
      const conds = [q.owner !== undefined ? eq(mlModels.owner, q.owner) : undefined, q.algorithm !== undefined ? eq(mlModels.algorithm, q.algorithm) : undefined].filter(Boolean) as SQL[];
      const where = conds.length ? and(...conds) : undefined;
      const [rows, [{ n }]] = await Promise.all([
        db.select().from(mlModels).where(where).orderBy(desc(mlModels.created_at), desc(mlModels.id)).limit(q.size).offset(offsetOf(q)),
        db.select({ n: count() }).from(mlModels).where(where),
      ]);
      return { rows, total: Number(n) };
    },

    async findModel(id: number): Promise<ModelRow | null> {
      const [r] = await db.select().from(mlModels).where(eq(mlModels.id, id));
      return r ?? null;
    },

    async versionCounts(ids: number[]): Promise<Map<number, number>> {
      if (!ids.length) return new Map();
      const rows = await db.select({ id: mlModelVersions.model_id, n: count() }).from(mlModelVersions).where(inArray(mlModelVersions.model_id, ids)).groupBy(mlModelVersions.model_id);
      return new Map(rows.map((r) => [r.id, Number(r.n)]));
    },

    async listVersions(modelId: number, q: PageQuery): Promise<{ rows: VersionMeta[]; total: number }> {
      const where = eq(mlModelVersions.model_id, modelId);
      const [rows, [{ n }]] = await Promise.all([
        db.select(versionMetaColumns).from(mlModelVersions).where(where).orderBy(desc(mlModelVersions.version)).limit(q.size).offset(offsetOf(q)),
        db.select({ n: count() }).from(mlModelVersions).where(where),
      ]);
      return { rows, total: Number(n) };
    },

    async findVersion(modelId: number, version: number): Promise<VersionMeta | null> {
      const [r] = await db.select(versionMetaColumns).from(mlModelVersions).where(and(eq(mlModelVersions.model_id, modelId), eq(mlModelVersions.version, version)));
      return r ?? null;
    },

    async findArtifact(modelId: number, version: number): Promise<VersionRow | null> {
      const [r] = await db.select().from(mlModelVersions).where(and(eq(mlModelVersions.model_id, modelId), eq(mlModelVersions.version, version)));
      return r ?? null;
    },

    /** The model /predict and /status use: the most recently activated version of the owner's models (null: anyone's). */
    async activeRef(owner: string | null): Promise<{ model_id: number; version: number } | null> {
      const [r] = await db
        .select({ model_id: mlModels.id, version: mlModels.active_version })
        .from(mlModels)
        .where(and(isNotNull(mlModels.active_version), owner === null ? undefined : eq(mlModels.owner, owner)))
        .orderBy(desc(mlModels.activated_at), desc(mlModels.id))
        .limit(1);
      return r ? { model_id: r.model_id, version: r.version! } : null;
    },

    async activate(modelId: number, version: number): Promise<boolean> {
      const res = await db
        .update(mlModels)
        .set({ active_version: version, activated_at: sql`clock_timestamp()`, updated_at: sql`now()` })
        .where(and(eq(mlModels.id, modelId), sql`exists (select 1 from ${mlModelVersions} where ${mlModelVersions.model_id} = ${modelId} and ${mlModelVersions.version} = ${version})`))
        .returning({ id: mlModels.id });
      return res.length > 0;
    },

    /** Deletes the model and its versions; `publish` runs in the same transaction with the versions removed. */
    async deleteModel(id: number, publish: (tx: Tx, versions: number[]) => Promise<void>): Promise<boolean> {
      return db.transaction(async (tx) => {
        const versions = await tx.select({ version: mlModelVersions.version }).from(mlModelVersions).where(eq(mlModelVersions.model_id, id));
        const res = await tx.delete(mlModels).where(eq(mlModels.id, id)).returning({ id: mlModels.id });
        if (!res.length) return false;
        await publish(
          tx,
          versions.map((v) => v.version),
        );
        return true;
      });
    },
  };
}

export type ModelsRepository = ReturnType<typeof createModelsRepository>;
