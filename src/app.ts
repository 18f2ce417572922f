// buildApp(config): the platform first (errors, validation, logging, metrics, OpenAPI), then the modules.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Config, ModuleName } from './config.ts';
import { closeAllPools, setDefaultThreads } from './ml/runtime.ts';
import { registerDecisionsModule } from './modules/decisions/index.ts';
import { createEventLogReader } from './modules/resources/event-log.reader.ts';
import { registerEventsModule } from './modules/events/index.ts';
import { consumeModelFacts, registerResourcesModule } from './modules/resources/index.ts';
import { registerModelsModule } from './modules/models/index.ts';
import { registerUsersModule } from './modules/users/index.ts';
import { registerAlertWebhooksModule } from './modules/alert-webhooks/index.ts';
import { registerJobsModule } from './modules/jobs/index.ts';
import { registerCommerceModule } from './modules/commerce/index.ts';
import { registerConsoleModule } from './modules/console/index.ts';
import { registerRecommendationsModule } from './modules/recommendations/index.ts';
import { createFacts, type Facts } from './platform/jobs/facts.ts';
import { createJobSystem, type QueueSpec } from './platform/jobs/jobs.ts';
import { prepareThreadsForBackgroundWork } from './platform/jobs/priority.ts';
import { createWebhooks } from './platform/webhooks/webhooks.ts';
import { registerAccessPolicy } from './platform/access.ts';
import { registerIdempotency } from './platform/idempotency.ts';
import { registerAuthModule } from './modules/auth/index.ts';
import { openRedis } from './platform/redis.ts';
import { systemClock } from './platform/time.ts';
import { openDatabase, type Database } from './platform/db.ts';
import { errorBody, registerErrorHandling } from './platform/errors.ts';
import { parseJsonBody } from './platform/json-body.ts';
import { serializeError } from './platform/logging.ts';
import { registerHealthRoutes } from './platform/health.routes.ts';
import { registerMetrics } from './platform/metrics.ts';
import { registerOpenApi } from './platform/openapi.ts';
import { registerSerialization, registerValidation } from './platform/validation.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface BuildOptions {
  /** An already open database (tests share one); otherwise one is opened from the config and closed with the app. */
  database?: Database;
  /** Apply migrations before serving (default true). */
  migrate?: boolean;
  /** Extra job queues (tests, embedding). */
  jobQueues?: QueueSpec[];
  /** Extra fact consumers (tests, embedding), declared before the job system starts. */
  factConsumers?: (facts: Facts) => void;
}

