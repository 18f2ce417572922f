// The auth module: accounts and credentials on the shared users table, JWT access/refresh tokens
// with revocation that holds across restarts and processes, API keys, the service secret, and the
// enforcement of every route's declared access.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/db.ts';
import { createDbRateLimiter, createRedisRateLimiter, withFallback } from '../../platform/rate-limit.ts';
import type { Redis } from '../../platform/redis.ts';
import type { Clock } from '../../platform/time.ts';
import type { UsersService } from '../users/users.service.ts';
import { createApiKeyRepository } from './api-keys.repository.ts';
import { registerAuthRoutes } from './auth.routes.ts';
import { createAuthService } from './auth.service.ts';
import { createAuthenticator } from './authenticator.ts';
import { createDbRevocationStore, createRedisRevocationStore } from './revocation.ts';
import { createTokenService, loadSigningKeys } from './tokens.ts';

export async function registerAuthModule(
  app: FastifyInstance,
  deps: { database: Database; config: Config; redis: Redis | null; users: UsersService; clock: Clock; routes: boolean },
) {
  const { database, config, redis, users, clock } = deps;
  const keys = loadSigningKeys(config.auth, config.dataDir);
  if (keys.source.startsWith('generated') && database.kind === 'postgres') {
    app.log.warn('SECRET_KEY is not set: tokens are signed with a key kept in DATA_DIR, which other machines do not share');
  }
  const tokens = createTokenService({ keys, config: config.auth, clock });
  const durable = await createDbRevocationStore(database.db, { syncMs: config.auth.revocationSyncMs });
  const revocations = redis ? createRedisRevocationStore(redis, config.redisPrefix, durable) : durable;
  app.addHook('onClose', () => revocations.close());
  const apiKeys = createApiKeyRepository(database.db);
  const authenticator = createAuthenticator({ tokens, revocations, apiKeys, users, config: config.auth });
  // A change or deletion made through the users service, by any route, is seen here at once.
  users.onUserChanged((id) => authenticator.invalidateUser(id));
  const limiter = redis ? withFallback(createRedisRateLimiter(redis, config.redisPrefix), createDbRateLimiter(database.db)) : createDbRateLimiter(database.db);
  const service = createAuthService({ users, tokens, revocations, apiKeys, authenticator, limiter, config: config.auth, log: app.log });
  if (config.auth.adminSignupOpen) {
    app.log.warn(
      `admin signup is open: anyone with an address ending in ${config.auth.adminEmailDomain} can make themselves admin (seed 004). Set ADMIN_SIGNUP=closed${config.auth.production ? '' : ' or PRODUCTION=true'} to close it`,
    );
  }

  // Every matched route: public ones pass; the rest need a principal allowed by their access.
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config?.access;
    if (!req.routeOptions.url || !access || access === 'public') return;
    const principal = await authenticator.resolve(req.headers, access);
    authenticator.authorize(principal, access);
    req.principal = principal;
  });

  if (deps.routes) registerAuthRoutes(app, service);

  if (config.auth.adminEmail && config.auth.adminPassword) {
    const admin = await service.bootstrapAdmin(config.auth.adminEmail, config.auth.adminPassword);
    if (admin) app.log.info({ adminId: admin.id }, 'bootstrap admin ready');
  }
  return { service, authenticator };
}

export type { AuthService } from './auth.service.ts';
