// ML benchmark: our trees and forests against scikit-learn on the same CSV, then the k-means
// and KNN rows of bench/ml-cluster.ts when it exists. Run: node bench/ml.ts
// sklearn runs through Debian's /usr/bin/python3 (bench/ml_sklearn.py). The data is a seeded
// make_classification-like set: 20,000 rows, 20 features (10 informative, 4 redundant,
// 6 noise), 3 classes with 2 Gaussian clusters each and 1% flipped labels; the first 80% of
// the rows train and the rest test, on both sides.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RandomForestClassifier } from '../src/ml/forest.ts';
import { matrix, type Matrix } from '../src/ml/matrix.ts';
import { accuracy } from '../src/ml/metrics.ts';
import { Rng } from '../src/ml/rng.ts';
import { DecisionTreeClassifier } from '../src/ml/tree.ts';
import { bestOf, printTable, type BenchRow } from './ml-table.ts';

const N = 20_000;
const P = 20;
const INFORMATIVE = 10;
const REDUNDANT = 4;
const CLASSES = 3;
const CLUSTERS_PER_CLASS = 2;
const TREE_TASK = 'decision tree (depth 10)';
const FOREST_TASK = 'random forest (100 trees, depth 10)';

/** make_classification's recipe with our Rng; values rounded to 1e-6 so the CSV text is exact. */
function makeClassification(rng: Rng): { x: Matrix; y: Int32Array } {
  const nClusters = CLASSES * CLUSTERS_PER_CLASS;
  const centroids = new Float64Array(nClusters * INFORMATIVE);
  for (let i = 0; i < centroids.length; i++) centroids[i] = rng.int(2) === 0 ? -1 : 1; // hypercube vertices, class_sep 1
  const transforms: Float64Array[] = [];
  for (let c = 0; c < nClusters; c++) transforms.push(Float64Array.from({ length: INFORMATIVE * INFORMATIVE }, () => 2 * rng.next() - 1));
  const redundant = Float64Array.from({ length: INFORMATIVE * REDUNDANT }, () => 2 * rng.next() - 1);
  const perm = rng.shuffle(Int32Array.from({ length: P }, (_, j) => j)); // columns shuffled as sklearn's shuffle=True
  const x = matrix(N, P);
  const y = new Int32Array(N);
  const z = new Float64Array(INFORMATIVE);
  const row = new Float64Array(P);
  for (let i = 0; i < N; i++) {
    const c = rng.int(nClusters);
    y[i] = c % CLASSES;
    const g = new Float64Array(INFORMATIVE);
    for (let a = 0; a < INFORMATIVE; a++) g[a] = rng.normal();
    const A = transforms[c];
    for (let b = 0; b < INFORMATIVE; b++) {
      let s = 0;
      for (let a = 0; a < INFORMATIVE; a++) s += g[a] * A[a * INFORMATIVE + b];
      z[b] = s + centroids[c * INFORMATIVE + b];
    }
    for (let b = 0; b < INFORMATIVE; b++) row[b] = z[b];
    for (let r = 0; r < REDUNDANT; r++) {
      let s = 0;
      for (let a = 0; a < INFORMATIVE; a++) s += z[a] * redundant[a * REDUNDANT + r];
      row[INFORMATIVE + r] = s;
    }
    for (let j = INFORMATIVE + REDUNDANT; j < P; j++) row[j] = rng.normal();
    for (let j = 0; j < P; j++) x.data[i * P + perm[j]] = Math.round(row[j] * 1e6) / 1e6;
    if (rng.next() < 0.01) y[i] = rng.int(CLASSES);
  }
  return { x, y };
}

function writeCsv(path: string, x: Matrix, y: Int32Array): void {
  const lines = [Array.from({ length: x.cols }, (_, j) => `x${j}`).join(',') + ',label'];
  for (let i = 0; i < x.rows; i++) lines.push(Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)).join(',') + ',' + y[i]);
  writeFileSync(path, lines.join('\n') + '\n');
}

