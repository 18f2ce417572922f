// The embedded database's own thread: PGlite (PostgreSQL compiled to WebAssembly) runs here, not on
// the event loop. Every statement is synchronous WebAssembly with synchronous file calls, so on the
// loop's thread a statement of 5–10 ms was a 5–10 ms pause of every request, and the wire-protocol
// buffers PGlite builds for each message were most of the garbage a dataset upload left on the loop's
// heap (docs/architecture.md, "The event loop on the embedded database"). The thread runs at the loop's
// priority: requests wait on it (unlike the job and training threads, platform/jobs/priority.ts).
//
// The loop's side (embedded-db.ts) mirrors each call here as it is made; PGlite's own locks order them
// exactly as they would have been ordered on the loop: a statement outside a transaction waits for
// the open transaction, whose statements are sent with its id.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types, type Results, type Transaction } from '@electric-sql/pglite';
import { DRIZZLE_TEXT_TYPES, type DbRequest, type DbReply, type DbThreadOptions, type RowMode } from './embedded-db.ts';

type Parsers = Record<number, (x: string, typeId?: number) => unknown>;

/**
 * Makes the client parse Drizzle's text types as text itself, and answers the parsers that restore
 * PGlite's usual parsing of them, for the callers that are not Drizzle.
 *
 * A query given its own `parsers` makes PGlite copy its ~320 parsers (one per array type too) into a
 * new object merged with them, every query: ~120 KB of garbage and half the JavaScript time of a point
 * select (220 → 106 µs a query, measured). Drizzle's queries (nearly all of them) go without parsers;
 * the other callers' results are parsed with these afterwards, only in the columns of these types
 * (reparse).
 */
function parseDrizzleTypesAsText(client: PGlite): Parsers {
  const usual: Parsers = {};
  const entries = Object.entries(DRIZZLE_TEXT_TYPES).map(([type, element]) => [Number(type), element] as const);
  for (const [t, element] of entries) if (element === null) usual[t] = client.parsers[t];
  for (const [t, element] of entries) {
    if (element === null) continue;
    // An array type's own parser looks its element's up on the client, which is about to answer text.
    const parseElement = usual[element];
    usual[t] = parseElement ? (x) => types.arrayParser(x, parseElement, t) : client.parsers[t];
  }
  for (const [t] of entries) client.parsers[t] = (x: string) => x;
  return usual;
}

/** A result's values of Drizzle's text types, parsed as PGlite usually parses them. */
function reparse(result: Results, usual: Parsers): Results {
  const fix = result.fields.flatMap((f, i) => (usual[f.dataTypeID] ? [{ key: f.name, i, parse: usual[f.dataTypeID], type: f.dataTypeID }] : []));
  if (fix.length === 0) return result;
  for (const row of result.rows as (Record<string, unknown> | unknown[])[]) {
    for (const { key, i, parse, type } of fix) {
      if (Array.isArray(row)) {
        if (typeof row[i] === 'string') row[i] = parse(row[i] as string, type);
      } else if (typeof row[key] === 'string') row[key] = parse(row[key] as string, type);
    }
  }
  return result;
}

/** PostgreSQL's fields of a failed statement's error: all that crosses back (never its parameters). */
const ERROR_FIELDS = ['name', 'code', 'severity', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine', 'file', 'line', 'query'];

function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> = { message: err.message };
  for (const k of ERROR_FIELDS) {
    const v = (err as unknown as Record<string, unknown>)[k];
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  }
  return out;
}

