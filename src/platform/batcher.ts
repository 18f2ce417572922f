// Adaptive micro-batching: one batch runs at a time, and the calls made while it runs are gathered into
// the next one. When the database keeps up, each call goes out alone at once (no timer, no added
// latency); under load, batches grow by themselves (up to maxBatch), so the per-statement and
// per-commit costs are paid once per batch instead of once per call.

export interface BatcherOptions<I, O> {
  /** Runs one batch; must return one result per item, in the items' order. */
  run(items: I[]): Promise<O[]>;
  /** The most items in one batch. */
  maxBatch: number;
  /**
   * Whether the items of a failed batch should be run again one by one: only when the failure says the
   * batch left nothing behind and one item may be the cause (e.g. an error PostgreSQL reported for the
   * statement). Otherwise (a lost connection, where the batch may have committed) every item fails.
   */
  retryAlone(err: unknown): boolean;
}

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(reason: unknown): void;
}

/**
 * Returns a function that submits one item and resolves with its result. Items run in the order they
 * were submitted: batch after batch, never two batches at once. When a batch of several items fails
 * and retryAlone(err) says so, each item is run again alone, in the same order, so one bad item fails
 * only its own call; otherwise every item of the batch fails with the error.
 */
export function createBatcher<I, O>(options: BatcherOptions<I, O>): (item: I) => Promise<O> {
  const { run, maxBatch, retryAlone } = options;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  let queue: Pending<I, O>[] = [];
  let busy = false;

  const runChecked = async (items: I[]): Promise<O[]> => {
    const results = await run(items);
    if (results.length !== items.length) throw new Error(`batch returned ${results.length} results for ${items.length} items`);
    return results;
  };

  const settle = async (batch: Pending<I, O>[]): Promise<void> => {
    try {
      const results = await runChecked(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      if (batch.length === 1 || !retryAlone(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      for (const p of batch) {
        try {
          p.resolve((await runChecked([p.item]))[0]);
        } catch (alone) {
          p.reject(alone);
        }
      }
    }
  };

  const next = (): void => {
    if (queue.length === 0) {
      busy = false;
      return;
    }
    const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
    queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
    void settle(batch).then(next);
  };

  return (item: I) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!busy) {
        busy = true;
        // Gather the calls made in this turn of the event loop before sending.
        queueMicrotask(next);
      }
    });
}
