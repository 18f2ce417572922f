// Currency conversion rates from a freecurrencyapi-compatible provider (GET /currencies and
// GET /latest?base_currency=USD&currencies=XXX, with `apikey`), cached where every process sees the
// same entries: Redis when configured, otherwise the currency_cache table. The currency list is fresh
// for 24 h and a rate for 6 h; an older entry (up to STALE_MAX_MS) still answers when the provider
// fails. With no cached entry a failing provider is a 503: never a silent rate of 1.
import { eq, sql } from 'drizzle-orm';
import type { Clock } from '../../platform/time.ts';
import type { Db } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import type { Redis } from '../../platform/redis.ts';
import { BASE_CURRENCY, invalidCurrency, normalizeCurrency, normalizeRate } from './commerce.domain.ts';
import { currencyCache } from './commerce.tables.ts';

export const LIST_TTL_MS = 24 * 3_600_000;
export const RATE_TTL_MS = 6 * 3_600_000;
/** How long an expired entry is kept to answer while the provider is down. */
export const STALE_MAX_MS = 7 * 86_400_000;

export interface CacheEntry {
  value: unknown;
  fetchedAt: number;
}

/** Where fetched lists and rates are kept, shared by every process. */
export interface CurrencyCache {
  get(key: string): Promise<CacheEntry | null>;
  set(key: string, entry: CacheEntry): Promise<void>;
}

export function createRedisCurrencyCache(redis: Redis, prefix: string): CurrencyCache {
  return {
    async get(key) {
      const raw = await redis.get(`${prefix}currency:${key}`);
      return raw ? (JSON.parse(raw) as CacheEntry) : null;
    },
    async set(key, entry) {
      await redis.set(`${prefix}currency:${key}`, JSON.stringify(entry), 'PX', STALE_MAX_MS);
    },
  };
}

export function createDbCurrencyCache(db: Db): CurrencyCache {
  return {
    async get(key) {
      const rows = await db.select().from(currencyCache).where(eq(currencyCache.key, key)).limit(1);
      return rows[0] ? { value: rows[0].value, fetchedAt: rows[0].fetched_at.getTime() } : null;
    },
    async set(key, entry) {
      const fetched = new Date(entry.fetchedAt);
      await db
        .insert(currencyCache)
        .values({ key, value: entry.value, fetched_at: fetched })
        // A slower process must not replace a newer entry with an older one.
        .onConflictDoUpdate({ target: currencyCache.key, set: { value: entry.value, fetched_at: fetched }, setWhere: sql`${currencyCache.fetched_at} < ${fetched.toISOString()}` });
    },
  };
}

export interface CurrencyConfig {
  /** The provider's base URL (CURRENCY_API_URL), e.g. https://api.freecurrencyapi.com/v1. */
  apiUrl: string;
  /** CURRENCY_API_KEY; without it (and without fixed rates) only USD is served. */
  apiKey: string | null;
  /** CURRENCY_RATES_FILE's rates: when set, the provider is never called. */
  fixedRates: Record<string, string> | null;
  timeoutMs: number;
}

export interface Logger {
  warn(o: object, m?: string): void;
}

export type CurrencyRates = ReturnType<typeof createCurrencyRates>;

class ProviderError extends Error {}

export function createCurrencyRates(deps: { config: CurrencyConfig; cache: CurrencyCache; clock: Clock; log: Logger; fetch?: typeof fetch }) {
  const { config, cache, clock, log } = deps;
  const doFetch = deps.fetch ?? fetch;
  const inflight = new Map<string, Promise<unknown>>();

  async function call(path: string, params: Record<string, string>): Promise<Record<string, unknown>> {
    const url = new URL(`${config.apiUrl.replace(/\/+$/, '')}/${path}`);
    for (const [k, v] of Object.entries({ apikey: config.apiKey ?? '', ...params })) url.searchParams.set(k, v);
    let res: Response;
    try {
      // A redirect is refused: it could point anywhere, and the URL carries the API key.
      res = await doFetch(url, { signal: AbortSignal.timeout(config.timeoutMs), headers: { accept: 'application/json' }, redirect: 'error' });
    } catch (err) {
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${config.timeoutMs} ms` : 'could not be reached';
      throw new ProviderError(`the currency provider ${why}`, { cause: err });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ProviderError(`the currency provider answered HTTP ${res.status}`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new ProviderError('the currency provider answered something that is not JSON', { cause: err });
    }
    const data = (body as { data?: unknown } | null)?.data;
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new ProviderError('the currency provider answered without a "data" object');
    return data as Record<string, unknown>;
  }

  /**
   * The cached value when fresh; else one fetch per key per process at a time (concurrent requests
   * share it), stored for every process; else the stale value; else 503.
   */
  async function cached<T>(key: string, ttlMs: number, what: string, load: () => Promise<T>): Promise<T> {
    // The cache is an optimization: a Redis or database hiccup there is a miss, not a failed request.
    const entry = await cache.get(key).catch((err: unknown) => {
      log.warn({ key, err }, 'currency cache read failed');
      return null;
    });
    const now = clock.now().getTime();
    if (entry && now - entry.fetchedAt < ttlMs) return entry.value as T;
    let pending = inflight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = (async () => {
        const value = await load();
        await cache.set(key, { value, fetchedAt: clock.now().getTime() }).catch((err: unknown) => log.warn({ key, err }, 'currency cache write failed'));
        return value;
      })();
      inflight.set(key, pending);
      void pending.then(
        () => inflight.delete(key),
        () => inflight.delete(key),
      );
    }
    try {
      return await pending;
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (entry && now - entry.fetchedAt < STALE_MAX_MS) {
        log.warn({ key, error: err.message, ageMs: now - entry.fetchedAt }, 'currency provider failed: answering with the cached value');
        return entry.value as T;
      }
      throw new AppError('UNAVAILABLE', `${what} is not available: ${err.message}, and no cached value is held; retry later or ask without currency`, { cause: err, headers: { 'retry-after': '60' } });
    }
  }

  const supported = () =>
    cached<string[]>('list', LIST_TTL_MS, 'the list of currencies', async () => {
      const data = await call('currencies', {});
      const codes = Object.keys(data).map(normalizeCurrency).filter((c): c is string => c !== null);
      if (!codes.length) throw new ProviderError('the currency provider listed no currencies');
      return [...new Set(codes)];
    });

  return {
    /**
     * USD per unit of `raw` as a decimal string ("1" for USD). 400 for a currency the provider (or
     * the rates file) does not list, 503 when it cannot be fetched and none is cached.
     */
    async rate(raw: string): Promise<{ currency: string; rate: string }> {
      const code = normalizeCurrency(raw);
      if (code === BASE_CURRENCY) return { currency: code, rate: '1' };
      if (config.fixedRates) {
        const rate = code ? config.fixedRates[code] : undefined;
        if (!rate) throw invalidCurrency(Object.keys(config.fixedRates));
        return { currency: code!, rate };
      }
      if (!config.apiKey) throw invalidCurrency([BASE_CURRENCY]);
      const list = await supported();
      if (!code || !list.includes(code)) throw invalidCurrency(list);
      const rate = await cached<string>(`rate:${BASE_CURRENCY}:${code}`, RATE_TTL_MS, `the ${code} rate`, async () => {
        const data = await call('latest', { base_currency: BASE_CURRENCY, currencies: code });
        const r = normalizeRate(data[code]);
        if (!r) throw new ProviderError(`the currency provider gave no usable ${code} rate`);
        return r;
      });
      return { currency: code, rate };
    },
  };
}
