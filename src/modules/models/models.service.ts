// Use cases of seed 003: train (inline for tiny grids, on a worker thread otherwise; synchronous as
// the seed, or as a job), predict from the active model or a named version (models load lazily
// into a bounded cache), status, the registry (versions, activate, delete, compare) and datasets.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { LRUCache } from 'lru-cache';
import { actsForAnyone, isAdmin, ownScope, type Principal } from '../../platform/access.ts';
import { AppError, truncate, withMlErrors, type ErrorCode } from '../../platform/errors.ts';
import type { Clock } from '../../platform/time.ts';
import type { Facts } from '../../platform/jobs/facts.ts';
import type { JobContext, Tx } from '../../platform/jobs/jobs.ts';
import { RandomForestClassifier } from '../../ml/forest.ts';
import { fromRows } from '../../ml/matrix.ts';
import { GridSearchCV } from '../../ml/model-selection.ts';
import type { ScorerName } from '../../ml/metrics.ts';
import { DecisionTreeClassifier } from '../../ml/tree.ts';
import {
  ALGORITHMS,
  algorithmOf,
  buildDataset,
  checkCv,
  classCounts,
  contentHash,
  DEFAULT_CV,
  DEFAULT_DATASET,
  gridOf,
  parseCsv,
  parseVersionRefs,
  predictionRows,
  type Algorithm,
  type ParsedDataset,
} from './models.domain.ts';
import type { DatasetMeta, DatasetRow, ModelRow, ModelsRepository, VersionMeta } from './models.repository.ts';
import type { PredictBody, TrainBody } from './models.schemas.ts';
import { runTraining, type TrainingInput, type TrainingOutput } from './training.ts';
import { INLINE_UPLOAD_BYTES, parseUpload, type DatasetUpload, type ParsedUpload } from './dataset-upload.ts';
import type { TrainingPool } from './training-pool.ts';

export const TRAIN_QUEUE = 'models.train';
/** Facts for seed 002's algos table (consumed by the resources module). */
export const VERSION_CREATED = 'model.version.created';
export const VERSIONS_REMOVED = 'model.versions.removed';

/** Work is counted in iris-sized rows: rows × (features / 4). */
const IRIS_FEATURES = 4;
/** Work units (rows × features/4 × candidates × folds × trees) below which a training runs inline (a few ms). */
const INLINE_WORK = 20_000;
/** Above this, the grid search inside the training thread also spreads over ML_THREADS threads. */
const PARALLEL_WORK = 3_000_000;
/** Rows × trees of a prediction above which it runs on a worker thread. */
const PREDICT_INLINE_WORK = 50_000;
const COMPARE_MAX = 10;
/** Work units one training may plan (about a few minutes of fits on this machine kind). */
const MAX_WORK = 1_000_000_000;
/** The largest fitted model the registry stores (as JSON). */
const MODEL_MAX_BYTES = 64 * 1024 * 1024;

export const BUILTIN_DATASETS: { id: string; file: string; label: string; classNames: string[]; name: string }[] = [
  { id: 'iris', file: 'iris.csv', label: 'species', classNames: ['setosa', 'versicolor', 'virginica'], name: 'Iris (Fisher, 1936): 150 flowers, 4 measurements, 3 species' },
  { id: 'wine', file: 'wine.csv', label: 'cultivar', classNames: ['class_0', 'class_1', 'class_2'], name: 'Wine (UCI): 178 wines, 13 chemical measurements, 3 cultivars' },
  { id: 'breast_cancer', file: 'breast_cancer.csv', label: 'diagnosis', classNames: ['malignant', 'benign'], name: 'Breast cancer Wisconsin (UCI): 569 tumours, 30 features, 2 diagnoses' },
];

