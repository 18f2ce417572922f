// Queries of the commerce tables. `owner` arguments are users.id values: null means any owner
// (admins and services), a number limits the query to that user's stores.
import { and, count, desc, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../platform/db.ts';
import type { Tx } from '../../platform/jobs/jobs.ts';
import { offsetOf, type PageQuery } from '../../platform/pagination.ts';
import { productViews, products, stores } from './commerce.tables.ts';

export interface StoreRow {
  id: number;
  name: string;
  owner_id: number;
  created_at: Date;
  updated_at: Date;
}

export interface ProductRow {
  id: number;
  store_id: number;
  owner_id: number;
  name: string;
  description: string;
  price: string;
  quantity: number;
  category: string;
  views_count: number;
  created_at: Date;
  updated_at: Date;
}

export interface ProductValues {
  name: string;
  description: string;
  price: string;
  quantity: number;
  category: string;
}

export interface ProductFilter {
  category?: string;
  store?: number;
  minPrice?: string;
  maxPrice?: string;
  q?: string;
}

type Q = Db | Tx;

const productColumns = {
  id: products.id,
  store_id: products.store_id,
  owner_id: stores.owner_id,
  name: products.name,
  description: products.description,
  price: products.price,
  quantity: products.quantity,
  category: products.category,
  views_count: products.views_count,
  created_at: products.created_at,
  updated_at: products.updated_at,
};
const ownProductCols = { ...productColumns, owner_id: sql<number>`0` };
const storeColumns = { id: stores.id, name: stores.name, owner_id: stores.owner_id, created_at: stores.created_at, updated_at: stores.updated_at };

const ownedBy = (owner: number | null) => (owner === null ? undefined : eq(stores.owner_id, owner));
const searchVector = sql`to_tsvector('english', ${products.name} || ' ' || ${products.description})`;

function productWhere(owner: number | null, f: ProductFilter): SQL | undefined {
  return and(
    ownedBy(owner),
    f.category !== undefined ? eq(sql`lower(${products.category})`, f.category.toLowerCase()) : undefined,
    f.store !== undefined ? eq(products.store_id, f.store) : undefined,
    f.minPrice !== undefined ? gte(products.price, f.minPrice) : undefined,
    f.maxPrice !== undefined ? lte(products.price, f.maxPrice) : undefined,
    f.q !== undefined ? sql`${searchVector} @@ websearch_to_tsquery('english', ${f.q})` : undefined,
  );
}

export type CommerceRepository = ReturnType<typeof createCommerceRepository>;

export function createCommerceRepository(db: Db) {
  return {
    transaction: <T>(work: (tx: Tx) => Promise<T>): Promise<T> => db.transaction(work),

    async createStore(name: string, ownerId: number, q: Q = db): Promise<StoreRow> {
      const rows = await q.insert(stores).values({ name, owner_id: ownerId }).returning(storeColumns);
      return rows[0];
    },

    async findStore(id: number, owner: number | null, q: Q = db): Promise<StoreRow | null> {
      const rows = await q.select(storeColumns).from(stores).where(and(eq(stores.id, id), ownedBy(owner))).limit(1);
      return rows[0] ?? null;
    },

    /** The owner's newest store: where a product without store_id goes. */
    async newestStoreOf(ownerId: number, q: Q = db): Promise<StoreRow | null> {
      const rows = await q.select(storeColumns).from(stores).where(eq(stores.owner_id, ownerId)).orderBy(desc(stores.id)).limit(1);
      return rows[0] ?? null;
    },

    async listStores(owner: number | null, page: PageQuery): Promise<{ rows: StoreRow[]; total: number }> {
      const where = ownedBy(owner);
      const [rows, totals] = await Promise.all([
        db.select(storeColumns).from(stores).where(where).orderBy(desc(stores.id)).limit(page.size).offset(offsetOf(page)),
        db.select({ total: count() }).from(stores).where(where),
      ]);
      return { rows, total: totals[0].total };
    },

    async updateStore(id: number, owner: number | null, name: string | undefined): Promise<StoreRow | null> {
      const rows = await db
        .update(stores)
        .set({ ...(name !== undefined ? { name } : {}), updated_at: sql`now()` })
        .where(and(eq(stores.id, id), ownedBy(owner)))
        .returning(storeColumns);
      return rows[0] ?? null;
    },

    /** Deletes a store and its products (returned, so the service can publish their deletion). */
    async deleteStore(tx: Tx, id: number, owner: number | null): Promise<{ store: StoreRow; products: ProductRow[] } | null> {
      const store = (await tx.select(storeColumns).from(stores).where(and(eq(stores.id, id), ownedBy(owner))).for('update').limit(1))[0];
      if (!store) return null;
      const gone = await tx.delete(products).where(eq(products.store_id, id)).returning(ownProductCols);
      await tx.delete(stores).where(eq(stores.id, id));
      return { store, products: gone.map((p) => ({ ...p, owner_id: store.owner_id })) };
    },

    async findProduct(id: number, owner: number | null, q: Q = db): Promise<ProductRow | null> {
      const rows = await q
        .select(productColumns)
        .from(products)
        .innerJoin(stores, eq(stores.id, products.store_id))
        .where(and(eq(products.id, id), ownedBy(owner)))
        .limit(1);
      return rows[0] ?? null;
    },

    async listProducts(owner: number | null, f: ProductFilter, page: PageQuery): Promise<{ rows: ProductRow[]; total: number }> {
      const where = productWhere(owner, f);
      const [rows, totals] = await Promise.all([
        db.select(productColumns).from(products).innerJoin(stores, eq(stores.id, products.store_id)).where(where).orderBy(desc(products.id)).limit(page.size).offset(offsetOf(page)),
        db.select({ total: count() }).from(products).innerJoin(stores, eq(stores.id, products.store_id)).where(where),
      ]);
      return { rows, total: totals[0].total };
    },

    /** Every product by views_count, most viewed first (ties: newest first); not counted, so it stays cheap. */
    async mostPopular(f: { category?: string }, page: PageQuery): Promise<ProductRow[]> {
      return db
        .select(productColumns)
        .from(products)
        .innerJoin(stores, eq(stores.id, products.store_id))
        .where(f.category !== undefined ? eq(sql`lower(${products.category})`, f.category.toLowerCase()) : undefined)
        .orderBy(sql`${products.views_count} desc nulls last`, sql`${products.id} desc nulls last`)
        .limit(page.size)
        .offset(offsetOf(page));
    },

    async createProduct(tx: Tx, storeId: number, v: ProductValues): Promise<Omit<ProductRow, 'owner_id'>> {
      const rows = await tx.insert(products).values({ ...v, store_id: storeId }).returning(ownProductCols);
      return rows[0];
    },

    /** Locks the product (owner-limited) for a change in this transaction. */
    async lockProduct(tx: Tx, id: number, owner: number | null): Promise<ProductRow | null> {
      const rows = await tx
        .select(productColumns)
        .from(products)
        .innerJoin(stores, eq(stores.id, products.store_id))
        .where(and(eq(products.id, id), ownedBy(owner)))
        .for('update', { of: products })
        .limit(1);
      return rows[0] ?? null;
    },

    async updateProduct(tx: Tx, id: number, storeId: number, v: ProductValues): Promise<Omit<ProductRow, 'owner_id'>> {
      const rows = await tx
        .update(products)
        .set({ ...v, store_id: storeId, updated_at: sql`now()` })
        .where(eq(products.id, id))
        .returning(ownProductCols);
      return rows[0];
    },

    async deleteProduct(tx: Tx, id: number): Promise<void> {
      await tx.delete(products).where(eq(products.id, id));
    },

    /**
     * One view: views_count + 1 (the row lock makes concurrent views add up exactly) and the viewer
     * recorded; `first` when this is the user's first view of the product. Null for an unknown product.
     */
    async view(tx: Tx, id: number, userId: number): Promise<{ product: ProductRow; first: boolean } | null> {
      const rows = await tx
        .update(products)
        .set({ views_count: sql`${products.views_count} + 1` })
        .from(stores)
        .where(and(eq(products.id, id), eq(stores.id, products.store_id)))
        .returning(productColumns);
      if (!rows[0]) return null;
      const inserted = await tx.insert(productViews).values({ product_id: id, user_id: userId }).onConflictDoNothing().returning({ id: productViews.product_id });
      return { product: rows[0], first: inserted.length > 0 };
    },

    async viewers(productId: number): Promise<number[]> {
      const rows = await db.select({ user_id: productViews.user_id }).from(productViews).where(eq(productViews.product_id, productId)).orderBy(productViews.first_viewed_at);
      return rows.map((r) => r.user_id);
    },
  };
}
