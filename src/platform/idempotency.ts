// Safe retries: a creating route marked `config: { idempotent: true }` accepts an `Idempotency-Key`
// header. The first request with a key (per caller) runs; its answer is stored in the database, and
// every later request with the same key and the same request gets that answer again, without running
// (across processes and restarts, for 24 hours). The same key with a different request is a 422.
// - Concurrent duplicates wait for the first one's answer (up to 10 s, then 409 with Retry-After).
// - A 5xx that certainly changed nothing (a service's own error, a statement refused while the
//   database is known to be down) releases the key, so the retry runs; 2xx and 4xx answers are
//   replayed. When the database itself is what failed, writing the release (or the answer) is retried
//   every 250 ms until it goes through.
// - A first request whose outcome is unknown (its connection was lost mid-statement, an unexpected
//   error, or its process died before answering) holds its key: a retry gets 409 saying so, rather
//   than running a second time.
import { createHash, randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Principal } from './access.ts';
import type { Db } from './db.ts';
import { AppError } from './errors.ts';
import { idempotencyKeys } from './idempotency.tables.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route accepts an Idempotency-Key header (creating routes). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotency?: { caller: string; key: string; owner: string };
  }
}

const KEY = /^[\x21-\x7e]{1,255}$/;
/** How long a duplicate waits for the first request's answer. */
const WAIT_MS = 10_000;
const POLL_MS = 25;
/** A first request still unanswered after this long is taken to have died with its process. */
const ABANDONED_MS = 60_000;
const UNKNOWN =
  'the first request with this Idempotency-Key failed in a way that may have left it applied (its connection to the database was lost, or its server stopped): whether it took effect is unknown; check, then send a new key';
/** Answer headers kept for a replay. */
const KEPT_HEADERS = ['content-type', 'location'];

const callerKey = (p: Principal | null): string => {
  if (!p) return 'anonymous';
  switch (p.kind) {
    case 'user':
      return `user:${p.userId}`;
    case 'api_key':
      return `api_key:${p.keyId}`;
    case 'service':
      return 'service';
    default: {
      const never: never = p;
      return String(never);
    }
  }
};

