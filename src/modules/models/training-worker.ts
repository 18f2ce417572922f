// The thread side of training-pool.ts: runs one training per message, reporting fits done.
import { parentPort } from 'node:worker_threads';
import { runBelowEventLoop } from '../../platform/jobs/priority.ts';
import { runTraining, type TrainingInput } from './training.ts';
import type { TrainingMessage } from './training-pool.ts';

const ML_ERRORS = new Set(['RangeError', 'TypeError', 'NotFittedError']);
runBelowEventLoop();
const post = (m: TrainingMessage) => parentPort!.postMessage(m);

parentPort!.on('message', async (data: TrainingInput) => {
  let lastPercent = -1;
  try {
    const result = await runTraining(data, {
      onFits: (done, planned) => {
        const percent = Math.floor((100 * done) / planned);
        if (percent !== lastPercent || done === planned) post({ kind: 'progress', percent, note: `fits ${done}/${planned}` });
        lastPercent = percent;
      },
    });
    post({ kind: 'done', result });
  } catch (err) {
    // What src/ml refused is the client's 422; names do not cross threads, so it says which.
    if (err instanceof Error && ML_ERRORS.has(err.name)) post({ kind: 'ml-error', message: err.message });
    else post({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
