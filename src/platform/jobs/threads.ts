// CPU-heavy job handlers run on a worker thread of their own, so the event loop that serves HTTP and
// the other jobs never blocks. One thread per running job (the job's concurrency bounds how many):
// a thread costs ~20 ms to start, nothing next to the seconds of work that justify one, and ending
// it is how a cancelled or timed-out job is stopped even when its code never looks at the signal.
import { Worker } from 'node:worker_threads';

const ENTRY = new URL('./thread-entry.ts', import.meta.url);

export type ThreadMessage = { kind: 'progress'; percent: number; note?: string } | { kind: 'done'; result: unknown } | { kind: 'error'; message: string };

/**
 * The buffer a typed array or Buffer owns whole, which may move to another thread; null for a view
 * into a larger one (a small Buffer shares Node's pool with others, which must not move).
 */
export function ownedBuffer(view: ArrayBufferView): ArrayBuffer | null {
  return view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view.buffer : null;
}

/**
 * Runs `module`'s default export, `(data, { progress, signal }) => result`, on a new thread. The
 * data and result cross by structured clone, except the buffers of the views in `move` that own
 * theirs (moved to the thread, unusable here afterwards) and the typed arrays of the result (moved
 * back: the thread ends).
 * Aborting `signal` asks the handler to stop and ends the thread 1 s later if it has not.
 */
export function runOnThread(
  module: URL,
  data: unknown,
  opts: { signal: AbortSignal; progress(percent: number, note?: string): void; move?: ArrayBufferView[] },
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const transferList = (opts.move ?? []).map(ownedBuffer).filter((b) => b !== null);
    const worker = new Worker(ENTRY, { workerData: { module: module.href, data }, transferList });
    let settled = false;
    let killer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener('abort', onAbort);
      if (killer) clearTimeout(killer);
      fn();
      void worker.terminate();
    };
    const onAbort = () => {
      worker.postMessage({ kind: 'abort' });
      killer = setTimeout(() => finish(() => reject(new Error('job aborted: its thread was ended'))), 1000);
    };
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: ThreadMessage) => {
      if (m.kind === 'done') finish(() => resolve(m.result));
      else if (m.kind === 'error') finish(() => reject(new Error(m.message)));
      // Once answered (or ended), a report still queued from the thread is dropped: its job is over.
      else if (!settled) opts.progress(m.percent, m.note);
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`job thread exited with code ${code} before answering`))));
  });
}
