// The pure rules of seed 003's model registry: which algorithms and grids /train accepts (and their
// defaults), what a dataset must be to train (CSV or JSON rows), and how /predict's input becomes
// rows. No I/O: the service passes data in, these throw AppError naming the problem.
import { createHash } from 'node:crypto';
import { AppError, truncate } from '../../platform/errors.ts';
import type { EstimatorKind } from '../../ml/model-selection.ts';

export type Algorithm = 'decision_tree' | 'random_forest';

export const ALGORITHMS: Record<Algorithm, { kind: EstimatorKind; defaultGrid: Record<string, unknown[]> }> = {
  // The seed's two default grids (SEED-NOTES 003).
  decision_tree: { kind: 'DecisionTreeClassifier', defaultGrid: { max_depth: [2, 5, 7, 10], criterion: ['entropy', 'gini'] } },
  random_forest: { kind: 'RandomForestClassifier', defaultGrid: { n_estimators: [10, 50, 100], max_depth: [2, 5, 7, 10] } },
};
export const ALGORITHM_NAMES = Object.keys(ALGORITHMS) as Algorithm[];

export const DEFAULT_DATASET = 'iris';
export const DEFAULT_CV = 5;
export const MAX_CV = 20;
/** The most candidate parameter sets one grid may hold. */
export const MAX_CANDIDATES = 100;
/** The most values one grid parameter may list. */
export const MAX_VALUES_PER_PARAM = 20;
export const MAX_TREES = 1000;
/** Trees grown by one training (candidates × folds × trees): bounds the CPU one request can ask for. */
export const MAX_TREE_FITS = 50_000;
export const MAX_FEATURES = 1000;
export const MAX_CLASSES = 100;
export const MAX_NAME = 100;

export function algorithmOf(name: string): { algorithm: Algorithm; kind: EstimatorKind } {
  if (!Object.hasOwn(ALGORITHMS, name)) {
    throw new AppError('VALIDATION_ERROR', `unknown algorithm ${JSON.stringify(truncate(name))}; supported: ${ALGORITHM_NAMES.join(', ')}`);
  }
  return { algorithm: name as Algorithm, kind: ALGORITHMS[name as Algorithm].kind };
}

const SCALAR = (v: unknown) => v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';

/**
 * The grid /train searches: `params` (the README's name) or `param_grid` (the original code's),
 * each value a list or a single value (one candidate); the algorithm's default grid when neither is
 * given. Limits keep one request's work bounded; unknown names and invalid values are left to the
 * estimators (422 naming the parameter and its accepted values).
 */
export function gridOf(algorithm: Algorithm, given: Record<string, unknown> | undefined, cv: number): Record<string, unknown[]> {
  if (given === undefined || Object.keys(given).length === 0) return structuredClone(ALGORITHMS[algorithm].defaultGrid);
  const entries: [string, unknown[]][] = [];
  let candidates = 1;
  for (const [key, value] of Object.entries(given)) {
    const name = truncate(key);
    // src/ml's parameterGrid builds candidates by assignment, where "__proto__" would vanish silently.
    if (key === '__proto__') throw new AppError('UNPROCESSABLE', 'unknown parameter "__proto__"');
    if (key === 'n_jobs' || key === 'nJobs') throw new AppError('VALIDATION_ERROR', `params.${name}: the server chooses the threads (ML_THREADS); leave it out`);
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0) throw new AppError('VALIDATION_ERROR', `params.${name} must list at least one value`);
    if (values.length > MAX_VALUES_PER_PARAM) throw new AppError('VALIDATION_ERROR', `params.${name} lists ${values.length} values; at most ${MAX_VALUES_PER_PARAM}`);
    for (const v of values) if (!SCALAR(v)) throw new AppError('VALIDATION_ERROR', `params.${name}: each value must be a number, string, boolean or null, got ${truncate(JSON.stringify(v))}`);
    entries.push([key, values]);
    candidates *= values.length;
  }
  // Own properties whatever the key ("__proto__" included): the estimators then refuse unknown names.
  const grid = Object.fromEntries(entries);
  if (candidates > MAX_CANDIDATES) throw new AppError('VALIDATION_ERROR', `the grid has ${candidates} candidates; at most ${MAX_CANDIDATES}`);
  if (algorithm === 'random_forest') {
    const trees = grid.n_estimators ?? grid.nEstimators ?? [100];
    let total = 0;
    for (const t of trees) {
      if (typeof t === 'number' && t > MAX_TREES) throw new AppError('UNPROCESSABLE', `n_estimators must be at most ${MAX_TREES}, got ${t}`);
      total += typeof t === 'number' && Number.isFinite(t) ? t : 0;
    }
    const fits = (total * (candidates / trees.length)) * (cv + 1);
    if (fits > MAX_TREE_FITS) throw new AppError('UNPROCESSABLE', `the grid would grow ${fits} trees (n_estimators summed over candidates × (folds + 1)); at most ${MAX_TREE_FITS}`);
  }
  return grid;
}