/** The buffers of a result's bytea values, moved to the loop rather than copied (each has its own: see the parser). */
function byteaBuffers(results: Results[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const r of results) {
    const columns = r.fields.flatMap((f, i) => (f.dataTypeID === types.BYTEA ? [{ key: f.name, i }] : []));
    if (!columns.length) continue;
    for (const row of r.rows as (Record<string, unknown> | unknown[])[]) {
      for (const { key, i } of columns) {
        const v = Array.isArray(row) ? row[i] : row[key];
        if (v instanceof Uint8Array && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.add(v.buffer as ArrayBuffer);
      }
    }
  }
  return [...out];
}

const { dataDir } = workerData as DbThreadOptions;
const port = parentPort!;

/** Posts a reply; one that cannot be posted is answered with why, so no call waits forever. */
function post(m: DbReply, transfer: ArrayBuffer[] = []): void {
  try {
    port.postMessage(m, transfer);
  } catch (err) {
    if ('id' in m) port.postMessage({ id: m.id, error: errorFields(err) });
  }
}

// PostgreSQL zeroes its shared buffers at start, which the process then keeps resident: the default
// 128 MB cost ~130 MB of RSS and ~0.3 s of every start-up. The embedded database's pages also sit in
// the OS page cache (PGlite reads its files through Node), so a miss is a read(), not a disk seek;
// 32 MB measured no slower under load (events, seed 002 create and list, alerts).
//
// PostgreSQL zero-fills each new 16 MB WAL segment before using it. PGlite writes its files
// synchronously and, with no checkpointer process, recycles no segment until max_wal_size forces a
// checkpoint, so every 16 MB of WAL took 60–80 ms zero-filling it. With wal_init_zero off a new
// segment is created at its full size without writing it.
const options = {
  startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB', '-c', 'wal_init_zero=off'],
  // bytea: read through Node's native hex codec (PGlite's own maps every byte through a JavaScript
  // string: a 7 MB dataset took seconds), into memory of its own (a pooled Buffer would carry its
  // whole 8 KB slab to the loop); written as the bytes themselves, which PGlite binds as a binary
  // parameter (a hex string would be scanned char by char for its UTF-8 length).
  parsers: {
    [types.BYTEA]: (hex: string) => {
      const b = Buffer.allocUnsafeSlow((hex.length - 2) >>> 1);
      b.write(hex.slice(2), 'hex');
      return b;
    },
  },
  // (its serializer type says string; its Bind takes any ArrayBuffer view as a binary parameter).
  serializers: { [types.BYTEA]: (b: Uint8Array) => b as unknown as string },
};

let client: PGlite;
let usual: Parsers;
try {
  client = dataDir === null ? new PGlite(options) : new PGlite(dataDir, options);
  await client.waitReady;
  usual = parseDrizzleTypesAsText(client);
  post({ id: 0, ok: null });
} catch (err) {
  post({ id: 0, error: errorFields(err) });
  process.exit(1);
}

/** Open transactions by the id of the call that began them. */
const transactions = new Map<number, { tx: Transaction; end: (commit: boolean) => void; endCall?: number }>();
/** LISTEN subscriptions by the id of the call that made them. */
const listeners = new Map<number, () => Promise<void>>();
const ROLLED_BACK = Symbol('rolled back');

function on(m: Extract<DbRequest, { tx?: number }>): Pick<PGlite, 'query' | 'exec'> | Transaction {
  if (m.tx === undefined) return client;
  const open = transactions.get(m.tx);
  if (!open) throw new Error(`no open transaction ${m.tx}`);
  return open.tx;
}

const shape = (r: Results, m: { usual: boolean }) => (m.usual ? reparse(r, usual) : r);

async function handle(m: DbRequest): Promise<unknown> {
  switch (m.op) {
    case 'query':
      return shape(await on(m).query(m.text, m.params, { rowMode: m.rowMode as RowMode }), m);
    case 'exec':
      return (await on(m).exec(m.text)).map((r) => shape(r, m));
    case 'begin':
      return new Promise((started, fail) => {
        let begun = false;
        client
          .transaction(async (tx) => {
            const ended = new Promise<boolean>((end) => transactions.set(m.id, { tx, end }));
            begun = true;
            started(null);
            if (!(await ended)) throw ROLLED_BACK;
          })
          .then(
            () => answerEnd(m.id, null),
            (err: unknown) => (begun ? answerEnd(m.id, err === ROLLED_BACK ? null : err) : fail(err)),
          );
      });
    case 'end': {
      const open = transactions.get(m.tx);
      if (!open) throw new Error(`no open transaction ${m.tx}`);
      open.endCall = m.id;
      open.end(m.commit);
      return undefined; // answered once the transaction has settled (answerEnd)
    }
    case 'listen': {
      listeners.set(m.id, await client.listen(m.channel, (payload) => post({ notify: m.id, payload })));
      return null;
    }
    case 'unlisten': {
      const stop = listeners.get(m.listen);
      listeners.delete(m.listen);
      await stop?.();
      return null;
    }
    case 'close':
      await client.close();
      return null;
  }
}

function answerEnd(tx: number, err: unknown): void {
  const open = transactions.get(tx);
  transactions.delete(tx);
  if (open?.endCall !== undefined) post(err === null ? { id: open.endCall, ok: null } : { id: open.endCall, error: errorFields(err) });
  endIfTrapped(err);
}

/**
 * PGlite aborted (its WebAssembly trapped): the instance is unusable. The thread ends, and every later
 * call fails as the database being unavailable (embedded-db.ts).
 */
function endIfTrapped(err: unknown): void {
  if (err instanceof Error && err.name === 'RuntimeError') process.exit(1);
}

port.on('message', (m: DbRequest) => {
  handle(m).then(
    (ok) => {
      if (m.op === 'end') return;
      const results = m.op === 'query' ? [ok as Results] : m.op === 'exec' ? (ok as Results[]) : [];
      post({ id: m.id, ok }, byteaBuffers(results));
    },
    (err: unknown) => {
      post({ id: m.id, error: errorFields(err) });
      endIfTrapped(err);
    },
  );
});
