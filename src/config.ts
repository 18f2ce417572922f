// The only module that reads process.env: one validated, typed configuration.
import path from 'node:path';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://… to use a PostgreSQL server; unset = embedded PGlite in dataDir. */
  databaseUrl: string | null;
  /** Embedded only: keep the database in memory (tests, throwaway runs). */
  memoryDb: boolean;
  dbPoolSize: number;
  /** PostgreSQL: how long opening a connection may take before the attempt fails (DB_CONNECT_TIMEOUT_MS). */
  dbConnectTimeoutMs: number;
  /** PostgreSQL: the server cancels a statement that runs longer (statement_timeout; DB_STATEMENT_TIMEOUT_MS). */
  dbStatementTimeoutMs: number;
  /** PostgreSQL: how long a transaction may wait for a pool connection before its request answers 503 (DB_POOL_WAIT_MS). */
  dbPoolWaitMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimit: number;
  shutdownTimeoutMs: number;
  /**
   * Whose X-Forwarded-For to believe: false (no one), a hop count, the proxies' addresses or CIDRs, or
   * true (every hop: then any client can choose the address that rate limits and known addresses see).
   */
  trustProxy: boolean | number | string[];
  /** Optional Redis: token denylist, rate limits, pub/sub, queues. */
  redisUrl: string | null;
  /** Prefix of every Redis key Arbiter writes, so deployments can share one Redis. */
  redisPrefix: string;
  /** Seed 001: POST /api/events creates an unknown user instead of answering 404. */
  eventsAutoCreateUsers: boolean;
  /**
   * Seed 001: concurrent POST /api/events batches per process (PostgreSQL only); each lane takes the
   * events of a fixed share of users, and holds a pool connection while its batch runs.
   */
  eventsIngestLanes: number;
  /** Seed 001's live alert stream: open streams allowed per user and per process. */
  streamsPerUser: number;
  streamsTotal: number;
  /** Connections that have not sent their whole request head by then are closed (slowloris). */
  headersTimeoutMs: number;
  /** Worker threads for model training and search (ML_THREADS); null = every core. */
  mlThreads: number | null;
  /** Seed 000: how long POST /api/v1/update without callback_url waits for its job before answering 202. */
  decisionsSyncUpdateMs: number;
  /** The modules whose routes this process serves (MODULES, comma-separated; default all). */
  modules: ModuleName[];
  /** Seed 004's currency provider, freecurrencyapi-compatible (CURRENCY_API_URL, …/currencies and …/latest). */
  currencyApiUrl: string;
  /** CURRENCY_API_KEY; unset = only USD (other currencies get 400), unless CURRENCY_RATES_FILE is set. */
  currencyApiKey: string | null;
  /** CURRENCY_RATES_FILE: a JSON file of fixed rates ({"EUR": 0.85}) used instead of the provider. */
  currencyRatesFile: string | null;
  /** CURRENCY_TIMEOUT_MS: how long a provider call may take (default 2000). */
  currencyTimeoutMs: number;
  /** Seed 003: a training (synchronous /train, or a models.train job) fails after this long (MODELS_TRAIN_TIMEOUT_S). */
  modelsTrainTimeoutS: number;
  /** Seed 003: fitted models kept in memory per process (MODELS_CACHE_SIZE); others load from the database on use. */
  modelsCacheSize: number;
  /** Seed 003: how long a process trusts its view of the active model before asking the database (MODELS_ACTIVE_REFRESH_MS). */
  modelsActiveRefreshMs: number;
  /** Seed 003: the most rows one /predict batch may hold (PREDICT_MAX_ROWS). */
  predictMaxRows: number;
  /** Seed 003: the largest dataset upload, CSV or JSON, in bytes (DATASET_MAX_BYTES). */
  datasetMaxBytes: number;
  /** Seed 003: bytes of datasets' rows kept in memory per process for later trainings (DATASET_CACHE_BYTES; 0 keeps none). */
  datasetCacheBytes: number;
  /** Seed 004's recommendations: k-means clusters (RECOMMENDATIONS_CLUSTERS, the seed's 5). */
  recommendationsClusters: number;
  /** Item-KNN neighbours including the item itself (RECOMMENDATIONS_NEIGHBORS, the seed's 6). */
  recommendationsNeighbors: number;
  /** k-means++ initialisations per build, best kept (RECOMMENDATIONS_KMEANS_INIT). */
  recommendationsKmeansInit: number;
  /** Seed of the builds and of the strategy bandit's draws (RECOMMENDATIONS_SEED). */
  recommendationsSeed: number;
  /** How often a process looks for a newer ready model version (RECOMMENDATIONS_REFRESH_MS). */
  recommendationsRefreshMs: number;
  /** The strategy bandit for requests with user_id (RECOMMENDATIONS_BANDIT): egreedy, thompson, uniform or off. */
  recommendationsBandit: 'egreedy' | 'thompson' | 'uniform' | 'off';
  /** ε of the egreedy bandit (RECOMMENDATIONS_EPSILON_PCT, in percent). */
  recommendationsEpsilon: number;
  /** How long after a recommendation an interaction still rewards it (RECOMMENDATIONS_REWARD_WINDOW_S). */
  recommendationsRewardWindowS: number;
  jobs: JobsConfig;
  webhooks: WebhooksConfig;
  auth: AuthConfig;
}