export function checkCv(cv: number, classCounts: number[], classNames: string[]): void {
  for (let c = 0; c < classCounts.length; c++) {
    if (classCounts[c] < cv) {
      throw new AppError('UNPROCESSABLE', `class ${JSON.stringify(truncate(classNames[c]))} has ${classCounts[c]} rows, fewer than the ${cv} folds; use fewer folds (cv) or more rows`);
    }
  }
}

// ---- datasets ----

export interface ParsedDataset {
  featureNames: string[];
  labelColumn: string;
  classNames: string[];
  /** Features, row-major: rows × featureNames.length. */
  x: Float64Array;
  /** Class index of each row. */
  y: Int32Array;
}

/** A CSV (RFC 4180: quotes, doubled quotes, CRLF) as rows of fields. */
export function parseCsv(text: string): string[][] {
  // Without quotes a field cannot hold a comma or a newline: plain splits, several times faster.
  if (!text.includes('"')) {
    const out: string[][] = [];
    const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\n|\r/);
    for (const line of lines) if (line !== '') out.push(line.split(','));
    return out;
  }
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < src.length) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      row.push(field);
      field = '';
      if (!(row.length === 1 && row[0] === '')) rows.push(row);
      row = [];
      if (ch === '\r' && src[i + 1] === '\n') i++;
    } else field += ch;
    i++;
  }
  if (quoted) throw new AppError('VALIDATION_ERROR', 'CSV: a quoted field is not closed');
  row.push(field);
  if (!(row.length === 1 && row[0] === '')) rows.push(row);
  return rows;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal number written out (no hex, no "Infinity", no empty string), or NaN. */
function numberOf(text: string): number {
  const n = Number(text);
  // Number() also takes "", " ", "0x1f", "0b1", "0o7" and "Infinity": only plain decimals pass.
  if (Number.isNaN(n) || !Number.isFinite(n)) return NaN;
  return NUMBER.test(text.trim()) ? n : NaN;
}

/**
 * Rows (arrays with `columns`, or objects keyed by column) into a training table: the label column
 * (default the last), numeric finite features, classes named by their distinct label values
 * (numerically sorted when all are numbers). Refuses what cannot train, naming row and column.
 */
