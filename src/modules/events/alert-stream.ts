// Live alerts: a bus that carries each committed event's alerts to every server process, and the
// Server-Sent Events endpoint that streams them. Transports, picked at start:
// - Redis pub/sub when REDIS_URL is set (published by the process after the statement commits);
// - PostgreSQL LISTEN/NOTIFY otherwise, published by the process after the statement commits, the
//   alerts of one event-loop tick batched into one pg_notify;
// - an in-process emitter on embedded PGlite, which serves a single process anyway.
import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRedisClient } from '../../platform/redis.ts';
import { callerOf, type Principal } from '../../platform/access.ts';
import type { Database } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import type { Alert } from './events.schemas.ts';
import { ownUserId } from './events.service.ts';
import type { IngestResult } from './events.repository.ts';

export const PG_CHANNEL = 'arbiter_alerts';

export interface AlertBus {
  readonly transport: 'memory' | 'postgres' | 'redis';
  /** True when the database itself publishes (NOTIFY inside events_ingest). */
  readonly publishedByDatabase: boolean;
  /** Called after the event's statement committed; a no-op when the database publishes. */
  publish(result: IngestResult): void;
  subscribe(listener: (alert: Alert) => void): () => void;
  close(): Promise<void>;
}

/** One stored event's alerts in the shape of GET /api/alerts items. */
export function toAlerts(r: IngestResult): Alert[] {
  const createdAt = new Date(r.created_at).toISOString();
  return r.alerts.map((a) => ({
    id: a.id,
    code: a.code,
    rule_id: a.rule_id,
    rule_version: a.rule_version,
    user_id: Number(r.user_id),
    created_at: createdAt,
    event: { id: r.seq, type: r.type, amount: r.amount, time: r.time },
  }));
}

function emitterBus(transport: AlertBus['transport'], publishedByDatabase: boolean, publish: (r: IngestResult) => void, close: () => Promise<void>) {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const deliver = (r: IngestResult) => {
    for (const a of toAlerts(r)) emitter.emit('alert', a);
  };
  const bus: AlertBus = {
    transport,
    publishedByDatabase,
    publish,
    subscribe(listener) {
      emitter.on('alert', listener);
      return () => emitter.off('alert', listener);
    },
    close,
  };
  return { bus, deliver };
}

export function createMemoryAlertBus(): AlertBus {
  const { bus, deliver } = emitterBus('memory', false, (r) => r.alerts.length && deliver(r), async () => {});
  return bus;
}

/**
 * LISTEN/NOTIFY with publishing batched: the alerts of every event committed in the same tick go out
 * in one pg_notify round trip (chunked under PostgreSQL's 8,000-byte payload limit). A NOTIFY inside
 * the event's own transaction would be simpler, but PostgreSQL serializes the commits of notifying
 * transactions, which cost 40% of the throughput when most events alert.
 */