export interface ModelsServiceDeps {
  repo: ModelsRepository;
  facts: Pick<Facts, 'publish'>;
  jobs: { enqueue(queue: string, data: object, opts: { owner?: string | null }): Promise<string | null> };
  /** Warm worker threads for trainings (training-pool.ts). */
  trainingPool: Pick<TrainingPool, 'run'>;
  /** Runs a module's default export on a worker thread (platform/jobs/threads.ts runOnThread). */
  runThread(module: URL, data: unknown, opts: { signal: AbortSignal; progress(percent: number, note?: string): void; move?: ArrayBufferView[] }): Promise<unknown>;
  clock: Clock;
  datasetsDir: URL;
  libraryVersion: string;
  config: {
    /** Synchronous /train gives up after this long (jobs have their queue's timeout). */
    trainTimeoutMs: number;
    /** Fitted models kept in memory per process. */
    cacheSize: number;
    /** Bytes of datasets' rows kept in memory per process for later trainings. */
    datasetCacheBytes: number;
    predictMaxRows: number;
    /** How long a process trusts its view of which version is active (other processes' activations). */
    activeRefreshMs: number;
    /** ML_THREADS (null = every core): threads a large grid search may use. */
    mlThreads: number | null;
  };
}

interface Prepared {
  algorithm: Algorithm;
  name: string;
  owner: string;
  grid: Record<string, unknown[]>;
  datasetId: string;
  input: TrainingInput;
  datasetHash: string;
  featureNames: string[];
  classNames: string[];
  /** Tiny trainings (a few ms) run inline; others on a worker thread of their own. */
  inline: boolean;
}

/** What a training job carries: the request as given and who asked (never data or secrets). */
export interface TrainJobData {
  body: Omit<TrainBody, 'async'>;
  owner: string;
  actsForAnyone: boolean;
}

interface Loaded {
  key: string;
  model_id: number;
  version: number;
  algorithm: string;
  featureNames: string[];
  classNames: string[];
  artifact: unknown;
  estimator: { predictProba(x: ReturnType<typeof fromRows>): ReturnType<typeof fromRows>; nEstimators?: number };
  trees: number;
}

/**
 * At most `n` worker-thread tasks at once per process (trainings, large predictions and uploads);
 * the others wait their turn, so a burst of requests cannot start a thread each.
 */
export function createLimiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter.
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());
const ownerOf = (p: Principal) => (p.kind === 'service' ? '' : p.externalId);

