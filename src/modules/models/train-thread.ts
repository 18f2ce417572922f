// A training on a worker thread of its own (platform/jobs/threads.ts): the event loop that serves
// HTTP never runs the fits. Progress is the share of fits done, its note "fits done/planned".
import { runTraining, type TrainingInput } from './training.ts';

const ML_ERRORS = new Set(['RangeError', 'TypeError', 'NotFittedError']);

export default async function train(data: TrainingInput, ctx: { signal: AbortSignal; progress(percent: number, note?: string): void }) {
  let lastPercent = -1;
  try {
    return await runTraining(data, {
    signal: ctx.signal,
    onFits: (done, planned) => {
      const percent = Math.floor((100 * done) / planned);
      if (percent !== lastPercent || done === planned) ctx.progress(percent, `fits ${done}/${planned}`);
      lastPercent = percent;
    },
    });
  } catch (err) {
    if (err instanceof Error && ML_ERRORS.has(err.name) && !ctx.signal.aborted) return { mlError: err.message };
    throw err;
  }
}