export async function createPostgresAlertBus(database: Pick<Database, 'query' | 'listen'>, log: { warn(o: object, m: string): void }): Promise<AlertBus> {
  let deliver: (r: IngestResult) => void = () => {};
  const unlisten = await database.listen(PG_CHANNEL, (payload) => {
    try {
      for (const r of JSON.parse(payload) as IngestResult[]) deliver(r);
    } catch (err) {
      log.warn({ err }, 'unreadable alert notification');
    }
  });
  let queue: string[] = [];
  let scheduled = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const flush = () => {
    scheduled = false;
    const items = queue;
    queue = [];
    const chunks: string[] = [];
    let current: string[] = [];
    let size = 2;
    for (const item of items) {
      if (current.length && size + item.length + 1 > 7900) {
        chunks.push(`[${current.join(',')}]`);
        current = [];
        size = 2;
      }
      current.push(item);
      size += item.length + 1;
    }
    if (current.length) chunks.push(`[${current.join(',')}]`);
    inFlight = Promise.all(chunks.map((c) => database.query('select pg_notify($1, $2)', [PG_CHANNEL, c]))).catch((err: unknown) => log.warn({ err }, 'could not publish alerts'));
  };
  const made = emitterBus(
    'postgres',
    false,
    (r) => {
      if (!r.alerts.length) return;
      queue.push(JSON.stringify(r));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    async () => {
      if (scheduled) flush();
      await inFlight;
      await unlisten().catch(() => {});
    },
  );
  deliver = made.deliver;
  return made.bus;
}

export async function createRedisAlertBus(url: string, channel: string, log: { warn(o: object, m: string): void; debug(o: object, m: string): void }): Promise<AlertBus> {
  const pub = createRedisClient(url, log);
  const sub = createRedisClient(url, log);
  await Promise.all([pub.connect(), sub.connect()]);
  await sub.subscribe(channel);
  const made = emitterBus(
    'redis',
    false,
    (r) => {
      if (!r.alerts.length) return;
      // Live fan-out only (alerts are stored): while Redis is out, the platform's watch has said so once.
      pub.publish(channel, JSON.stringify(r)).catch((err: unknown) => log.debug({ err }, 'could not publish alerts to Redis'));
    },
    async () => {
      sub.disconnect();
      // quit() fails when the connection is out or unanswered; disconnect() then stops the client's
      // reconnecting, which would otherwise go on after close and keep the process alive.
      await pub.quit().catch(() => pub.disconnect());
    },
  );
  sub.on('message', (ch: string, payload: string) => {
    if (ch !== channel) return;
    try {
      made.deliver(JSON.parse(payload) as IngestResult);
    } catch (err) {
      log.warn({ err }, 'unreadable alert message');
    }
  });
  return made.bus;
}

export interface StreamOptions {
  heartbeatMs: number;
  /** Open streams allowed per caller (a user, an API key, the service secret) and in all. */
  perUser: number;
  total: number;
  /** How often open streams re-check that their credentials still hold (revoked, expired, user changed). */
  checkMs: number;
  /** Whether the caller that opened a stream would still be let in now. */
  stillValid(p: Principal): Promise<boolean>;
}

const callerKey = (p: Principal) => (p.kind === 'service' ? 'service' : p.kind === 'api_key' ? `key:${p.keyId}` : `user:${p.userId}`);

/**
 * Serves GET /api/alerts/stream: one `event: alert` per alert (id = alert id, data = the alert as
 * JSON), only the caller's own unless the caller acts for anyone, optionally one user's or one code's,
 * and a comment line every `heartbeatMs` so proxies keep the connection. A stream ends when its token
 * expires or is revoked, or its user is deleted, deactivated or changes role (checked every
 * `checkMs`). `closeAll` ends every open stream (the app calls it before closing).
 */
export function createAlertStreams(bus: AlertBus, opts: StreamOptions) {
  const open = new Map<() => void, Principal>();
  const perCaller = new Map<string, number>();

  // One timer checks every open stream's credentials; a stream whose caller is no longer let in ends.
  const checker = setInterval(() => {
    for (const [close, principal] of open) {
      opts.stillValid(principal).then(
        (ok) => ok || close(),
        () => {}, // the store did not answer: check again next time rather than drop every stream
      );
    }
  }, opts.checkMs);
  checker.unref();

  return {
    handle(req: FastifyRequest, reply: FastifyReply, filter: { user_id?: number; code?: number }): void {
      const principal = callerOf(req);
      const userId = ownUserId(filter.user_id, principal, 'stream alerts');
      const key = callerKey(principal);
      const mine = perCaller.get(key) ?? 0;
      if (mine >= opts.perUser) throw new AppError('RATE_LIMITED', `too many open alert streams: at most ${opts.perUser} per caller; close one first`);
      if (open.size >= opts.total) throw new AppError('RATE_LIMITED', `too many open alert streams on this server (${opts.total}); try again later`, { headers: { 'retry-after': '30' } });
      perCaller.set(key, mine + 1);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': req.id,
      });
      // The subscription is live before this line is sent: a client that has read it misses nothing.
      res.write(': connected\n\n');
      const unsubscribe = bus.subscribe((a) => {
        if (userId !== undefined && a.user_id !== userId) return;
        if (filter.code !== undefined && a.code !== filter.code) return;
        res.write(`id: ${a.id}\nevent: alert\ndata: ${JSON.stringify(a)}\n\n`);
      });
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), opts.heartbeatMs);
      heartbeat.unref();
      // The stream lives no longer than the token that opened it.
      const expiry = principal.kind === 'user' ? setTimeout(() => close(), Math.max(0, principal.expiresAt.getTime() - Date.now())) : null;
      expiry?.unref();
      const close = () => {
        if (!open.delete(close)) return;
        const left = (perCaller.get(key) ?? 1) - 1;
        if (left > 0) perCaller.set(key, left);
        else perCaller.delete(key);
        clearInterval(heartbeat);
        if (expiry) clearTimeout(expiry);
        unsubscribe();
        if (!res.writableEnded) res.end();
      };
      open.set(close, principal);
      req.raw.on('close', close);
      res.on('close', close);
      res.on('error', close);
    },
    closeAll(): void {
      clearInterval(checker);
      for (const close of [...open.keys()]) close();
    },
    get size(): number {
      return open.size;
    },
  };
}