export function createModelsService(deps: ModelsServiceDeps) {
  const { repo, config } = deps;
  /** Fitted models, least recently used evicted. */
  const models = new LRUCache<string, Loaded>({ max: config.cacheSize });
  /**
   * Datasets' rows as training threads take them (arrays over SharedArrayBuffers, never written to),
   * kept after an upload or a read up to `datasetCacheBytes`, least recently used evicted: a training
   * on a dataset this process has seen reads none of its parts again. (With 0, no entry fits in the
   * one byte the cache needs at least.)
   */
  const datasets = new LRUCache<string, DatasetRow>({ maxSize: Math.max(1, config.datasetCacheBytes), sizeCalculation: (d) => d.x.byteLength + d.y.byteLength + 1 });
  const limit = createLimiter(Math.max(1, config.mlThreads ?? availableParallelism()));
  // The active model is a caller's own: the newest trained or activated version of the models they
  // own (the seed's one global model, per owner), so one user's training never replaces what another's
  // /predict answers with, and no one is answered by a model trained on someone else's private data.
  // Admins and services, who act for anyone, get the newest of all. Kept per scope for
  // MODELS_ACTIVE_REFRESH_MS (other processes' changes are seen within it).
  const ANYONE = '\u0000anyone';
  const active = new Map<string, { ref: { model_id: number; version: number } | null; at: number }>();
  const scopeOf = (p: Principal) => (ownScope(p) === null ? ANYONE : ownerOf(p));

  const noteActive = (ref: { model_id: number; version: number } | null, owner: string) => {
    const at = deps.clock.now().getTime();
    if (active.size > 10_000) active.clear();
    active.set(owner, { ref, at });
    if (ref) active.set(ANYONE, { ref, at });
  };

  async function activeRef(p: Principal): Promise<{ model_id: number; version: number } | null> {
    const scope = scopeOf(p);
    const now = deps.clock.now().getTime();
    const hit = active.get(scope);
    if (hit && now - hit.at < config.activeRefreshMs) return hit.ref;
    const ref = await repo.activeRef(scope === ANYONE ? null : scope);
    active.set(scope, { ref, at: now });
    return ref;
  }

  async function load(modelId: number, version: number): Promise<Loaded> {
    const key = `${modelId}:${version}`;
    const hit = models.get(key);
    if (hit) return hit;
    const row = await repo.findArtifact(modelId, version);
    if (!row) throw new AppError('NOT_FOUND', `model ${modelId} version ${version} not found`);
    const estimator = row.algorithm === 'random_forest' ? RandomForestClassifier.fromJSON(row.artifact) : DecisionTreeClassifier.fromJSON(row.artifact);
    const loaded: Loaded = {
      key,
      model_id: modelId,
      version,
      algorithm: row.algorithm,
      featureNames: row.feature_names,
      classNames: row.class_names,
      artifact: row.artifact,
      estimator,
      trees: estimator instanceof RandomForestClassifier ? (estimator.trees?.length ?? 1) : 1,
    };
    models.set(key, loaded);
    return loaded;
  }

  /**
   * A dataset the caller may use: a shipped one, their own, or any when they act for anyone. Its rows
   * come from the dataset cache when they are there; an uploaded one's row is read each time all the
   * same, since another process may have deleted it (a shipped one is never deleted).
   */
  async function usableDataset(id: string, owner: string, anyone: boolean): Promise<DatasetRow> {
    const cached = datasets.get(id);
    if (cached?.owner === null) return cached;
    const meta = await repo.findDatasetMeta(id);
    const notFound = () => new AppError('NOT_FOUND', `dataset ${JSON.stringify(truncate(id))} not found`);
    if (!meta) {
      datasets.delete(id);
      throw notFound();
    }
    if (meta.owner !== null && !anyone && meta.owner !== owner) throw notFound();
    if (cached) return cached;
    const d = await repo.readRows(meta);
    if (!d) throw notFound();
    datasets.set(id, d);
    return d;
  }

  async function prepare(body: Omit<TrainBody, 'async'>, owner: string, anyone: boolean): Promise<Prepared> {
    const { algorithm, kind } = algorithmOf(body.algorithm);
    if (body.params != null && body.param_grid != null) throw new AppError('VALIDATION_ERROR', 'give the grid as params or as param_grid, not both');
    const cv = body.cv ?? DEFAULT_CV;
    const grid = gridOf(algorithm, body.params ?? body.param_grid ?? undefined, cv);
    const d = await usableDataset(body.dataset ?? DEFAULT_DATASET, owner, anyone);
    checkCv(cv, classCounts(d.y, d.class_names.length), d.class_names);
    const scoring = (body.scoring ?? 'accuracy') as ScorerName;
    const seed = body.seed ?? 0;
    // The estimators check every candidate's names and values now (422 naming the parameter).
    const search = await withMlErrors(() => new GridSearchCV({ estimator: { kind, params: { seed } }, paramGrid: grid, cv, scoring, nJobs: 1 }));
    const trees = algorithm === 'random_forest' ? (search.candidates.reduce((a, c) => a + (Number(c.n_estimators ?? c.nEstimators ?? 100) || 100), 0) / search.candidates.length) : 1;
    // A split search scans every feature: the cost grows with them as with rows (iris has 4).
    const work = d.n_rows * (d.feature_names.length / IRIS_FEATURES) * search.candidates.length * cv * trees;
    if (work > MAX_WORK) {
      throw new AppError('UNPROCESSABLE', `this training would take about ${work.toExponential(1)} units of work (rows × features/4 × candidates × folds × trees); at most ${MAX_WORK.toExponential(0)}: use fewer candidates, folds, trees or features`);
    }
    const inline = work <= INLINE_WORK;
    const nJobs = inline || work < PARALLEL_WORK ? 1 : Math.max(1, config.mlThreads ?? 2);
    return {
      algorithm,
      name: body.name ?? algorithm,
      owner,
      grid,
      datasetId: d.id,
      datasetHash: d.content_hash,
      featureNames: d.feature_names,
      classNames: d.class_names,
      inline,
      input: { kind, grid, x: d.x, nFeatures: d.feature_names.length, y: d.y, nClasses: d.class_names.length, cv, scoring, seed, nJobs: inline ? 1 : nJobs },
    };
  }

  async function execute(p: Prepared, signal: AbortSignal, progress: (percent: number, note?: string) => void): Promise<TrainingOutput> {
    const i = p.input;
    if (p.inline) {
      return withMlErrors(() =>
        runTraining(i, {
          signal,
          onFits: (done, planned) => progress((100 * done) / planned, `fits ${done}/${planned}`),
        }),
      );
    }
    const out = await limit(() => deps.trainingPool.run(i, { signal, progress }));
    // What src/ml refused on the thread (names do not cross it) is the client's 422, as inline.
    if ('mlError' in out) throw new AppError('UNPROCESSABLE', out.mlError);
    return out;
  }

  async function store(p: Prepared, out: TrainingOutput, jobId: string | null) {
    if (out.artifact_bytes > MODEL_MAX_BYTES) {
      throw new AppError('UNPROCESSABLE', `the fitted model is ${(out.artifact_bytes / 1048576).toFixed(0)} MB as JSON; the registry keeps at most ${MODEL_MAX_BYTES / 1048576} MB: use fewer trees or a max_depth`);
    }
    const ref = await repo.createVersion(
      { owner: p.owner, name: p.name, algorithm: p.algorithm },
      {
        algorithm: p.algorithm,
        param_grid: p.grid,
        best_params: out.best_params,
        best_score: out.best_score,
        scoring: p.input.scoring,
        cv: p.input.cv,
        cv_results: out.cv_results,
        training_accuracy: out.training_accuracy,
        metrics: out.metrics,
        feature_importances: Object.fromEntries(p.featureNames.map((f, k) => [f, out.feature_importances[k]])),
        dataset_id: p.datasetId,
        dataset_hash: p.datasetHash,
        feature_names: p.featureNames,
        class_names: p.classNames,
        seed: p.input.seed,
        training_ms: out.training_ms,
        library_version: deps.libraryVersion,
        job_id: jobId,
        artifact: out.artifact,
      },
      (tx: Tx, r) =>
        deps.facts.publish(
          VERSION_CREATED,
          { algo_id: `model-${r.model_id}-v${r.version}`, version: String(r.version), location: `/api/v1/models/${r.model_id}/versions/${r.version}`, recording_type: null, model_id: r.model_id },
          { tx },
        ),
    );
    noteActive({ model_id: ref.model_id, version: ref.version }, p.owner);
    return ref;
  }

  const modelOut = (m: ModelRow, versions?: number) => ({
    id: m.id,
    name: m.name,
    owner_user_id: m.owner === '' ? null : m.owner,
    algorithm: m.algorithm,
    active_version: m.active_version,
    activated_at: iso(m.activated_at),
    ...(versions !== undefined ? { versions } : {}),
    created_at: m.created_at.toISOString(),
    updated_at: m.updated_at.toISOString(),
  });

  // jsonb keeps no key order: importances go out in the dataset's feature order.
  const importances = (v: VersionMeta) => Object.fromEntries(v.feature_names.map((f) => [f, v.feature_importances[f]]));
  const versionOut = (v: VersionMeta) => ({ ...v, feature_importances: importances(v), created_at: v.created_at.toISOString() });

  const datasetOut = (d: DatasetMeta) => ({
    id: d.id,
    name: d.name,
    owner_user_id: d.owner,
    builtin: d.owner === null,
    label_column: d.label_column,
    feature_names: d.feature_names,
    feature_types: d.feature_names.map(() => 'number' as const),
    class_names: d.class_names,
    n_rows: d.n_rows,
    n_features: d.feature_names.length,
    content_hash: d.content_hash,
    created_at: d.created_at.toISOString(),
  });

  async function ownedModel(id: number, principal: Principal, what: string): Promise<ModelRow> {
    const m = await repo.findModel(id);
    if (!m) throw new AppError('NOT_FOUND', `model ${id} not found`);
    if (!actsForAnyone(principal) && !(principal.kind !== 'service' && m.owner === principal.externalId)) {
      throw new AppError('FORBIDDEN', `only the model's owner or an admin may ${what} model ${id}`);
    }
    return m;
  }

  /** A parsed table's description as ml_datasets stores it (its rows go to ml_dataset_parts). */
  const datasetRow = (id: string, name: string, owner: string | null, d: ParsedDataset, hash: string) => ({
    id,
    name,
    owner,
    label_column: d.labelColumn,
    feature_names: d.featureNames,
    class_names: d.classNames,
    n_rows: d.y.length,
    content_hash: hash,
  });

  /** Checks an upload (on a worker thread unless small) and stores it. */
  async function saveDataset(upload: DatasetUpload, owner: string | null, id: string) {
    let parsed: ParsedUpload;
    if (upload.chunks.reduce((n, c) => n + c.byteLength, 0) <= INLINE_UPLOAD_BYTES) parsed = parseUpload(upload);
    else {
      const out = (await limit(() =>
        deps.runThread(new URL('./dataset-thread.ts', import.meta.url), upload, { signal: AbortSignal.timeout(config.trainTimeoutMs), progress: () => {}, move: upload.chunks }),
      )) as { ok: ParsedUpload } | { error: { code: ErrorCode; message: string } };
      if ('error' in out) throw new AppError(out.error.code, out.error.message);
      parsed = out.ok;
    }
    const meta = await repo.createDataset(datasetRow(id, parsed.name, owner, parsed, parsed.hash), parsed);
    // Stored, so its arrays are as parsed again (storing swaps their bytes in place for a moment):
    // over SharedArrayBuffers (parseUpload), ready for a training thread.
    datasets.set(id, { ...meta, x: parsed.x, y: parsed.y });
    return datasetOut(meta);
  }

  return {
    /** Stores the shipped datasets (once per database; every process may try). */
    async init(): Promise<void> {
      for (const b of BUILTIN_DATASETS) {
        if (await repo.findDatasetMeta(b.id)) continue;
        const rows = parseCsv(readFileSync(new URL(b.file, deps.datasetsDir), 'utf8'));
        const parsed = buildDataset({ columns: rows[0], rows: rows.slice(1), label: rows[0][rows[0].length - 1], minClassRows: 2 });
        // The CSVs hold classes as 0..k-1: their names come from the table above.
        parsed.classNames = parsed.classNames.map((c) => b.classNames[Number(c)]);
        parsed.labelColumn = b.label;
        await repo.ensureDataset(datasetRow(b.id, b.name, null, parsed, contentHash(parsed)), parsed);
      }
    },

    /** POST /train: synchronous (the seed) or, with async, a job (202 with its id). */
    async train(body: TrainBody, principal: Principal, asyncQuery: boolean | undefined) {
      const { async: asyncBody, ...request } = body;
      const owner = ownerOf(principal);
      const p = await prepare(request, owner, actsForAnyone(principal));
      if (asyncBody ?? asyncQuery ?? false) {
        const data: TrainJobData = { body: request, owner, actsForAnyone: actsForAnyone(principal) };
        const id = (await deps.jobs.enqueue(TRAIN_QUEUE, data, { owner: principal.kind === 'service' ? null : principal.externalId }))!;
        return { accepted: true as const, answer: { message: 'Training started', job_id: id, status_url: `/api/v1/jobs/${id}`, state: 'created' } };
      }
      const signal = AbortSignal.timeout(config.trainTimeoutMs);
      let out: TrainingOutput;
      try {
        out = await execute(p, signal, () => {});
      } catch (err) {
        if (signal.aborted) throw new AppError('UNPROCESSABLE', `training took longer than ${Math.round(config.trainTimeoutMs / 1000)} s (MODELS_TRAIN_TIMEOUT_S); use a smaller grid or "async": true`);
        throw err;
      }
      const ref = await store(p, out, null);
      return {
        accepted: false as const,
        answer: {
          message: `Model trained successfully with ${p.algorithm}`,
          best_params: out.best_params,
          best_score: out.best_score,
          model_id: ref.model_id,
          version: ref.version,
          training_accuracy: out.training_accuracy,
          dataset: p.datasetId,
          metrics: out.metrics,
          cv_results: out.cv_results,
        },
      };
    },

    /** The models.train job: the same training on a thread, progress as fits done of fits planned. */
    async runTrainJob(job: JobContext<TrainJobData>) {
      const p = await prepare(job.data.body, job.data.owner, job.data.actsForAnyone);
      const out = await execute(p, job.signal, job.report);
      // A job cancelled (or timed out) after its last fit leaves no version.
      job.signal.throwIfAborted();
      const ref = await store(p, out, job.id);
      return { model_id: ref.model_id, version: ref.version, best_params: out.best_params, best_score: out.best_score, training_accuracy: out.training_accuracy };
    },

    /** POST /predict: from the active model, or from model_id (its active version) / version. */
    async predict(body: PredictBody, principal: Principal) {
      let ref: { model_id: number; version: number } | null;
      if (body.model_id !== undefined) {
        if (body.version !== undefined) ref = { model_id: body.model_id, version: body.version };
        else {
          const m = await repo.findModel(body.model_id);
          if (!m) throw new AppError('NOT_FOUND', `model ${body.model_id} not found`);
          if (m.active_version === null) throw new AppError('CONFLICT', `model ${body.model_id} has no active version`);
          ref = { model_id: m.id, version: m.active_version };
        }
      } else {
        if (body.version !== undefined) throw new AppError('VALIDATION_ERROR', 'version needs model_id');
        ref = await activeRef(principal);
        if (!ref) throw new AppError('CONFLICT', 'no model has been trained yet: POST /train first');
      }
      const model = await load(ref.model_id, ref.version);
      const { rows, batch } = predictionRows(body.input, model.featureNames, config.predictMaxRows);
      let proba: { data: ArrayLike<number>; cols: number };
      if (rows.length * model.trees > PREDICT_INLINE_WORK) {
        const out = (await limit(() =>
          deps.runThread(new URL('./predict-thread.ts', import.meta.url), { algorithm: model.algorithm, artifact: model.artifact, rows }, { signal: AbortSignal.timeout(60_000), progress: () => {} }),
        )) as { proba: number[]; cols: number };
        proba = { data: out.proba, cols: out.cols };
      } else proba = model.estimator.predictProba(fromRows(rows));
      const answers = rows.map((_, r) => {
        let best = 0;
        // Class names are data (an uploaded label could be "__proto__"): own properties, always.
        const probabilities: Record<string, number> = {};
        for (let c = 0; c < proba.cols; c++) {
          const v = proba.data[r * proba.cols + c];
          Object.defineProperty(probabilities, model.classNames[c], { value: v, enumerable: true, writable: true, configurable: true });
          if (v > proba.data[r * proba.cols + best]) best = c;
        }
        return { prediction: best, class_name: model.classNames[best], probabilities, model_id: model.model_id, version: model.version };
      });
      return batch ? answers : answers[0];
    },

    /** GET /status: the seed's four fields, plus the version, cv score, dataset and time. */
    async status(principal: Principal) {
      const ref = await activeRef(principal);
      const v = ref ? await repo.findVersion(ref.model_id, ref.version) : null;
      if (!v) {
        return { is_trained: false, model_algorithm: null, best_params: null, training_accuracy: null, best_score: null, model_id: null, version: null, dataset: null, scoring: null, trained_at: null };
      }
      return {
        is_trained: true,
        model_algorithm: v.algorithm,
        best_params: v.best_params as Record<string, unknown>,
        training_accuracy: v.training_accuracy,
        best_score: v.best_score,
        model_id: v.model_id,
        version: v.version,
        dataset: v.dataset_id,
        scoring: v.scoring,
        trained_at: v.created_at.toISOString(),
      };
    },

    async listModels(q: { page: number; size: number; mine?: boolean; algorithm?: string }, principal: Principal) {
      const owner = q.mine ? ownerOf(principal) : undefined;
      const { rows, total } = await repo.listModels({ page: q.page, size: q.size, owner, algorithm: q.algorithm });
      const counts = await repo.versionCounts(rows.map((r) => r.id));
      return { rows: rows.map((m) => modelOut(m, counts.get(m.id) ?? 0)), total };
    },

    async getModel(id: number) {
      const m = await repo.findModel(id);
      if (!m) throw new AppError('NOT_FOUND', `model ${id} not found`);
      const counts = await repo.versionCounts([id]);
      const activeVersion = m.active_version === null ? null : await repo.findVersion(id, m.active_version);
      return { ...modelOut(m, counts.get(id) ?? 0), active: activeVersion ? versionOut(activeVersion) : null };
    },

    async listVersions(id: number, q: { page: number; size: number }) {
      if (!(await repo.findModel(id))) throw new AppError('NOT_FOUND', `model ${id} not found`);
      const { rows, total } = await repo.listVersions(id, q);
      return { rows: rows.map(versionOut), total };
    },

    async getVersion(id: number, version: number) {
      const v = await repo.findVersion(id, version);
      if (!v) throw new AppError('NOT_FOUND', `model ${id} version ${version} not found`);
      return versionOut(v);
    },

    /** Makes a version the model's active one (rollback); it becomes the model /predict uses. */
    async activate(id: number, version: number, principal: Principal) {
      const m = await ownedModel(id, principal, 'activate a version of');
      if (!(await repo.activate(id, version))) throw new AppError('NOT_FOUND', `model ${id} version ${version} not found`);
      noteActive({ model_id: id, version }, m.owner);
      return this.getModel(id);
    },

    async deleteModel(id: number, principal: Principal) {
      await ownedModel(id, principal, 'delete');
      const deleted = await repo.deleteModel(id, (tx, versions) =>
        deps.facts.publish(VERSIONS_REMOVED, { algo_ids: versions.map((v) => `model-${id}-v${v}`) }, { tx }),
      );
      if (!deleted) throw new AppError('NOT_FOUND', `model ${id} not found`);
      for (const key of [...models.keys()]) if (key.startsWith(`${id}:`)) models.delete(key);
      active.clear();
    },

    /** Versions side by side: parameters, scores, held-out metrics, dataset, time. */
    async compare(ids: string) {
      const refs = parseVersionRefs(ids, COMPARE_MAX);
      const versions = await Promise.all(
        refs.map(async (r) => {
          const v = await repo.findVersion(r.modelId, r.version);
          if (!v) throw new AppError('NOT_FOUND', `model ${r.modelId} version ${r.version} not found`);
          const metrics = v.metrics as { accuracy: number; f1_macro: number; confusion_matrix: number[][] };
          return {
            model_id: v.model_id,
            version: v.version,
            algorithm: v.algorithm,
            best_params: v.best_params as Record<string, unknown>,
            best_score: v.best_score,
            scoring: v.scoring,
            cv: v.cv,
            training_accuracy: v.training_accuracy,
            heldout_accuracy: metrics.accuracy,
            heldout_f1_macro: metrics.f1_macro,
            confusion_matrix: metrics.confusion_matrix,
            feature_importances: importances(v),
            dataset_id: v.dataset_id,
            dataset_hash: v.dataset_hash,
            training_ms: v.training_ms,
            created_at: v.created_at.toISOString(),
          };
        }),
      );
      const best = versions.reduce((b, v, i) => (v.heldout_accuracy > versions[b].heldout_accuracy ? i : b), 0);
      return { versions, best: { model_id: versions[best].model_id, version: versions[best].version, by: 'heldout_accuracy' } };
    },

    async listDatasets(q: { page: number; size: number }, principal: Principal) {
      const { rows, total } = await repo.listDatasets(ownScope(principal) === null ? null : ownerOf(principal), q);
      return { rows: rows.map(datasetOut), total };
    },

    async getDataset(id: string, principal: Principal) {
      const d = await repo.findDatasetMeta(id);
      if (!d || (d.owner !== null && !actsForAnyone(principal) && d.owner !== ownerOf(principal))) throw new AppError('NOT_FOUND', `dataset ${JSON.stringify(truncate(id))} not found`);
      return datasetOut(d);
    },

    /** POST /api/v1/datasets: the body as it arrived (CSV or JSON bytes, in chunks), checked where it is parsed. */
    async createDataset(format: 'csv' | 'json', chunks: Uint8Array[], query: { name?: string; label?: string; cv?: number }, principal: Principal, id: string) {
      return saveDataset({ format, chunks, query }, ownerOf(principal), id);
    },

    async deleteDataset(id: string, principal: Principal) {
      const d = await repo.findDatasetMeta(id);
      if (!d || (d.owner !== null && !actsForAnyone(principal) && d.owner !== ownerOf(principal))) throw new AppError('NOT_FOUND', `dataset ${JSON.stringify(truncate(id))} not found`);
      if (d.owner === null && !isAdmin(principal)) throw new AppError('FORBIDDEN', `dataset ${id} ships with the server; only an admin may delete it`);
      if (d.owner === null) throw new AppError('CONFLICT', `dataset ${id} ships with the server and is stored again at every start; it cannot be deleted`);
      await repo.deleteDataset(id);
      datasets.delete(id);
    },

    algorithms: () => Object.entries(ALGORITHMS).map(([name, a]) => ({ name, estimator: a.kind, default_grid: a.defaultGrid })),
  };
}

export type ModelsService = ReturnType<typeof createModelsService>;