export interface JobsConfig {
  /** Job handlers per queue in this process, as a multiple of each queue's concurrency; 0 = HTTP only. */
  workers: number;
  /** How often an idle worker looks for new jobs. */
  pollMs: number;
  /** How often expired and abandoned jobs are failed or retried (pg-boss monitor and supervise). */
  superviseSeconds: number;
  /** How often cron schedules are checked (pg-boss cron monitor, at most 45). */
  cronCheckSeconds: number;
  /** JOB_SCHEDULES: queue=cron pairs separated by ';' (pg-boss schedules, one firing per period). */
  schedules: { queue: string; cron: string }[];
}

export interface WebhooksConfig {
  /** Hosts webhooks may be sent to: names, IP literals, `*.example.com`, or `*` (any public host). */
  allowedHosts: string[];
  timeoutMs: number;
  retryLimit: number;
  /** First retry delay; later ones double (with jitter) up to an hour. */
  retryDelaySeconds: number;
}

export interface AuthConfig {
  /** PRODUCTION=true refuses to start without a strong SECRET_KEY (or JWT keys). */
  production: boolean;
  /** HS256 secret; unset outside production = a random key kept in DATA_DIR/secret.key. */
  secretKey: string | null;
  /** EdDSA or RS256 key pair in PEM (JWT_PRIVATE_KEY / JWT_PUBLIC_KEY); replaces the HS256 secret. */
  jwtPrivateKey: string | null;
  jwtPublicKey: string | null;
  issuer: string;
  audience: string;
  accessTokenMinutes: number;
  refreshTokenDays: number;
  adminEmailDomain: string;
  /** POST /api/v1/auth/admin-signup/ is served (seed 004); off in production unless ADMIN_SIGNUP=open. */
  adminSignupOpen: boolean;
  /** The most a sign-in (a token family) lives, however often it is refreshed. */
  sessionMaxDays: number;
  /** Bootstrap admin created (or whose password is reset) at start. */
  adminEmail: string | null;
  adminPassword: string | null;
  /** Seed 004's shared secret for service routes (header Client-Header-Secret). */
  clientHeaderSecret: string | null;
  /** Without Redis: how often each process pulls revocations made by other processes. */
  revocationSyncMs: number;
  /** How long a process trusts its cached view of a user (role, existence). */
  userCacheMs: number;
  rateLimitWindowSec: number;
  rateLimitPerIp: number;
  rateLimitPerAccount: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The modules whose routes a process can serve (MODULES=…); health, metrics and docs are always served. */
export const MODULE_NAMES = ['users', 'auth', 'resources', 'events', 'jobs', 'commerce', 'models', 'decisions', 'console', 'recommendations'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const v = Number(raw);
  if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** TRUST_PROXY=false | true | 1 (hops) | 10.0.0.1,10.1.0.0/16 (the proxies' addresses). */
function trustProxy(env: Env): boolean | number | string[] {
  const raw = env.TRUST_PROXY?.trim();
  if (!raw) return false;
  if (/^(true|false|yes|no|on|off)$/i.test(raw)) return bool(env, 'TRUST_PROXY', false);
  if (/^\d+$/.test(raw)) return int(env, 'TRUST_PROXY', 0, 0, 100);
  const list = raw.split(',').map((a) => a.trim()).filter(Boolean);
  if (!list.length || !list.every((a) => /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(a))) {
    throw new ConfigError(`TRUST_PROXY must be true, false, a hop count, or a comma-separated list of proxy addresses or CIDRs, got "${raw}"`);
  }
  return list;
}

/** MODULES=events,auth: the named modules' routes only; unknown names are refused. */
function moduleList(env: Env): ModuleName[] {
  const raw = env.MODULES?.trim();
  if (!raw) return [...MODULE_NAMES];
  const names = [...new Set(raw.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean))];
  const unknown = names.filter((n) => !(MODULE_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new ConfigError(`MODULES: unknown module ${unknown.map((n) => `"${n}"`).join(', ')}; the modules are ${MODULE_NAMES.join(', ')}`);
  if (!names.length) throw new ConfigError('MODULES must name at least one module');
  return names as ModuleName[];
}

/** ADMIN_SIGNUP=open|closed; unset = open outside production, closed with PRODUCTION=true. */
function adminSignup(env: Env): boolean {
  const raw = env.ADMIN_SIGNUP?.trim().toLowerCase();
  if (raw === undefined || raw === '') return !bool(env, 'PRODUCTION', false);
  if (raw === 'open' || raw === 'closed') return raw === 'open';
  throw new ConfigError(`ADMIN_SIGNUP must be open or closed, got "${env.ADMIN_SIGNUP}"`);
}

function banditKind(env: Env): Config['recommendationsBandit'] {
  const raw = env.RECOMMENDATIONS_BANDIT?.trim().toLowerCase() || 'egreedy';
  if (raw === 'egreedy' || raw === 'thompson' || raw === 'uniform' || raw === 'off') return raw;
  throw new ConfigError(`RECOMMENDATIONS_BANDIT must be egreedy, thompson, uniform or off, got "${env.RECOMMENDATIONS_BANDIT}"`);
}

/** JOB_SCHEDULES="jobs.prune=17 * * * *;other.queue=0 3 * * *" */
function schedules(env: Env): { queue: string; cron: string }[] {
  const raw = env.JOB_SCHEDULES?.trim();
  if (!raw) return [];
  return raw.split(';').filter((s) => s.trim()).map((item) => {
    const eq = item.indexOf('=');
    const queue = item.slice(0, eq).trim();
    const cron = item.slice(eq + 1).trim();
    if (eq < 1 || !/^[\w.-]{1,100}$/.test(queue) || cron.split(/\s+/).length < 5) {
      throw new ConfigError(`JOB_SCHEDULES must be queue=cron pairs separated by ';' (e.g. "jobs.prune=0 3 * * *"), got "${item.trim()}"`);
    }
    return { queue, cron };
  });
}

/** The recommendations build queue, scheduled by RECOMMENDATIONS_TRAIN_CRON (default every minute; off = none). */
export const RECOMMENDATIONS_TRAIN_QUEUE = 'recommendations.train';

function withRecommendationsSchedule(env: Env, list: { queue: string; cron: string }[]): { queue: string; cron: string }[] {
  if (list.some((s) => s.queue === RECOMMENDATIONS_TRAIN_QUEUE)) return list;
  const raw = env.RECOMMENDATIONS_TRAIN_CRON?.trim() || '* * * * *';
  if (raw.toLowerCase() === 'off') return list;
  if (raw.split(/\s+/).length < 5) throw new ConfigError(`RECOMMENDATIONS_TRAIN_CRON must be a cron expression (e.g. "* * * * *") or off, got "${raw}"`);
  return [...list, { queue: RECOMMENDATIONS_TRAIN_QUEUE, cron: raw }];
}

function hostList(env: Env, name: string): string[] {
  const list = (env[name] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of list) {
    if (!/^(\*|(\*\.)?[a-z0-9.-]+|\[?[0-9a-f:.]+\]?)$/.test(h)) throw new ConfigError(`${name} must be a comma-separated list of host names, IP addresses, *.domain or *, got "${h}"`);
  }
  return list;
}

/** Reads and validates the configuration; `overrides` win over the environment (tests, CLI flags). */
export type ConfigOverrides = Partial<Omit<Config, 'auth' | 'jobs' | 'webhooks'>> & { auth?: Partial<AuthConfig>; jobs?: Partial<JobsConfig>; webhooks?: Partial<WebhooksConfig> };

export function loadConfig(env: Env = process.env, overrides: ConfigOverrides = {}): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const config: Config = {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR?.trim() || './data'),
    databaseUrl,
    memoryDb: bool(env, 'MEMORY_DB', false),
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 200),
    dbConnectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 1000, 100, 60_000),
    dbStatementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 30_000, 100, 3_600_000),
    dbPoolWaitMs: int(env, 'DB_POOL_WAIT_MS', 5000, 10, 600_000),
    logLevel,
    bodyLimit: int(env, 'BODY_LIMIT', 1_048_576, 1024, 1_073_741_824),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    trustProxy: trustProxy(env),
    redisUrl: env.REDIS_URL?.trim() || null,
    redisPrefix: env.REDIS_PREFIX?.trim() || 'arbiter:',
    eventsAutoCreateUsers: bool(env, 'EVENTS_AUTO_CREATE_USERS', false),
    eventsIngestLanes: int(env, 'EVENTS_INGEST_LANES', 1, 1, 64),
    streamsPerUser: int(env, 'STREAMS_PER_USER', 5, 1, 10_000),
    streamsTotal: int(env, 'STREAMS_TOTAL', 1000, 1, 1_000_000),
    headersTimeoutMs: int(env, 'HEADERS_TIMEOUT_MS', 10_000, 1000, 600_000),
    decisionsSyncUpdateMs: int(env, 'DECISIONS_SYNC_UPDATE_MS', 60_000, 100, 3_600_000),
    modules: moduleList(env),
    currencyApiUrl: env.CURRENCY_API_URL?.trim() || 'https://api.freecurrencyapi.com/v1',
    currencyApiKey: env.CURRENCY_API_KEY?.trim() || null,
    currencyRatesFile: env.CURRENCY_RATES_FILE?.trim() ? path.resolve(env.CURRENCY_RATES_FILE.trim()) : null,
    currencyTimeoutMs: int(env, 'CURRENCY_TIMEOUT_MS', 2000, 100, 60_000),
    modelsTrainTimeoutS: int(env, 'MODELS_TRAIN_TIMEOUT_S', 300, 1, 86_400),
    modelsCacheSize: int(env, 'MODELS_CACHE_SIZE', 16, 1, 10_000),
    modelsActiveRefreshMs: int(env, 'MODELS_ACTIVE_REFRESH_MS', 1000, 0, 600_000),
    predictMaxRows: int(env, 'PREDICT_MAX_ROWS', 10_000, 1, 1_000_000),
    datasetMaxBytes: int(env, 'DATASET_MAX_BYTES', 10_485_760, 1024, 1_073_741_824),
    datasetCacheBytes: int(env, 'DATASET_CACHE_BYTES', 67_108_864, 0, 17_179_869_184),
    mlThreads: env.ML_THREADS?.trim() ? int(env, 'ML_THREADS', 1, 1, 1024) : null,
    recommendationsClusters: int(env, 'RECOMMENDATIONS_CLUSTERS', 5, 1, 1000),
    recommendationsNeighbors: int(env, 'RECOMMENDATIONS_NEIGHBORS', 6, 2, 101),
    recommendationsKmeansInit: int(env, 'RECOMMENDATIONS_KMEANS_INIT', 10, 1, 100),
    recommendationsSeed: int(env, 'RECOMMENDATIONS_SEED', 42, 0, 2_147_483_647),
    recommendationsRefreshMs: int(env, 'RECOMMENDATIONS_REFRESH_MS', 1000, 0, 600_000),
    recommendationsBandit: banditKind(env),
    recommendationsEpsilon: int(env, 'RECOMMENDATIONS_EPSILON_PCT', 10, 0, 100) / 100,
    recommendationsRewardWindowS: int(env, 'RECOMMENDATIONS_REWARD_WINDOW_S', 3600, 1, 30 * 86_400),
    jobs: {
      workers: int(env, 'WORKERS', 1, 0, 64),
      pollMs: int(env, 'JOBS_POLL_MS', 1000, 500, 60_000),
      superviseSeconds: int(env, 'JOBS_SUPERVISE_S', 30, 1, 3600),
      cronCheckSeconds: int(env, 'JOBS_CRON_CHECK_S', 30, 1, 45),
      schedules: withRecommendationsSchedule(env, schedules(env)),
    },
    webhooks: {
      allowedHosts: hostList(env, 'WEBHOOK_ALLOWED_HOSTS'),
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      retryLimit: int(env, 'WEBHOOK_RETRY_LIMIT', 8, 0, 50),
      retryDelaySeconds: int(env, 'WEBHOOK_RETRY_DELAY_S', 5, 0, 3600),
    },
    auth: {
      production: bool(env, 'PRODUCTION', false),
      secretKey: env.SECRET_KEY || null,
      jwtPrivateKey: env.JWT_PRIVATE_KEY?.replaceAll('\\n', '\n') || null,
      jwtPublicKey: env.JWT_PUBLIC_KEY?.replaceAll('\\n', '\n') || null,
      issuer: env.JWT_ISSUER?.trim() || 'arbiter',
      audience: env.JWT_AUDIENCE?.trim() || 'arbiter',
      accessTokenMinutes: int(env, 'TOKEN_EXPIRE_IN_MINUTES', 30, 1, 525_600),
      refreshTokenDays: int(env, 'REFRESH_TOKEN_EXPIRE_IN_DAYS', 7, 1, 365),
      adminEmailDomain: env.ADMIN_EMAIL_DOMAIN?.trim() || '@pearmonie.com',
      adminSignupOpen: adminSignup(env),
      sessionMaxDays: int(env, 'SESSION_MAX_DAYS', 30, 1, 3650),
      adminEmail: env.ADMIN_EMAIL?.trim() || null,
      adminPassword: env.ADMIN_PASSWORD || null,
      clientHeaderSecret: env.CLIENT_HEADER_SECRET || null,
      revocationSyncMs: int(env, 'REVOCATION_SYNC_MS', 1000, 50, 60_000),
      userCacheMs: int(env, 'USER_CACHE_MS', 2000, 0, 60_000),
      rateLimitWindowSec: int(env, 'AUTH_RATE_LIMIT_WINDOW_S', 60, 1, 86_400),
      rateLimitPerIp: int(env, 'AUTH_RATE_LIMIT_PER_IP', 30, 1, 1_000_000),
      rateLimitPerAccount: int(env, 'AUTH_RATE_LIMIT_PER_ACCOUNT', 10, 1, 1_000_000),
    },
  };
  if (config.eventsIngestLanes > config.dbPoolSize) {
    throw new ConfigError(`EVENTS_INGEST_LANES (${config.eventsIngestLanes}) must be at most DB_POOL_SIZE (${config.dbPoolSize}): each lane holds a connection while its batch runs`);
  }
  if (!/^https?:\/\/[^\s/]+/.test(config.currencyApiUrl)) throw new ConfigError(`CURRENCY_API_URL must be an http:// or https:// URL, got "${config.currencyApiUrl}"`);
  if (config.redisUrl && !/^rediss?:\/\//.test(config.redisUrl)) throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
  if (Boolean(config.auth.jwtPrivateKey) !== Boolean(config.auth.jwtPublicKey)) {
    throw new ConfigError('JWT_PRIVATE_KEY and JWT_PUBLIC_KEY must be set together');
  }
  if ((config.auth.adminEmail === null) !== (config.auth.adminPassword === null)) {
    throw new ConfigError('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if (config.auth.production && !config.auth.jwtPrivateKey) {
    const k = config.auth.secretKey;
    if (!k) throw new ConfigError('PRODUCTION is set but SECRET_KEY is missing: set a random secret of at least 32 characters');
    if (k.length < 32 || new Set(k).size < 10) throw new ConfigError('PRODUCTION is set and SECRET_KEY is weak: use at least 32 random characters');
  }
  return {
    ...config,
    ...overrides,
    auth: { ...config.auth, ...overrides.auth },
    jobs: { ...config.jobs, ...overrides.jobs },
    webhooks: { ...config.webhooks, ...overrides.webhooks },
  };
}
