import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';
import { processThreads } from '../../../test/helpers/threads.ts';
import { backgroundNice } from '../../platform/jobs/priority.ts';
import { createTrainingPool } from './training-pool.ts';
import type { TrainingInput } from './training.ts';

const rows = readFileSync(new URL('../../../datasets/iris.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
const iris = (kind: TrainingInput['kind'], grid: Record<string, unknown[]>): TrainingInput => ({
  kind,
  grid,
  x: Float64Array.from(rows.flatMap((r) => r.slice(0, 4))),
  nFeatures: 4,
  y: Int32Array.from(rows, (r) => r[4]),
  nClasses: 3,
  cv: 5,
  scoring: 'accuracy',
  seed: 0,
  nJobs: 1,
});
const noProgress = { progress: () => {} };

test('warm threads: results, progress, reuse, a refused parameter, abort, close', async () => {
  const pool = createTrainingPool({ idle: 1 });
  try {
    const notes: string[] = [];
    const a = await pool.run(iris('DecisionTreeClassifier', { max_depth: [2, 5] }), { signal: new AbortController().signal, progress: (_p, n) => notes.push(n!) });
    assert.ok(!('mlError' in a));
    assert.deepEqual(a.best_params, { max_depth: 5 });
    assert.equal(notes.at(-1), `fits ${a.fits_planned}/${a.fits_planned}`);
    // The warm thread, kept idle, runs below the event loop (platform/jobs/priority.ts; Linux only).
    if (os.platform() === 'linux') assert.deepEqual(new Set(processThreads().filter((t) => t.name === 'WorkerThread').map((t) => t.nice)), new Set([backgroundNice()]));
    // The same (warm) thread answers identically.
    const b = await pool.run(iris('DecisionTreeClassifier', { max_depth: [2, 5] }), { signal: new AbortController().signal, ...noProgress });
    assert.ok(!('mlError' in b));
    assert.deepEqual(b.cv_results.mean_test_score, a.cv_results.mean_test_score);
    assert.deepEqual(await pool.run(iris('DecisionTreeClassifier', { max_depth: [-1] }), { signal: new AbortController().signal, ...noProgress }), {
      mlError: 'DecisionTreeClassifier: maxDepth must be an integer >= 1 or null, got -1',
    });
    const ctl = new AbortController();
    const slow = pool.run(iris('RandomForestClassifier', { n_estimators: [500, 600], max_depth: [null] }), { signal: ctl.signal, ...noProgress });
    setTimeout(() => ctl.abort(new Error('stop')), 50);
    await assert.rejects(slow, /stop/);
    const after = await pool.run(iris('DecisionTreeClassifier', { max_depth: [3] }), { signal: new AbortController().signal, ...noProgress });
    assert.ok(!('mlError' in after));
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.run(iris('DecisionTreeClassifier', { max_depth: [3] }), { signal: new AbortController().signal, ...noProgress }), /closed/);
});