export function buildDataset(input: { columns: string[] | null; rows: unknown[]; label?: string; minClassRows: number }): ParsedDataset {
  const { rows } = input;
  if (rows.length === 0) throw new AppError('VALIDATION_ERROR', 'the dataset has no rows');
  let columns = input.columns;
  if (columns === null) {
    const first = rows[0];
    if (first === null || typeof first !== 'object' || Array.isArray(first)) throw new AppError('VALIDATION_ERROR', 'rows must be objects keyed by column name, or arrays with "columns" given');
    columns = Object.keys(first);
  }
  if (columns.length < 2) throw new AppError('VALIDATION_ERROR', `a dataset needs at least one feature column and a label column, got ${columns.length} column(s)`);
  if (columns.length > MAX_FEATURES + 1) throw new AppError('VALIDATION_ERROR', `a dataset has at most ${MAX_FEATURES} features, got ${columns.length - 1}`);
  const seen = new Set<string>();
  for (const c of columns) {
    if (typeof c !== 'string' || c.trim() === '' || c.length > MAX_NAME) throw new AppError('VALIDATION_ERROR', `column names must be non-empty strings of at most ${MAX_NAME} characters, got ${truncate(JSON.stringify(c))}`);
    if (seen.has(c)) throw new AppError('VALIDATION_ERROR', `column ${JSON.stringify(truncate(c))} appears twice`);
    seen.add(c);
  }
  const label = input.label ?? columns[columns.length - 1];
  const labelIndex = columns.indexOf(label);
  if (labelIndex < 0) throw new AppError('VALIDATION_ERROR', `label column ${JSON.stringify(truncate(label))} is not one of the columns: ${truncate(columns.join(', '), 300)}`);
  const featureNames = columns.filter((_, i) => i !== labelIndex);
  const x: number[] = [];
  const labels: string[] = [];
  for (let r = 0; r < rows.length; r++) {
    const raw = rows[r];
    let cells: unknown[];
    if (Array.isArray(raw)) {
      if (raw.length !== columns.length) throw new AppError('VALIDATION_ERROR', `row ${r + 1} has ${raw.length} fields, expected ${columns.length} (ragged rows)`);
      cells = raw;
    } else if (raw !== null && typeof raw === 'object') {
      const o = raw as Record<string, unknown>;
      for (const k of Object.keys(o)) if (!seen.has(k)) throw new AppError('VALIDATION_ERROR', `row ${r + 1} has column ${JSON.stringify(truncate(k))} that the first row lacks (ragged rows)`);
      cells = columns.map((c) => {
        if (!Object.hasOwn(o, c)) throw new AppError('VALIDATION_ERROR', `row ${r + 1} lacks column ${JSON.stringify(truncate(c))} (ragged rows)`);
        return o[c];
      });
    } else throw new AppError('VALIDATION_ERROR', `row ${r + 1} must be an array or an object`);
    for (let c = 0; c < cells.length; c++) {
      const v = cells[c];
      if (c === labelIndex) {
        if (v === null || v === '' || (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')) throw new AppError('VALIDATION_ERROR', `row ${r + 1}: the label ${JSON.stringify(label)} is missing or not a string/number`);
        labels.push(String(v).trim());
        continue;
      }
      const n = typeof v === 'number' ? v : typeof v === 'string' ? numberOf(v) : NaN;
      if (!Number.isFinite(n)) {
        throw new AppError('VALIDATION_ERROR', `row ${r + 1}, column ${JSON.stringify(truncate(columns[c]))}: features must be finite numbers, got ${truncate(JSON.stringify(v) ?? 'nothing')}`);
      }
      x.push(n);
    }
  }
  const distinct = [...new Set(labels)];
  const numeric = distinct.every((l) => NUMBER.test(l));
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (distinct.length < 2) throw new AppError('VALIDATION_ERROR', `the label column ${JSON.stringify(truncate(label))} has ${distinct.length} class; a classifier needs at least 2`);
  if (distinct.length > MAX_CLASSES) throw new AppError('VALIDATION_ERROR', `the label column ${JSON.stringify(truncate(label))} has ${distinct.length} classes; at most ${MAX_CLASSES}`);
  const index = new Map(distinct.map((l, i) => [l, i]));
  const y = Int32Array.from(labels, (l) => index.get(l)!);
  const counts = new Array<number>(distinct.length).fill(0);
  for (const c of y) counts[c]++;
  for (let c = 0; c < counts.length; c++) {
    if (counts[c] < input.minClassRows) {
      throw new AppError('UNPROCESSABLE', `class ${JSON.stringify(truncate(distinct[c]))} has ${counts[c]} rows, fewer than the ${input.minClassRows} cross-validation folds training uses; add rows, drop the class, or upload with a smaller cv`);
    }
  }
  return { featureNames, labelColumn: label, classNames: distinct, x: Float64Array.from(x), y };
}

/** An upload as text: CSV, or JSON rows (objects, or arrays with their columns). */
export type DatasetInput =
  | { kind: 'csv'; text: string; label?: string; minClassRows: number }
  | { kind: 'json'; columns: string[] | null; rows: unknown[]; label?: string; minClassRows: number };

/** An upload checked and made a training table, with its content hash. */
export function parseDatasetInput(input: DatasetInput): ParsedDataset & { hash: string } {
  let parsed: ParsedDataset;
  if (input.kind === 'csv') {
    const rows = parseCsv(input.text);
    if (rows.length < 2) throw new AppError('VALIDATION_ERROR', 'the CSV needs a header row and at least one data row');
    parsed = buildDataset({ columns: rows[0].map((c) => c.trim()), rows: rows.slice(1), label: input.label, minClassRows: input.minClassRows });
  } else {
    if (input.columns === null && input.rows.some((r) => Array.isArray(r))) throw new AppError('VALIDATION_ERROR', 'rows given as arrays need "columns" (their names, label included)');
    parsed = buildDataset({ columns: input.columns, rows: input.rows, label: input.label, minClassRows: input.minClassRows });
  }
  return { ...parsed, hash: contentHash(parsed) };
}

/** A stable hash of a training table's content (features, labels, names). */
export function contentHash(d: { featureNames: string[]; classNames: string[]; x: Float64Array; y: Int32Array }): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([d.featureNames, d.classNames]));
  const p = d.featureNames.length;
  // One line per row, "f1,f2,…;label": the text hashed since the first version of the registry.
  for (let i = 0; i < d.y.length; i++) h.update(`${d.x.subarray(i * p, (i + 1) * p).join(',')};${d.y[i]}\n`);
  return `sha256:${h.digest('hex')}`;
}

