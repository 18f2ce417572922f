// Seed 004's shop: stores (every non-admin account gets one as it registers), products, exactly
// counted product views, and prices converted to any currency through a cached provider. Product
// changes and first views are published as facts for the recommendations module (docs/commerce.md).
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/db.ts';
import type { Redis } from '../../platform/redis.ts';
import type { Clock } from '../../platform/time.ts';
import type { UsersService } from '../users/users.service.ts';
import { parseRatesFile } from './commerce.domain.ts';
import { createCommerceRepository } from './commerce.repository.ts';
import { registerCommerceRoutes } from './commerce.routes.ts';
import { createCommerceService, createOwnerNames, type FactPublisher } from './commerce.service.ts';
import { createCurrencyRates, createDbCurrencyCache, createRedisCurrencyCache } from './currency.ts';

export interface CommerceModuleDeps {
  database: Database;
  config: Pick<Config, 'currencyApiUrl' | 'currencyApiKey' | 'currencyRatesFile' | 'currencyTimeoutMs' | 'redisPrefix'>;
  users: Pick<UsersService, 'findById' | 'onUserChanged' | 'onAccountCreated'>;
  facts: FactPublisher;
  redis: Redis | null;
  clock: Clock;
  /** Serve the routes (MODULES); the sign-up store is made either way. */
  routes: boolean;
  /** The provider's HTTP client (tests); default global fetch. */
  fetch?: typeof fetch;
}

function loadRates(file: string | null): Record<string, string> | null {
  if (!file) return null;
  try {
    return parseRatesFile(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new Error(`CURRENCY_RATES_FILE ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export function registerCommerceModule(app: FastifyInstance, deps: CommerceModuleDeps) {
  const { config } = deps;
  const currency = createCurrencyRates({
    config: { apiUrl: config.currencyApiUrl, apiKey: config.currencyApiKey, fixedRates: loadRates(config.currencyRatesFile), timeoutMs: config.currencyTimeoutMs },
    cache: deps.redis ? createRedisCurrencyCache(deps.redis, config.redisPrefix) : createDbCurrencyCache(deps.database.db),
    clock: deps.clock,
    log: app.log,
    fetch: deps.fetch,
  });
  const service = createCommerceService({
    repo: createCommerceRepository(deps.database.db),
    facts: deps.facts,
    currency,
    ownerNames: createOwnerNames(deps.users, deps.clock),
    clock: deps.clock,
  });
  // The store is made inside the account's insert transaction: present when register answers, and
  // never an account without it.
  deps.users.onAccountCreated((account, tx) => service.createDefaultStore(tx, account));
  if (deps.routes) registerCommerceRoutes(app, service);
  return { service };
}