/** Reads the CSV back (so both sides parse the very same text) and splits 80/20 by row order. */
function readSplit(path: string): { xTr: Matrix; yTr: Int32Array; xTe: Matrix; yTe: Int32Array } {
  const rows = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  const p = rows[0].split(',').length - 1;
  const nTr = Math.floor(rows.length * 0.8);
  const take = (from: number, to: number) => {
    const x = matrix(to - from, p);
    const y = new Int32Array(to - from);
    for (let i = from; i < to; i++) {
      const v = rows[i].split(',');
      for (let j = 0; j < p; j++) x.data[(i - from) * p + j] = Number(v[j]);
      y[i - from] = Number(v[p]);
    }
    return { x, y };
  };
  const tr = take(0, nTr);
  const te = take(nTr, rows.length);
  return { xTr: tr.x, yTr: tr.y, xTe: te.x, yTe: te.y };
}

interface SkRow {
  task: string;
  sk1Sec: number;
  sk2Sec: number | null;
  accSk: number;
}

function runSklearn(dir: string, tasks: string[]): SkRow[] {
  const script = fileURLToPath(new URL('./ml_sklearn.py', import.meta.url));
  try {
    const out = execFileSync('/usr/bin/python3', [script, dir, ...tasks], { encoding: 'utf8', timeout: 150_000 });
    return JSON.parse(out) as SkRow[];
  } catch (e) {
    console.error(`sklearn side failed (${(e as Error).message.split('\n')[0]}); printing our side only`);
    return [];
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-ml-bench-'));
  try {
    const { x, y } = makeClassification(new Rng(20260601));
    const csv = join(dir, 'trees.csv');
    writeCsv(csv, x, y);
    const { xTr, yTr, xTe, yTe } = readSplit(csv);
    console.error(`data: ${csv} (${N} x ${P}, ${CLASSES} classes; train ${xTr.rows}, test ${xTe.rows})`);

    const tree = await bestOf(3, () => new DecisionTreeClassifier({ maxDepth: 10, seed: 0 }).fit(xTr, yTr));
    const forest = await bestOf(2, () =>
      new RandomForestClassifier({ nEstimators: 100, maxDepth: 10, maxFeatures: 'sqrt', seed: 0, nJobs: 2 }).fitAsync(xTr, yTr),
    );
    const accTree = accuracy(yTe, tree.out.predict(xTe));
    const accForest = accuracy(yTe, forest.out.predict(xTe));
    console.error(`ours: tree ${tree.sec.toFixed(3)} s, forest (nJobs 2) ${forest.sec.toFixed(3)} s; running sklearn...`);

    const sk = runSklearn(dir, ['tree', 'forest']);
    const skOf = (task: string) => sk.find((r) => r.task === task);
    const rows: BenchRow[] = [
      { task: TREE_TASK, oursSec: tree.sec, sk1Sec: skOf(TREE_TASK)?.sk1Sec ?? NaN, sk2Sec: null, accOurs: accTree, accSk: skOf(TREE_TASK)?.accSk ?? null, note: 'best of 3' },
      {
        task: FOREST_TASK,
        oursSec: forest.sec,
        sk1Sec: skOf(FOREST_TASK)?.sk1Sec ?? NaN,
        sk2Sec: skOf(FOREST_TASK)?.sk2Sec ?? null,
        accOurs: accForest,
        accSk: skOf(FOREST_TASK)?.accSk ?? null,
        note: 'ours nJobs 2 (workers), best of 2',
      },
    ];

    const rssTreesMb = process.resourceUsage().maxRSS / 1024;
    const clusterModule = new URL('./ml-cluster.ts', import.meta.url);
    if (existsSync(fileURLToPath(clusterModule))) {
      const cluster = (await import(clusterModule.href)) as { run(dir: string): Promise<BenchRow[]> };
      rows.push(...(await cluster.run(dir)));
    }

    printTable(rows);
    console.log(`\npeak RSS of the node process: ${rssTreesMb.toFixed(0)} MB after the tree rows, ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB at the end`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
