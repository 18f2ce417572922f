// Seed 004's use cases: stores and products with the ownership rule (admins and services act on
// every row; a user on their own stores and the products in them, anyone else's being 404), product
// views counted exactly, prices converted by a cached rate, and the facts the recommendations module
// consumes, published in the same transaction as the rows they describe (docs/commerce.md).
import { actsForAnyone, type Principal } from '../../platform/access.ts';
import { AppError } from '../../platform/errors.ts';
import type { Tx } from '../../platform/jobs/jobs.ts';
import type { Clock } from '../../platform/time.ts';
import { BASE_CURRENCY, convertPrice, defaultStoreName, parsePrice, parseQuantity } from './commerce.domain.ts';
import type { CommerceRepository, ProductRow, ProductValues, StoreRow } from './commerce.repository.ts';
import type { CreateProduct, CreateStore, ListProductsQuery, ListStoresQuery, PatchProduct, PatchStore, PopularQuery, Product, Store } from './commerce.schemas.ts';
import type { CurrencyRates } from './currency.ts';
import { COMMERCE_FACTS, type ProductFact, type ProductViewedFact } from './commerce.facts.ts';

export interface FactPublisher {
  publish<P extends object>(event: string, payload: P, opts?: { tx?: Tx }): Promise<void>;
}

/** The display name of an account (its email), by users.id; '' for a deleted account. */
export type OwnerNames = (ids: number[]) => Promise<Map<number, string>>;

const STORE_404 = 'No Store matches the given query.';
const PRODUCT_404 = 'No Product matches the given query.';
const NOT_OWNER = 'Only store owners or Admins can add product to store.';
const NO_STORE = 'No store available for this user. Admins must provide a store explicitly.';

/** The account a principal acts as (service secrets have none). */
function userIdOf(p: Principal): number {
  if (p.kind === 'service') throw new AppError('FORBIDDEN', 'this action needs a signed-in user or an API key, not the service secret');
  return p.userId;
}

/** null: the caller acts on every store; else the users.id whose stores they may see and change. */
const scopeOf = (p: Principal): number | null => (actsForAnyone(p) ? null : userIdOf(p));

export type CommerceService = ReturnType<typeof createCommerceService>;

