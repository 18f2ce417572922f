// Live alerts: a bus that carries each committed event's alerts to every server process, and the
// Server-Sent Events endpoint that streams them. Transports, picked at start:
// - Redis pub/sub when REDIS_URL is set (published by the process after the statement commits);
// - PostgreSQL LISTEN/NOTIFY otherwise, published by the process after the statement commits, the
//   alerts of one event-loop tick batched into one pg_notify;
// - an in-process emitter on embedded PGlite, which serves a single process anyway.
import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import type { Alert } from './events.schemas.ts';
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
export async function createPostgresAlertBus(client: Sql, log: { warn(o: object, m: string): void }): Promise<AlertBus> {
  let deliver: (r: IngestResult) => void = () => {};
  const sub = await client.listen(PG_CHANNEL, (payload) => {
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
    inFlight = Promise.all(chunks.map((c) => client`select pg_notify(${PG_CHANNEL}, ${c})`)).catch((err: unknown) => log.warn({ err }, 'could not publish alerts'));
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
      await sub.unlisten().catch(() => {});
    },
  );
  deliver = made.deliver;
  return made.bus;
}

export async function createRedisAlertBus(url: string, channel: string, log: { warn(o: object, m: string): void }): Promise<AlertBus> {
  const pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await Promise.all([pub.connect(), sub.connect()]);
  await sub.subscribe(channel);
  const made = emitterBus(
    'redis',
    false,
    (r) => {
      if (!r.alerts.length) return;
      pub.publish(channel, JSON.stringify(r)).catch((err: unknown) => log.warn({ err }, 'could not publish alerts to Redis'));
    },
    async () => {
      sub.disconnect();
      await pub.quit().catch(() => {});
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

/**
 * Serves GET /api/alerts/stream: one `event: alert` per alert (id = alert id, data = the alert as
 * JSON), optionally only one user's or one code's, and a comment line every `heartbeatMs` so proxies
 * keep the connection. `closeAll` ends every open stream (the app calls it before closing).
 */
export function createAlertStreams(bus: AlertBus, opts: { heartbeatMs: number }) {
  const open = new Set<() => void>();
  return {
    handle(req: FastifyRequest, reply: FastifyReply, filter: { user_id?: number; code?: number }): void {
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
        if (filter.user_id !== undefined && a.user_id !== filter.user_id) return;
        if (filter.code !== undefined && a.code !== filter.code) return;
        res.write(`id: ${a.id}\nevent: alert\ndata: ${JSON.stringify(a)}\n\n`);
      });
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), opts.heartbeatMs);
      heartbeat.unref();
      const close = () => {
        if (!open.delete(close)) return;
        clearInterval(heartbeat);
        unsubscribe();
        if (!res.writableEnded) res.end();
      };
      open.add(close);
      req.raw.on('close', close);
      res.on('close', close);
      res.on('error', close);
    },
    closeAll(): void {
      for (const close of [...open]) close();
    },
    get size(): number {
      return open.size;
    },
  };
}