export function classCounts(y: ArrayLike<number>, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  return counts;
}

// ---- prediction input ----

/**
 * /predict's `input` as rows: one row (`[5.1, 3.5, 1.4, 0.2]`), a batch (`[[...], ...]`) or one object
 * keyed by feature name. Refuses the wrong feature count, non-numbers and non-finite values.
 */
export function predictionRows(input: unknown, featureNames: string[], maxRows: number): { rows: number[][]; batch: boolean } {
  const n = featureNames.length;
  const row = (value: unknown, where: string): number[] => {
    if (!Array.isArray(value)) throw new AppError('VALIDATION_ERROR', `${where} must be an array of ${n} numbers`);
    if (value.length !== n) throw new AppError('VALIDATION_ERROR', `${where}: expected ${n} features, got ${value.length}`);
    for (let i = 0; i < n; i++) {
      const v = value[i];
      if (typeof v !== 'number') throw new AppError('VALIDATION_ERROR', `${where}[${i}] (${featureNames[i]}) must be a number, got ${truncate(JSON.stringify(v) ?? 'nothing')}`);
      if (!Number.isFinite(v)) throw new AppError('VALIDATION_ERROR', `${where}[${i}] (${featureNames[i]}) must be finite`);
    }
    return value as number[];
  };
  if (input === undefined || input === null) throw new AppError('VALIDATION_ERROR', `input is required: ${n} numbers (${truncate(featureNames.join(', '), 200)}), a list of such rows, or an object keyed by feature name`);
  if (Array.isArray(input)) {
    if (input.length > 0 && Array.isArray(input[0])) {
      if (input.length > maxRows) throw new AppError('PAYLOAD_TOO_LARGE', `input has ${input.length} rows; at most ${maxRows} per request`);
      return { rows: input.map((r, i) => row(r, `input[${i}]`)), batch: true };
    }
    return { rows: [row(input, 'input')], batch: false };
  }
  if (typeof input === 'object') {
    const o = input as Record<string, unknown>;
    const unknown = Object.keys(o).filter((k) => !featureNames.includes(k));
    if (unknown.length) throw new AppError('VALIDATION_ERROR', `input has unknown feature ${truncate(unknown.map((k) => JSON.stringify(k)).join(', '), 200)}; the features are ${truncate(featureNames.join(', '), 300)}`);
    const missing = featureNames.filter((f) => !Object.hasOwn(o, f));
    if (missing.length) throw new AppError('VALIDATION_ERROR', `input: expected ${n} features, got ${n - missing.length} (missing ${truncate(missing.join(', '), 200)})`);
    return { rows: [row(featureNames.map((f) => o[f]), 'input')], batch: false };
  }
  throw new AppError('VALIDATION_ERROR', `input must be an array of ${n} numbers, a list of rows, or an object keyed by feature name`);
}

/** A confusion matrix: rows are true classes, columns predicted ones. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

/** "3:2" (model 3, version 2) items of compare?ids=, at most `max`. */
export function parseVersionRefs(ids: string, max: number): { modelId: number; version: number }[] {
  const parts = ids.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new AppError('VALIDATION_ERROR', 'ids must list versions as model_id:version, comma-separated (e.g. ids=1:1,1:2)');
  if (parts.length > max) throw new AppError('VALIDATION_ERROR', `ids lists ${parts.length} versions; at most ${max}`);
  return parts.map((p) => {
    const m = /^(\d{1,9}):(\d{1,9})$/.exec(p);
    if (!m) throw new AppError('VALIDATION_ERROR', `ids: ${JSON.stringify(truncate(p))} is not model_id:version (e.g. 1:2)`);
    return { modelId: Number(m[1]), version: Number(m[2]) };
  });
}
