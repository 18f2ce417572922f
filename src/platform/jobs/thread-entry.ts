// The worker-thread side of threads.ts: imports the handler module and runs its default export.
import { parentPort, workerData } from 'node:worker_threads';
import { runBelowEventLoop } from './priority.ts';
import { ownedBuffer } from './threads.ts';

runBelowEventLoop();

/**
 * The buffers of the typed arrays in a result (up to three levels down) that own their whole buffer:
 * moved, not copied, to the main thread, which would otherwise copy megabytes on its own loop. This
 * thread ends after answering, so nothing here uses them again.
 */
function transferables(value: unknown, depth = 3, out = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const owned = ownedBuffer(value);
    if (owned) out.add(owned);
  } else if (depth > 0 && value !== null && typeof value === 'object') {
    for (const v of Array.isArray(value) ? value : Object.values(value)) transferables(v, depth - 1, out);
  }
  return [...out];
}

const { module, data } = workerData as { module: string; data: unknown };
const controller = new AbortController();
parentPort!.on('message', (m: { kind: string }) => {
  if (m.kind === 'abort') controller.abort(new Error('job cancelled'));
});
try {
  const handler = (await import(module)).default as (data: unknown, ctx: { signal: AbortSignal; progress(p: number, note?: string): void }) => unknown;
  const progress = (percent: number, note?: string) => parentPort!.postMessage({ kind: 'progress', percent, note });
  const result = await handler(data, { signal: controller.signal, progress });
  try {
    parentPort!.postMessage({ kind: 'done', result }, transferables(result));
  } catch {
    // A buffer that cannot be moved (a WebAssembly memory's): copy them all instead.
    parentPort!.postMessage({ kind: 'done', result });
  }
} catch (err) {
  parentPort!.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
}
parentPort!.close();
