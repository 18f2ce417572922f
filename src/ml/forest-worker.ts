// Worker thread of a parallel forest fit: waits for the job (it starts while the caller bins the
// data), then takes tree indices from the shared counter until
// none are left, grows each tree on the shared binned data and posts it back, then exits.

import { parentPort } from 'node:worker_threads';
import { growTree, type ForestJob, type WorkerTreeMessage } from './forest-train.ts';

parentPort!.once('message', ({ job, counter }: { job: ForestJob; counter: Int32Array }) => {
  const w = new Float64Array(job.data.n);
  for (;;) {
    const t = Atomics.add(counter, 0, 1);
    if (t >= job.nTrees) break;
    const tree = growTree(job, t, w);
    const msg: WorkerTreeMessage = { t, tree };
    parentPort!.postMessage(msg, [
      tree.feature.buffer as ArrayBuffer,
      tree.threshold.buffer as ArrayBuffer,
      tree.left.buffer as ArrayBuffer,
      tree.right.buffer as ArrayBuffer,
      tree.value.buffer as ArrayBuffer,
      tree.impurity.buffer as ArrayBuffer,
      tree.weightedN.buffer as ArrayBuffer,
      tree.nSamples.buffer as ArrayBuffer,
    ]);
  }
});