export function createCommerceService(deps: { repo: CommerceRepository; facts: FactPublisher; currency: CurrencyRates; ownerNames: OwnerNames; clock: Clock }) {
  const { repo, facts, currency, ownerNames, clock } = deps;

  const toStore = (s: StoreRow, names: Map<number, string>): Store => ({
    id: s.id,
    name: s.name,
    owner: names.get(s.owner_id) ?? '',
    owner_id: s.owner_id,
    created_at: s.created_at,
    updated_at: s.updated_at,
  });

  const toProduct = (p: ProductRow, names: Map<number, string>, conv: { currency: string; rate: string }): Product => ({
    id: p.id,
    name: p.name,
    description: p.description,
    price: p.price,
    quantity: p.quantity,
    category: p.category,
    store: p.store_id,
    views_count: p.views_count,
    converted_price: conv.rate === '1' ? p.price : convertPrice(p.price, conv.rate),
    currency: conv.currency,
    owner: names.get(p.owner_id) ?? '',
    created_at: p.created_at,
    updated_at: p.updated_at,
  });

  const stores = async (rows: StoreRow[]) => {
    const names = await ownerNames([...new Set(rows.map((r) => r.owner_id))]);
    return rows.map((r) => toStore(r, names));
  };
  const productsOut = async (rows: ProductRow[], conv: { currency: string; rate: string }) => {
    const names = await ownerNames([...new Set(rows.map((r) => r.owner_id))]);
    return rows.map((r) => toProduct(r, names, conv));
  };
  const rateFor = (raw: string | undefined) => (raw === undefined ? Promise.resolve({ currency: BASE_CURRENCY, rate: '1' }) : currency.rate(raw));

  const productFact = (p: Omit<ProductRow, 'owner_id'>, ownerId: number): ProductFact => ({
    product_id: p.id,
    name: p.name,
    category: p.category,
    price: p.price,
    description: p.description,
    store_id: p.store_id,
    owner_id: ownerId,
    occurred_at: clock.now().toISOString(),
  });

  /** The store a product goes in: a named one the caller may use (403 otherwise), else the caller's newest. */
  async function targetStore(tx: Tx, storeId: number | string | null | undefined, p: Principal): Promise<StoreRow> {
    if (storeId !== undefined && storeId !== null) {
      const store = await repo.findStore(Number(storeId), null, tx);
      if (!store) throw new AppError('VALIDATION_ERROR', `store_id: store ${Number(storeId)} does not exist`);
      if (!actsForAnyone(p) && store.owner_id !== userIdOf(p)) throw new AppError('FORBIDDEN', NOT_OWNER);
      return store;
    }
    const own = p.kind === 'service' ? null : await repo.newestStoreOf(p.userId, tx);
    if (!own) throw new AppError('VALIDATION_ERROR', NO_STORE);
    return own;
  }

  function productValues(body: PatchProduct, current: ProductValues | null): ProductValues {
    return {
      name: body.name ?? current?.name ?? '',
      description: body.description ?? current?.description ?? '',
      price: body.price !== undefined ? parsePrice(body.price) : current!.price,
      quantity: body.quantity !== undefined ? parseQuantity(body.quantity) : (current?.quantity ?? 0),
      category: body.category ?? current?.category ?? '',
    };
  }

  return {
    /** The store every non-admin account gets, made inside the account's own insert transaction. */
    async createDefaultStore(tx: Tx, account: { id: number; email: string | null; role: string }): Promise<void> {
      if (account.role === 'admin' || !account.email) return;
      await repo.createStore(defaultStoreName(account.email), account.id, tx);
    },

    async listStores(q: ListStoresQuery, p: Principal) {
      const page = await repo.listStores(scopeOf(p), q);
      return { rows: await stores(page.rows), total: page.total };
    },

    async getStore(id: number, p: Principal): Promise<Store> {
      const s = await repo.findStore(id, scopeOf(p));
      if (!s) throw new AppError('NOT_FOUND', STORE_404);
      return (await stores([s]))[0];
    },

    async createStore(body: CreateStore, p: Principal): Promise<Store> {
      const s = await repo.createStore(body.name, userIdOf(p));
      return (await stores([s]))[0];
    },

    async updateStore(id: number, body: PatchStore, p: Principal): Promise<Store> {
      const s = await repo.updateStore(id, scopeOf(p), body.name);
      if (!s) throw new AppError('NOT_FOUND', STORE_404);
      return (await stores([s]))[0];
    },

    /** Deletes the store and its products; each product's deletion is published as a fact. */
    async deleteStore(id: number, p: Principal): Promise<{ detail: string }> {
      const scope = scopeOf(p);
      const done = await repo.transaction(async (tx) => {
        const gone = await repo.deleteStore(tx, id, scope);
        if (gone) for (const prod of gone.products) await facts.publish(COMMERCE_FACTS.productDeleted, productFact(prod, gone.store.owner_id), { tx });
        return gone;
      });
      if (!done) throw new AppError('NOT_FOUND', STORE_404);
      return { detail: 'Store deleted successfully.' };
    },

    async listProducts(q: ListProductsQuery, p: Principal) {
      const conv = await rateFor(q.currency);
      const filter = {
        category: q.category,
        store: q.store,
        minPrice: q.min_price !== undefined ? parsePrice(q.min_price, 'min_price') : undefined,
        maxPrice: q.max_price !== undefined ? parsePrice(q.max_price, 'max_price') : undefined,
        q: q.q,
      };
      const page = await repo.listProducts(scopeOf(p), filter, q);
      return { rows: await productsOut(page.rows, conv), total: page.total };
    },

    async mostPopular(q: PopularQuery) {
      const conv = await rateFor(q.currency);
      const rows = await repo.mostPopular({ category: q.category }, q);
      return { rows: await productsOut(rows, conv), total: null };
    },

    /**
     * A product page: views_count + 1 and the viewer recorded; the user's first view of the product
     * publishes product.viewed in the same transaction. Any signed-in user may view any product.
     */
    async viewProduct(id: number, q: { currency?: string }, p: Principal): Promise<Product> {
      const conv = await rateFor(q.currency);
      const userId = userIdOf(p);
      const viewed = await repo.transaction(async (tx) => {
        const v = await repo.view(tx, id, userId);
        if (v?.first) {
          const fact: ProductViewedFact = { product_id: id, user_id: userId, name: v.product.name, category: v.product.category, viewed_at: clock.now().toISOString() };
          await facts.publish(COMMERCE_FACTS.productViewed, fact, { tx });
        }
        return v;
      });
      if (!viewed) throw new AppError('NOT_FOUND', PRODUCT_404);
      return (await productsOut([viewed.product], conv))[0];
    },

    async createProduct(body: CreateProduct, p: Principal): Promise<Product> {
      const values = productValues(body, null);
      const row = await repo.transaction(async (tx) => {
        const store = await targetStore(tx, body.store_id, p);
        const created = await repo.createProduct(tx, store.id, values);
        await facts.publish(COMMERCE_FACTS.productCreated, productFact(created, store.owner_id), { tx });
        return { ...created, owner_id: store.owner_id };
      });
      return (await productsOut([row], { currency: BASE_CURRENCY, rate: '1' }))[0];
    },

    /** PUT (body has every required field) and PATCH (some fields). */
    async updateProduct(id: number, body: PatchProduct, p: Principal): Promise<Product> {
      const scope = scopeOf(p);
      const row = await repo.transaction(async (tx) => {
        const current = await repo.lockProduct(tx, id, scope);
        if (!current) throw new AppError('NOT_FOUND', PRODUCT_404);
        const values = productValues(body, current);
        const store = body.store_id !== undefined && body.store_id !== null && Number(body.store_id) !== current.store_id ? await targetStore(tx, body.store_id, p) : null;
        const updated = await repo.updateProduct(tx, id, store?.id ?? current.store_id, values);
        const ownerId = store?.owner_id ?? current.owner_id;
        await facts.publish(COMMERCE_FACTS.productUpdated, productFact(updated, ownerId), { tx });
        return { ...updated, owner_id: ownerId };
      });
      return (await productsOut([row], { currency: BASE_CURRENCY, rate: '1' }))[0];
    },

    async deleteProduct(id: number, p: Principal): Promise<{ detail: string }> {
      const scope = scopeOf(p);
      await repo.transaction(async (tx) => {
        const current = await repo.lockProduct(tx, id, scope);
        if (!current) throw new AppError('NOT_FOUND', PRODUCT_404);
        await repo.deleteProduct(tx, id);
        await facts.publish(COMMERCE_FACTS.productDeleted, productFact(current, current.owner_id), { tx });
      });
      return { detail: 'Product deleted successfully.' };
    },
  };
}

/**
 * Owner emails through the users service (commerce never reads the users table), remembered for a
 * few seconds and forgotten at once when this process changes the user.
 */
export function createOwnerNames(users: {
  findById(id: number): Promise<{ email: string | null; username: string | null; user_id: string } | null>;
  onUserChanged(listener: (id: number) => void): void;
}, clock: Clock, ttlMs = 5000): OwnerNames {
  const cache = new Map<number, { name: string; at: number }>();
  users.onUserChanged((id) => cache.delete(id));
  return async (ids) => {
    const now = clock.now().getTime();
    const out = new Map<number, string>();
    const missing: number[] = [];
    for (const id of ids) {
      const hit = cache.get(id);
      if (hit && now - hit.at < ttlMs) out.set(id, hit.name);
      else missing.push(id);
    }
    const found = await Promise.all(missing.map((id) => users.findById(id)));
    if (cache.size > 10_000) cache.clear();
    missing.forEach((id, i) => {
      const u = found[i];
      const name = u ? (u.email ?? u.username ?? u.user_id) : '';
      out.set(id, name);
      if (u) cache.set(id, { name, at: now });
    });
    return out;
  };
}
