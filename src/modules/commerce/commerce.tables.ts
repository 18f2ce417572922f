import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/columns.ts';

// Seed 004's stores, products and product views. The owner and viewer columns hold users.id; their
// foreign keys to users (ON DELETE CASCADE) are in the hand-written migration commerce_sql, so this
// module never imports the users module's tables.

/** A vendor's store. Every non-admin account gets one as it registers ("<email local part> Store"). */
export const stores = pgTable(
  'stores',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    name: text('name').notNull(),
    owner_id: bigint('owner_id', { mode: 'number' }).notNull(),
    ...timestamps,
  },
  (t) => [
    // A user's stores, newest first (the list, and the default store of a new product).
    index('stores_owner_id_idx').on(t.owner_id, t.id),
  ],
);

/** A product of a store. Money is numeric(14,2), never a float. */
export const products = pgTable(
  'products',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    store_id: bigint('store_id', { mode: 'number' })
      .notNull()
      .references(() => stores.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    price: numeric('price', { precision: 14, scale: 2 }).notNull(),
    quantity: integer('quantity').notNull().default(0),
    category: text('category').notNull().default(''),
    views_count: bigint('views_count', { mode: 'number' }).notNull().default(0),
    ...timestamps,
  },
  (t) => [
    index('products_store_id_idx').on(t.store_id, t.id),
    index('products_views_idx').on(t.views_count.desc(), t.id.desc()),
    index('products_category_idx').on(sql`lower(${t.category})`, t.id),
    // `q`: full-text search over name and description.
    index('products_search_idx').using('gin', sql`to_tsvector('english', ${t.name} || ' ' || ${t.description})`),
    check('products_price_check', sql`${t.price} >= 0`),
    check('products_quantity_check', sql`${t.quantity} >= 0`),
    check('products_views_check', sql`${t.views_count} >= 0`),
  ],
);

/** Who viewed which product: one row per (product, user), the first view's time. */
export const productViews = pgTable(
  'product_views',
  {
    product_id: bigint('product_id', { mode: 'number' })
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    user_id: bigint('user_id', { mode: 'number' }).notNull(),
    first_viewed_at: timestamp('first_viewed_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.product_id, t.user_id] }), index('product_views_user_idx').on(t.user_id)],
);

/**
 * The currency cache when there is no Redis, so every process shares one: the provider's currency
 * list and its rates, with the time they were fetched (an expired entry still serves when the
 * provider is down).
 */
export const currencyCache = pgTable('currency_cache', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  fetched_at: timestamp('fetched_at', { withTimezone: true, mode: 'date' }).notNull(),
});
