// Seed 001 as a real-time rules engine: deposits and withdrawals are stored and checked against alert
// rules kept as data (the four seed rules by default), one user's events serialized in the database;
// alerts are persisted, read back, and streamed live over SSE across server processes.
import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import type { Config } from '../../config.ts';
import type { Principal } from '../../platform/access.ts';
import type { Database } from '../../platform/db.ts';
import type { Facts } from '../../platform/jobs/facts.ts';
import type { UsersService } from '../users/users.service.ts';
import { createAlertStreams, createMemoryAlertBus, createPostgresAlertBus, createRedisAlertBus, toAlerts, type AlertBus } from './alert-stream.ts';
import { createEventsRepository } from './events.repository.ts';
import { registerEventsRoutes } from './events.routes.ts';
import { createEventsService, type EventsServiceDeps } from './events.service.ts';

/** The most events in one ingest batch (one statement, one transaction). */
export const INGEST_MAX_BATCH = 100;

export interface EventsModuleDeps {
  database: Database;
  config: Pick<Config, 'databaseUrl' | 'eventsAutoCreateUsers' | 'eventsIngestLanes' | 'redisUrl' | 'redisPrefix' | 'streamsPerUser' | 'streamsTotal'>;
  users: UsersService;
  /** Whether a caller let in earlier would still be let in (the auth module's answer); open streams end when not. */
  stillValid(p: Principal): Promise<boolean>;
  /** Heartbeat interval of the SSE stream (default 15 s). */
  heartbeatMs?: number;
  /** How often open streams re-check their credentials (default 2 s). */
  streamCheckMs?: number;
  /** Internal events: every committed batch's alerts are published as the fact `alert.raised`. */
  facts?: Facts;
  /** Where the module's metrics go (the app's /metrics registry). */
  metrics?: Registry;
}

/**
 * The events service's `alertFacts`: the alerts of each committed batch as one fact `alert.raised`
 * ({ alerts: GET /api/alerts items }). While some consumer may want one, it is written inside the
 * batch's transaction; otherwise it is only offered (live listeners, and a consumer that appeared
 * meanwhile) after the commit, which costs no database work when nobody wants it.
 */
function alertFactsOf(facts: Facts, log: FastifyInstance['log']): NonNullable<EventsServiceDeps['alertFacts']> {
  return {
    durable: () => facts.interested('alert.raised'),
    async publish(results, tx) {
      const alerts = results.flatMap((r) => (r?.alerts.length ? toAlerts(r) : []));
      if (!alerts.length) return;
      if (tx) return facts.publish('alert.raised', { alerts }, { tx });
      facts.publish('alert.raised', { alerts }).catch((err: unknown) => log.error({ err }, 'could not publish alert.raised'));
    },
  };
}

async function openBus(app: FastifyInstance, deps: EventsModuleDeps): Promise<AlertBus> {
  const { database, config } = deps;
  // Embedded PGlite serves one process: an in-process emitter reaches every stream.
  if (database.kind === 'embedded') return createMemoryAlertBus();
  if (config.redisUrl) {
    // One channel per database, so servers of different databases sharing a Redis never mix alerts.
    const db = config.databaseUrl ? new URL(config.databaseUrl) : null;
    const channel = `${config.redisPrefix}alerts:${db ? `${db.host}${db.pathname}` : 'embedded'}`;
    return createRedisAlertBus(config.redisUrl, channel, app.log);
  }
  return createPostgresAlertBus(database, app.log);
}

export async function registerEventsModule(app: FastifyInstance, deps: EventsModuleDeps) {
  const bus = await openBus(app, deps);
  const streams = createAlertStreams(bus, {
    heartbeatMs: deps.heartbeatMs ?? 15_000,
    perUser: deps.config.streamsPerUser,
    total: deps.config.streamsTotal,
    checkMs: deps.streamCheckMs ?? 2_000,
    stillValid: deps.stillValid,
  });
  // Open streams would keep the HTTP server from closing: end them first.
  app.addHook('preClose', async () => streams.closeAll());
  app.addHook('onClose', async () => bus.close());
  // Batch sizes show whether batching works under load: tiny batches at high load mean the lane sends
  // before the waiting requests have been read (see docs/architecture.md, "The event loop").
  const batchSize = deps.metrics
    ? new Histogram({ name: 'events_ingest_batch_size', help: 'Events per ingest batch (one statement, one commit)', buckets: [1, 2, 5, 10, 20, 50, 100], registers: [deps.metrics] })
    : null;
  const service = createEventsService({
    repo: createEventsRepository(deps.database),
    bus,
    users: deps.users,
    autoCreateUsers: deps.config.eventsAutoCreateUsers,
    // PGlite runs one statement at a time: more lanes would only queue in it (two lanes, 2026-12-04:
    // half-size batches and 3–6% fewer events/s).
    batching: { lanes: deps.database.kind === 'embedded' ? 1 : deps.config.eventsIngestLanes, maxBatch: INGEST_MAX_BATCH },
    observeBatch: batchSize ? (n) => batchSize.observe(n) : undefined,
    alertFacts: deps.facts ? alertFactsOf(deps.facts, app.log) : undefined,
  });
  registerEventsRoutes(app, service, streams);
  return { service, bus };
}