export function registerIdempotency(app: FastifyInstance, deps: { db: Db }): void {
  const { db } = deps;
  const where = (caller: string, key: string) => and(eq(idempotencyKeys.caller, caller), eq(idempotencyKeys.key, key));
  let purgeAt = 0;

  // Document the header on every route that takes it.
  app.addHook('onRoute', (route) => {
    if (!(route.config as { idempotent?: boolean } | undefined)?.idempotent) return;
    const schema = (route.schema ??= {}) as { headers?: { type?: string; properties?: Record<string, unknown> } };
    schema.headers = {
      type: 'object',
      ...schema.headers,
      properties: {
        ...schema.headers?.properties,
        'idempotency-key': {
          type: 'string',
          minLength: 1,
          maxLength: 255,
          description: 'Makes a retry safe: the same key with the same request within 24 h answers the first answer again without storing anything; with a different request, 422',
        },
      },
    };
  });

  app.addHook('preHandler', async (req, reply) => {
    if (!req.routeOptions.config.idempotent) return;
    const key = req.headers['idempotency-key'];
    if (key === undefined) return;
    if (typeof key !== 'string' || !KEY.test(key)) throw new AppError('VALIDATION_ERROR', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    const caller = callerKey(req.principal);
    const hash = createHash('sha256').update(`${req.method} ${req.url}\n${JSON.stringify(req.body ?? null)}`).digest('hex');
    if (Date.now() > purgeAt) {
      purgeAt = Date.now() + 60_000;
      db.delete(idempotencyKeys).where(sql`${idempotencyKeys.created_at} < now() - interval '24 hours'`).catch(() => {});
    }
    const deadline = Date.now() + WAIT_MS;
    const owner = randomUUID();
    for (;;) {
      // Take the key: new, or older than 24 h. If the answer is lost (the connection went), the row
      // may exist all the same: remove it once the database answers, so it does not hold the key.
      let taken: unknown[];
      try {
        taken = await db
          .insert(idempotencyKeys)
          .values({ caller, key, owner, request_hash: hash })
          .onConflictDoUpdate({
            target: [idempotencyKeys.caller, idempotencyKeys.key],
            set: { owner, request_hash: hash, status: null, headers: null, body: null, created_at: sql`now()` },
            where: sql`${idempotencyKeys.created_at} < now() - interval '24 hours'`,
          })
          .returning({ key: idempotencyKeys.key });
      } catch (err) {
        writeLater(owner, () => db.delete(idempotencyKeys).where(and(where(caller, key), eq(idempotencyKeys.owner, owner))));
        throw err;
      }
      if (taken.length) {
        req.idempotency = { caller, key, owner };
        return;
      }
      const [row] = await db
        .select({ hash: idempotencyKeys.request_hash, status: idempotencyKeys.status, headers: idempotencyKeys.headers, body: idempotencyKeys.body, age: sql<number>`extract(epoch from now() - ${idempotencyKeys.created_at}) * 1000` })
        .from(idempotencyKeys)
        .where(where(caller, key));
      if (!row) continue; // the first request failed and released it: take it
      if (row.hash !== hash) throw new AppError('UNPROCESSABLE', 'this Idempotency-Key was used with a different request (method, path or body); use a new key for a new request');
      if (row.status === 0 || (row.status === null && Number(row.age) > ABANDONED_MS)) throw new AppError('CONFLICT', UNKNOWN);
      if (row.status !== null) {
        reply.headers({ ...row.headers, 'idempotent-replayed': 'true' });
        return reply.status(row.status).send(row.body ?? undefined);
      }
      if (Date.now() > deadline) throw new AppError('CONFLICT', 'a request with this Idempotency-Key is still running; retry shortly', { headers: { 'retry-after': '1' } });
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  });

  // What could not be written about a key because the database itself was failing (releasing it,
  // or recording its answer or unknown outcome) is retried every 250 ms until it goes through; a retry
  // of the request meanwhile waits for it (up to WAIT_MS).
  const unwritten = new Map<string, () => Promise<unknown>>();
  let retrying: NodeJS.Timeout | null = null;
  const writeLater = (owner: string, write: () => Promise<unknown>) => {
    unwritten.set(owner, write);
    retrying ??= setTimeout(async function retry() {
      for (const [id, w] of unwritten) {
        try {
          await w();
          unwritten.delete(id);
        } catch {
          break; // still unreachable: try again shortly
        }
      }
      retrying = unwritten.size ? setTimeout(retry, 250) : null;
      retrying?.unref();
    }, 250);
    retrying.unref();
  };

  // Store the answer before it is sent, so a retry that follows it sees it.
  app.addHook('onSend', async (req, reply, payload) => {
    const held = req.idempotency;
    if (!held) return payload;
    req.idempotency = undefined;
    let write: () => Promise<unknown>;
    if (reply.statusCode >= 500 && !req.outcomeUnknown) {
      write = () => db.delete(idempotencyKeys).where(and(where(held.caller, held.key), eq(idempotencyKeys.owner, held.owner)));
    } else {
      const headers: Record<string, string> = {};
      for (const h of KEPT_HEADERS) {
        const v = reply.getHeader(h);
        if (v !== undefined) headers[h] = String(v);
      }
      // An unknown outcome is kept as status 0: retries are told, and nothing runs twice.
      const status = reply.statusCode >= 500 ? 0 : reply.statusCode;
      const body = status === 0 || payload == null ? null : typeof payload === 'string' ? payload : String(payload);
      write = () => db.update(idempotencyKeys).set({ status, headers, body }).where(and(where(held.caller, held.key), eq(idempotencyKeys.owner, held.owner)));
    }
    await write().catch(() => writeLater(held.owner, write));
    return payload;
  });
}
