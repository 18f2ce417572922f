// Whether a dependency (PostgreSQL, Redis) answers, known at all times from a probe on a short
// interval, so that an outage costs each request milliseconds instead of a driver's timeouts:
// - while it is down, the driver is told to fail at once (no connection attempt, no queueing) and the
//   requests that need it answer 503 UNAVAILABLE with Retry-After;
// - going down, the driver drops its connections, so requests stuck on a partitioned socket fail too;
// - the probe keeps trying every `downIntervalMs`, and the first answer brings it back up at once;
// - each transition is logged once (a warning down, info up), not a stack trace per request.
export interface DependencyLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface Dependency {
  readonly name: string;
  /** The probe's latest verdict (synchronous, free). */
  readonly up: boolean;
  /** Probes now, within `timeoutMs`: for /ready, which must answer quickly whatever the state. */
  check(timeoutMs: number): Promise<boolean>;
  stop(): void;
}

export interface DependencyOptions {
  name: string;
  /** One round trip to the dependency. */
  probe(): Promise<unknown>;
  /** Told when the dependency is found down: drop connections, refuse new ones. */
  onDown?(): void;
  onUp?(): void;
  /** Told after every failed probe (for example, to drop a connection that stopped answering). */
  onFailure?(): void;
  log: DependencyLog;
  /** A probe slower than this is a failure (default 750 ms). */
  timeoutMs?: number;
  /** Between probes while up (default 250 ms) and while down (default 250 ms). */
  intervalMs?: number;
  downIntervalMs?: number;
}

/**
 * Resolves with the promise, or rejects after `ms` (the promise's own result is then ignored).
 *
 * The refusal waits for the event loop's next poll for I/O: when this process's own work held the loop
 * past `ms`, the answer may be sitting unread on its socket, and timers run before I/O callbacks. A
 * busy CI machine marked a healthy PostgreSQL down that way (a sign-up answered 503 "database is
 * unavailable"); an answer that really is late still fails one loop turn after the limit.
 */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(new Error(`${what} did not answer within ${ms} ms`))), ms);
  });
  p.catch(() => {});
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function watchDependency(opts: DependencyOptions): Dependency {
  const timeoutMs = opts.timeoutMs ?? 750;
  let up = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const verdict = (ok: boolean, err?: unknown) => {
    if (ok === up) return;
    up = ok;
    if (ok) {
      opts.log.info({ dependency: opts.name }, `${opts.name} is reachable again`);
      opts.onUp?.();
    } else {
      opts.log.warn({ dependency: opts.name, reason: err instanceof Error ? err.message : String(err) }, `${opts.name} is unreachable; requests that need it answer 503 until it is back`);
      opts.onDown?.();
    }
  };
  const probe = async (ms: number): Promise<boolean> => {
    try {
      await within(Promise.resolve().then(opts.probe), ms, opts.name);
      verdict(true);
      return true;
    } catch (err) {
      verdict(false, err);
      opts.onFailure?.();
      return false;
    }
  };
  const loop = async () => {
    if (stopped) return;
    await probe(timeoutMs);
    if (stopped) return;
    timer = setTimeout(loop, up ? (opts.intervalMs ?? 250) : (opts.downIntervalMs ?? 250));
    timer.unref();
  };
  timer = setTimeout(loop, opts.intervalMs ?? 250);
  timer.unref();

  return {
    name: opts.name,
    get up() {
      return up;
    },
    check: (ms) => probe(Math.min(ms, timeoutMs)),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * A dependency in this process (the embedded database): there unless `up` says it has stopped, which
 * nothing brings back short of a restart.
 */
export function inProcess(name: string, probe: () => Promise<unknown>, up: () => boolean = () => true): Dependency {
  return {
    name,
    get up() {
      return up();
    },
    check: async () => {
      if (!up()) return false;
      await probe();
      return true;
    },
    stop() {},
  };
}
