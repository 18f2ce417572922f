// The worker-thread side of threads.ts: imports the handler module and runs its default export.
import { parentPort, workerData } from 'node:worker_threads';

const { module, data } = workerData as { module: string; data: unknown };
const controller = new AbortController();
parentPort!.on('message', (m: { kind: string }) => {
  if (m.kind === 'abort') controller.abort(new Error('job cancelled'));
});
try {
  const handler = (await import(module)).default as (data: unknown, ctx: { signal: AbortSignal; progress(p: number, note?: string): void }) => unknown;
  const progress = (percent: number, note?: string) => parentPort!.postMessage({ kind: 'progress', percent, note });
  const result = await handler(data, { signal: controller.signal, progress });
  parentPort!.postMessage({ kind: 'done', result });
} catch (err) {
  parentPort!.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
}
parentPort!.close();
