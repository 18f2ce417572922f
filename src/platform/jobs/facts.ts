// Internal events between modules: a module publishes a fact ("alert.raised", "user.registered") and
// other modules consume it, without importing each other.
// - Durable: each consumer has a job queue `fact.<event>.<consumer>`; publishing enqueues one job per
//   consumer that wants the fact, inside the publisher's transaction when one is given (the fact
//   exists exactly when the publisher's rows committed). Facts published outside a transaction in the
//   same tick go out as one insert per consumer queue.
// - Live: in-process listeners (`on`) get every fact at once, for fan-out where losing one is fine.
// Every process registers the same modules, so each knows every consumer of an event.
import { EventEmitter } from 'node:events';
import type { JobContext, JobSystem, Logger, QueueSpec, Tx } from './jobs.ts';

interface Consumer {
  queue: string;
  wants?: (payload: any) => boolean;
  active?: () => boolean;
}

export type Facts = ReturnType<typeof createFacts>;

export function createFacts(jobs: JobSystem, log: Logger) {
  const consumers = new Map<string, Consumer[]>();
  const live = new EventEmitter();
  live.setMaxListeners(0);
  let pending = new Map<string, { payload: object; done: { resolve(): void; reject(e: unknown): void } }[]>();
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const batch = pending;
    pending = new Map();
    for (const [queue, items] of batch) {
      jobs.enqueueMany(queue, items.map((i) => ({ data: i.payload }))).then(
        () => items.forEach((i) => i.done.resolve()),
        (err: unknown) => items.forEach((i) => i.done.reject(err)),
      );
    }
  };

  return {
    /**
     * A durable consumer: `handler` runs as a job for every fact of `event` published while `wants`
     * (checked synchronously at publish time; default: every fact) says yes. `active` says, as
     * cheaply, whether it may want any fact at all just now (default: yes); see `interested`.
     */
    consume<P extends object>(
      event: string,
      consumer: string,
      handler: (payload: P, job: JobContext<P>) => Promise<unknown>,
      opts: Omit<QueueSpec<P>, 'name' | 'handler' | 'thread'> & { wants?: (payload: P) => boolean; active?: () => boolean } = {},
    ): void {
      const { wants, active, ...spec } = opts;
      const queue = `fact.${event}.${consumer}`;
      jobs.define<P, unknown>({ ...spec, name: queue, handler: (job) => handler(job.data, job) });
      consumers.set(event, [...(consumers.get(event) ?? []), { queue, wants, active }]);
    },

    /**
     * Whether some durable consumer may want a fact of `event` now. A publisher whose facts would
     * otherwise cost it a transaction of its own asks first, and skips the transaction when not.
     */
    interested(event: string): boolean {
      return (consumers.get(event) ?? []).some((c) => !c.active || c.active());
    },

    /** A live listener in this process; returns the unsubscribe function. */
    on<P>(event: string, listener: (payload: P) => void): () => void {
      live.on(event, listener);
      return () => live.off(event, listener);
    },

    /**
     * Publishes a fact. Resolves once it is stored for every consumer that wants it (inside `tx` when
     * given, else in the next batched insert); with no such consumer it costs no database work.
     */
    async publish<P extends object>(event: string, payload: P, opts: { tx?: Tx } = {}): Promise<void> {
      if (live.listenerCount(event)) {
        try {
          live.emit(event, payload);
        } catch (err) {
          log.warn({ err, event }, 'a live fact listener failed');
        }
      }
      const targets = (consumers.get(event) ?? []).filter((c) => !c.wants || c.wants(payload));
      if (!targets.length) return;
      if (opts.tx) {
        for (const t of targets) await jobs.enqueueMany(t.queue, [{ data: payload }], { tx: opts.tx });
        return;
      }
      await Promise.all(
        targets.map(
          (t) =>
            new Promise<void>((resolve, reject) => {
              const list = pending.get(t.queue) ?? [];
              list.push({ payload, done: { resolve, reject } });
              pending.set(t.queue, list);
              if (!scheduled) {
                scheduled = true;
                setImmediate(flush);
              }
            }),
        ),
      );
    },
  };
}
