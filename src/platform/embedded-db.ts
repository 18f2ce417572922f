// The embedded database as the event loop sees it: a client whose calls run on PGlite in a thread of
// its own (embedded-db-thread.ts). Each call is a message; its answer comes back as one, so it arrives
// in the loop's poll phase, after I/O, like a PostgreSQL server's answer on a socket.
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { types } from '@electric-sql/pglite';

/**
 * The types Drizzle's PGlite driver reads as text (its PglitePreparedQuery passes identity parsers for
 * them with every query; db.test.ts checks this list against it). The thread's client parses them as
 * text for every caller, and parses them again, as PGlite usually does, for the callers that are not Drizzle.
 */
export const DRIZZLE_TEXT_TYPES: Record<number, number | null> = {
  [types.TIMESTAMP]: null,
  [types.TIMESTAMPTZ]: null,
  [types.INTERVAL]: null,
  [types.DATE]: null,
  // numeric[], timestamp[], timestamptz[], interval[], date[]: their element types
  1231: types.NUMERIC,
  1115: types.TIMESTAMP,
  1185: types.TIMESTAMPTZ,
  1187: types.INTERVAL,
  1182: types.DATE,
};

export type RowMode = 'object' | 'array';

/** A statement's answer, as PGlite's `Results`. */
export interface DbResults<T = Record<string, any>> {
  rows: T[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}

export interface DbThreadOptions {
  /** The data directory's PostgreSQL folder, or null for a database in memory. */
  dataDir: string | null;
}

export interface EmbeddedClientOptions extends DbThreadOptions {
  /** Told once if the thread stops without close() (its memory exhausted, PGlite aborted): every call then fails with DB_UNAVAILABLE. */
  onStopped?: (err: Error) => void;
}

/**
 * `usual`: every type parsed as PGlite usually parses it; otherwise as Drizzle's driver expects them
 * (timestamps, dates, intervals and numeric arrays as text). `tx`: a statement of that open transaction.
 */
export type DbRequest =
  | { id: number; op: 'query'; text: string; params: unknown[]; rowMode?: RowMode; usual: boolean; tx?: number }
  | { id: number; op: 'exec'; text: string; usual: boolean; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'listen'; channel: string }
  | { id: number; op: 'unlisten'; listen: number }
  | { id: number; op: 'close' };

export type DbReply = { id: number; ok: unknown } | { id: number; error: Record<string, unknown> } | { notify: number; payload: string };

type Request = DbRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Statements of one kind of caller, outside or inside a transaction. Of PGlite's query options only
 * `rowMode` is taken (Drizzle's own `parsers` are what the thread's client does already). A `bytea`
 * comes back as a Uint8Array (postgres.js answers a Buffer, which is one).
 */
export interface DbSession {
  query<T = Record<string, any>>(text: string, params?: readonly unknown[], options?: { rowMode?: RowMode }): Promise<DbResults<T>>;
  exec(text: string): Promise<DbResults[]>;
}

export interface EmbeddedClient {
  /** Every type read as PGlite usually reads it (raw SQL, pg-boss's adapter). */
  usual: DbSession & {
    listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  };
  /** As Drizzle's PGlite driver takes a client: its text types as text, and transactions. */
  drizzle: DbSession & {
    transaction<T>(fn: (tx: DbSession) => Promise<T>): Promise<T>;
  };
  readonly closed: boolean;
  close(): Promise<void>;
}

const ENTRY = new URL('./embedded-db-thread.ts', import.meta.url);

/** Objects a parameter may be: what structured clone carries as it is. */
const PLAIN = new Set<object | null>([Object.prototype, Array.prototype, Date.prototype, null]);

/**
 * A parameter as it is posted: a view over part of an ordinary ArrayBuffer is copied first (posting
 * it would copy the whole buffer), and the copy moved. A view over a SharedArrayBuffer crosses as it is,
 * without a copy: its caller awaits the statement before it touches those bytes again. An instance of
 * a class is refused: a copy would lose its prototype (a `toString` or `toJSON` that PGlite would have
 * used on this thread), so it is the caller's to turn into text first.
 */
function postable(params: readonly unknown[], transfer: ArrayBuffer[]): unknown[] {
  return params.map((p, i) => {
    if (p === null || typeof p !== 'object') return p;
    if (!ArrayBuffer.isView(p)) {
      if (PLAIN.has(Object.getPrototypeOf(p))) return p;
      throw new TypeError(`parameter $${i + 1} is a ${p.constructor?.name ?? 'object'}: pass it as text, a number, a plain object or an array`);
    }
    if (p.buffer instanceof SharedArrayBuffer) return p;
    if (p.byteOffset === 0 && p.byteLength === p.buffer.byteLength) return p;
    const copy = new Uint8Array(p.byteLength);
    copy.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    transfer.push(copy.buffer);
    return copy;
  });
}

/** A failed statement's error, with the fields the thread sent (code, detail, constraint, …). */
function rebuild({ message, ...fields }: Record<string, unknown>): Error {
  return Object.assign(new Error(String(message ?? 'the embedded database failed')), fields);
}

/** What every call fails with once the thread has stopped: answered 503 (platform/errors.ts). */
const unavailable = (message: string, cause?: unknown) => Object.assign(new Error(message, { cause }), { code: 'DB_UNAVAILABLE' });

export async function openEmbeddedClient({ onStopped, ...options }: EmbeddedClientOptions): Promise<EmbeddedClient> {
  // A small young generation: V8 grew the thread's to ~67 MB under event ingestion (about 110 MB more
  // RSS under load than with 12 MB, at the same events/s; bench/events.ts, 2026-12-04).
  // V8 compiles hot WebAssembly again with its optimizing compiler in background tasks, as many at once
  // as it likes: for PGlite's module that peaked at ~550 MB of RSS a few seconds after every start. One
  // task at a time, set before the thread compiles PGlite (the flag is the process's): the same
  // events/s, 60–110 MB less idle RSS and a lifetime peak 60–160 MB lower (bench/events.ts,
  // docs/architecture.md). It costs only how soon the optimized code arrives.
  v8.setFlagsFromString('--wasm-num-compilation-tasks=1');
  // The thread takes the process's Node flags, but not --input-type, which a script run with `node -e`
  // can have and which makes a thread refuse its file (bench/crud.ts opens the database so). Only then
  // are they listed: a list is checked flag by flag, and some a process gets (the test runner's) are refused.
  const execArgv = process.execArgv.some((a) => a.startsWith('--input-type')) ? process.execArgv.filter((a) => !a.startsWith('--input-type')) : undefined;
  const worker = new Worker(ENTRY, { workerData: options, execArgv, resourceLimits: { maxYoungGenerationSizeMb: 12 } });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const notified = new Map<number, (payload: string) => void>();
  let nextId = 1;
  let stopped: Error | null = null;

  // The thread keeps the process alive only while a call waits on it (as a socket with a query in
  // flight would): an idle client, like PGlite itself, holds nothing open.
  const settle = (id: number) => {
    const p = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return p;
  };
  worker.on('message', (m: DbReply) => {
    if ('notify' in m) return notified.get(m.notify)?.(m.payload);
    const p = settle(m.id);
    if ('error' in m) p?.reject(rebuild(m.error));
    else p?.resolve(m.ok);
  });
  let started = false;
  let closing: Promise<void> | null = null;
  const fail = (err: Error) => {
    if (!stopped) {
      stopped = err;
      if (started && !closing) onStopped?.(err);
    }
    for (const id of [...pending.keys()]) settle(id)?.reject(stopped);
  };
  worker.on('error', (err) => fail(unavailable(`the embedded database's thread failed: ${err.message}`, err)));
  worker.on('exit', (code) => fail(unavailable(`the embedded database's thread stopped (exit code ${code})`)));

  const call = <T>(request: Request, transfer: ArrayBuffer[] = []): Promise<T> => {
    if (stopped) return Promise.reject(stopped);
    if (closing && request.op !== 'close') return Promise.reject(unavailable('the embedded database is closing'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      // Throws on a value that cannot be posted (a function, say): then nothing waits on the thread.
      worker.postMessage({ ...request, id }, transfer);
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
    });
  };

  // The thread's first message says whether PGlite started.
  await new Promise<void>((resolve, reject) => {
    worker.ref();
    pending.set(0, { resolve, reject });
  });
  started = true;

  /**
   * A call whose failure carries its caller's stack: the error was made where the thread's answer is
   * read, so its own stack names only that; captured again here, inside the awaiting function, V8 adds
   * the async frames that led to the call (nothing is captured when the call succeeds).
   */
  const traced = async <T>(request: Request, transfer?: ArrayBuffer[]): Promise<T> => {
    try {
      return await call<T>(request, transfer);
    } catch (err) {
      if (err instanceof Error) Error.captureStackTrace(err);
      throw err;
    }
  };

  const session = (usual: boolean, tx?: number): DbSession => ({
    query: async (text, params = [], o) => {
      const transfer: ArrayBuffer[] = [];
      return traced({ op: 'query', text, params: postable(params, transfer), rowMode: o?.rowMode, usual, tx }, transfer);
    },
    exec: (text) => traced({ op: 'exec', text, usual, tx }),
  });

  const drizzleSession = session(false);
  return {
    usual: {
      ...session(true),
      async listen(channel, onPayload) {
        // A subscription is known by the id of the call that made it.
        const id = nextId;
        notified.set(id, onPayload);
        try {
          await call({ op: 'listen', channel });
        } catch (err) {
          notified.delete(id);
          throw err;
        }
        return async () => {
          notified.delete(id);
          await call({ op: 'unlisten', listen: id });
        };
      },
    },
    drizzle: {
      ...drizzleSession,
      async transaction(fn) {
        // A transaction is known by the id of the call that began it; it has begun once that answers.
        const tx = nextId;
        await call({ op: 'begin' });
        let result: Awaited<ReturnType<typeof fn>>;
        try {
          result = await fn(session(false, tx));
        } catch (err) {
          await call({ op: 'end', tx, commit: false }).catch(() => {});
          throw err;
        }
        await call({ op: 'end', tx, commit: true });
        return result;
      },
    },
    get closed() {
      return stopped !== null;
    },
    close() {
      closing ??= (async () => {
        if (stopped) return;
        try {
          await call({ op: 'close' });
        } finally {
          stopped ??= unavailable('the embedded database is closed');
          await worker.terminate();
        }
      })();
      return closing;
    },
  };
}
