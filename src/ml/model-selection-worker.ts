// Worker thread of a parallel grid search: pulls (candidate, split) tasks from the shared
// counter, fits and scores each, posts the score back, and exits when none are left.

import { parentPort, workerData } from 'node:worker_threads';
import { evaluateSplit, Folds, makeEstimator, type CvWorkerInput, type CvWorkerMessage } from './model-selection-tasks.ts';

const input = workerData as CvWorkerInput;
const nSplits = input.splits.length;
const nTasks = input.candidates.length * nSplits;
const folds = new Folds(input.x, input.y, input.splits);
for (;;) {
  const task = Atomics.add(input.counter, 0, 1);
  if (task >= nTasks) break;
  const c = Math.floor(task / nSplits);
  const score = evaluateSplit(makeEstimator(input.kind, input.candidates[c]), folds.get(task % nSplits), input.scoring);
  const msg: CvWorkerMessage = { task, score };
  parentPort!.postMessage(msg);
}