export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers["client-header-secret"]', 'req.headers.cookie'],
      // Errors are logged without the SQL parameters and values they carry (see platform/logging.ts).
      serializers: { err: serializeError },
    },
    bodyLimit: config.bodyLimit,
    // A connection that has not sent its whole request head in time is closed (Node's default waits a
    // minute, checked every 30 s), so slow clients cannot hold connections open for free.
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs) },
    // A hop count trusts that many proxies nearest to us (Fastify's types take it as a function).
    trustProxy: typeof config.trustProxy === 'number' ? ((_addr: string, hop: number) => hop < (config.trustProxy as number)) : config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
    // Requests that arrive while the server closes get Arbiter's own 503 (below), not Fastify's.
    return503OnClosing: false,
    // What Fastify refuses before routing (a malformed escape in the path such as %ff) in our shape too.
    frameworkErrors: (error, req, reply) => {
      reply.header('x-request-id', req.id);
      void (reply as FastifyReply).code(400).send(errorBody(error.code === 'FST_ERR_BAD_URL' ? `malformed URL: ${req.url}` : error.message, 'BAD_REQUEST', req.id));
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  // Before any worker thread: V8's helpers yield to the loop as workers do, libuv's pool does not (platform/jobs/priority.ts).
  prepareThreadsForBackgroundWork();
  // One thread budget for every estimator; their worker pools end with the app.
  setDefaultThreads(config.mlThreads);
  app.addHook('onClose', () => closeAllPools());
  const database = opts.database ?? (await openDatabase(config, app.log));
  if (!opts.database) app.addHook('onClose', () => database.close());
  try {
    if (opts.migrate !== false) await database.migrate();
    const opened = config.redisUrl ? await openRedis(config.redisUrl, app.log) : null;
    const redis = opened?.redis ?? null;
    if (opened) {
      app.addHook('onClose', async () => {
        opened.dependency.stop();
        await opened.redis.quit().catch(() => opened.redis.disconnect());
      });
    }
    // What /ready reports and what turns a failure into a 503 while one of them is out.
    const dependencies = [database.dependency, ...(opened ? [opened.dependency] : [])];
    // Shutting down: a request that still arrives (on a kept-alive connection) gets a 503 in Arbiter's
    // shape, and every answer from then on closes its connection, so no client sends its next request
    // into a closing socket.
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onRequest', async (req, reply) => {
      if (!closing) return;
      reply.header('retry-after', '1');
      return reply.status(503).send(errorBody('the server is shutting down; retry on another connection', 'UNAVAILABLE', req.id));
    });
    app.addHook('onSend', async (req, reply) => {
      reply.header('x-request-id', req.id);
      if (closing) reply.header('connection', 'close');
    });
    // JSON only: any other body type is refused with 415 instead of being parsed as a string. An empty
    // JSON body is no body (clients send the header on DELETE); routes that need one still say so.
    // parseJsonBody refuses, with a 400 naming the place, what would crash the server or not be
    // stored as sent (deep nesting, inexact numbers, duplicate keys, NUL, invalid UTF-8). A
    // `__proto__` key is kept as an ordinary own property (JSON.parse never sets a prototype).
    app.removeContentTypeParser(['text/plain', 'application/json']);
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
      let parsed: unknown;
      try {
        parsed = parseJsonBody(body as Buffer);
      } catch (err) {
        return done(err as Error, undefined);
      }
      done(null, parsed);
    });
    registerErrorHandling(app, { dependencies });
    registerValidation(app);
    registerSerialization(app);
    registerAccessPolicy(app);
    registerIdempotency(app, { db: database.db });
    const metrics = registerMetrics(app);
    await registerOpenApi(app, pkg.version);
    registerHealthRoutes(app, { dependencies, metrics });

    // Users and auth always run (every route's access is enforced by auth); MODULES picks whose routes are served.
    const serves = (name: ModuleName) => config.modules.includes(name);
    const users = registerUsersModule(app, { database, routes: serves('users') });
    const auth = await registerAuthModule(app, { database, config, redis, users, clock: systemClock, routes: serves('auth') });
    if (serves('resources')) registerResourcesModule(app, { database });
    // Jobs: modules define their queues and fact consumers, then the system starts (and, unless
    // WORKERS=0, runs the handlers). It stops before the database closes (onClose runs last-in first).
    const jobs = createJobSystem({
      database,
      databaseUrl: config.databaseUrl,
      config: config.jobs,
      log: app.log,
      registry: metrics,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      statementTimeoutMs: config.dbStatementTimeoutMs,
    });
    const facts = createFacts(jobs, app.log);
    const webhooks = createWebhooks({ jobs, db: database.db, config: config.webhooks });
    for (const q of opts.jobQueues ?? []) jobs.define(q);
    opts.factConsumers?.(facts);
    if (serves('jobs')) registerJobsModule(app, { jobs });
    // Commerce's sign-up store hook runs in every process; its routes only where served.
    registerCommerceModule(app, { database, config, users, facts, redis, clock: systemClock, routes: serves('commerce') });
    // Recommendations consume commerce's facts and define their build queue in every process; routes where served.
    registerRecommendationsModule(app, {
      database,
      config,
      jobs,
      facts,
      clock: systemClock,
      resolvePrincipal: async (headers) => {
        const p = await auth.authenticator.resolve(headers, 'owner');
        auth.authenticator.authorize(p, 'owner');
        return p;
      },
      routes: serves('recommendations'),
    });
    // Every process defines the same queues and consumers (facts reach seed 002's algos either way).
    consumeModelFacts({ database, facts });
    await registerModelsModule(app, { database, config, jobs, facts, clock: systemClock, routes: serves('models') });
    // Alert webhooks consume the events module's alerts through facts, so they are served with events.
    if (serves('events')) {
      await registerAlertWebhooksModule(app, { database, webhooks, facts });
      await registerEventsModule(app, { database, config, users, stillValid: auth.authenticator.stillValid, facts, metrics });
    }
    if (serves('decisions')) {
      const decisions = registerDecisionsModule(app, { database, users, jobs, webhooks, clock: systemClock, eventLog: createEventLogReader(database), syncUpdateWaitMs: config.decisionsSyncUpdateMs });
      await decisions.ensureDefaultProblem();
    }
    // The web console at /console (its files, and the draft-rule replay).
    if (serves('console')) registerConsoleModule(app, { database });
    await jobs.start({ work: config.jobs.workers > 0 });
    app.addHook('onClose', () => jobs.stop(Math.max(1000, config.shutdownTimeoutMs - 1500)));
    app.decorate('jobs', jobs);
    await app.ready();
  } catch (err) {
    await app.close();
    throw err;
  }
  return app;
}
