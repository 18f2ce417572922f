// Worker threads for trainings, kept warm between them: a fresh thread costs ~100 ms on a busy
// 2-core machine to start and compile the estimators, more than the whole default forest grid on
// iris once warm. A finished thread goes back to the pool (at most `idle` kept, unref'd so they
// never hold the process open); a cancelled or timed-out training ends its thread, as runOnThread.
import { Worker } from 'node:worker_threads';
import type { TrainingInput, TrainingOutput } from './training.ts';

const ENTRY = new URL('./training-worker.ts', import.meta.url);

export type TrainingMessage =
  | { kind: 'progress'; percent: number; note: string }
  | { kind: 'done'; result: TrainingOutput }
  | { kind: 'ml-error'; message: string }
  | { kind: 'error'; message: string };

export interface TrainingPool {
  run(data: TrainingInput, opts: { signal: AbortSignal; progress(percent: number, note?: string): void }): Promise<TrainingOutput | { mlError: string }>;
  close(): Promise<void>;
}

export function createTrainingPool(opts: { idle: number }): TrainingPool {
  const idle: Worker[] = [];
  const busy = new Set<Worker>();
  let closed = false;

  const release = (w: Worker) => {
    busy.delete(w);
    w.removeAllListeners('message').removeAllListeners('error').removeAllListeners('exit');
    if (!closed && idle.length < opts.idle) {
      w.unref();
      idle.push(w);
    } else void w.terminate();
  };

  return {
    run(data, { signal, progress }) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new Error('the training pool is closed'));
        signal.throwIfAborted();
        const w = idle.pop() ?? new Worker(ENTRY);
        w.ref();
        busy.add(w);
        let settled = false;
        const finish = (fn: () => void, reuse: boolean) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if (reuse) release(w);
          else {
            busy.delete(w);
            w.removeAllListeners();
            void w.terminate();
          }
          fn();
        };
        const onAbort = () => finish(() => reject(signal.reason ?? new Error('training aborted')), false);
        signal.addEventListener('abort', onAbort, { once: true });
        w.on('message', (m: TrainingMessage) => {
          if (m.kind === 'progress') progress(m.percent, m.note);
          else if (m.kind === 'done') finish(() => resolve(m.result), true);
          else if (m.kind === 'ml-error') finish(() => resolve({ mlError: m.message }), true);
          else finish(() => reject(new Error(m.message)), false);
        });
        w.on('error', (err) => finish(() => reject(err), false));
        w.on('exit', (code) => finish(() => reject(new Error(`training thread exited with code ${code}`)), false));
        w.postMessage(data);
      });
    },

    async close() {
      closed = true;
      const all = [...idle.splice(0), ...busy];
      busy.clear();
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}
