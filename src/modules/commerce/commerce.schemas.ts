// Request and response schemas of seed 004's store and product routes. Bodies are checked for JSON
// types here; price and quantity are checked by the service (commerce.domain.ts) so the message can
// say exactly what is wrong. Fields a client reads back and sends again (id, owner, store,
// views_count, converted_price, timestamps) are accepted and ignored, as Django REST framework does
// with read-only fields.
import { Type, type Static } from 'typebox';
import { PageProps } from '../../platform/pagination.ts';
import { DateTimeOut } from '../../platform/schemas.ts';
import { INTEGER_STRING } from '../../platform/validation.ts';
import { STORE_NAME_MAX } from './commerce.domain.ts';

const MAX_ID = Number.MAX_SAFE_INTEGER;
const ReadOnly = Type.Optional(Type.Unknown({ description: 'read-only: accepted and ignored' }));

export const IdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'the id' }) }, { additionalProperties: false });

const StoreName = Type.String({ minLength: 1, maxLength: STORE_NAME_MAX, description: 'the store name' });

export const CreateStoreSchema = Type.Object({ name: StoreName, id: ReadOnly, owner: ReadOnly }, { additionalProperties: false, title: 'CreateStore' });
export type CreateStore = Static<typeof CreateStoreSchema>;

export const PatchStoreSchema = Type.Object({ name: Type.Optional(StoreName), id: ReadOnly, owner: ReadOnly }, { additionalProperties: false, title: 'PatchStore' });
export type PatchStore = Static<typeof PatchStoreSchema>;

export const StoreSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    owner: Type.String({ description: "the owner's email (seed 004 signs in by email)" }),
    owner_id: Type.Integer({ description: "the owner's account id" }),
    created_at: DateTimeOut(),
    updated_at: DateTimeOut(),
  },
  { title: 'Store' },
);
export type Store = Static<typeof StoreSchema>;

export const ListStoresQuerySchema = Type.Object({ ...PageProps, size: Type.Integer({ ...PageProps.size, default: 100 }) }, { additionalProperties: false });
export type ListStoresQuery = Static<typeof ListStoresQuerySchema>;

const Price = Type.Unsafe<string | number>({
  type: ['string', 'number'],
  description: 'decimal ≥ 0 with at most 2 decimals, as a string ("10.00") or a JSON number',
  examples: ['10.00'],
});
const Quantity = Type.Unsafe<number | string>({ type: ['integer', 'string'], description: 'an integer ≥ 0 (or its string of digits)', examples: [100] });
const StoreRef = Type.Unsafe<number | string | null>({
  type: ['integer', 'string', 'null'],
  minimum: 1,
  maximum: MAX_ID,
  [INTEGER_STRING]: true,
  description: "the store (yours, unless you are an admin); omitted or null = your newest store",
});
const productFields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.String({ maxLength: 10_000 }),
  category: Type.String({ maxLength: 255 }),
};
const readOnlyProduct = { id: ReadOnly, store: ReadOnly, owner: ReadOnly, views_count: ReadOnly, converted_price: ReadOnly, created_at: ReadOnly, updated_at: ReadOnly };

export const CreateProductSchema = Type.Object(
  {
    name: productFields.name,
    description: Type.Optional(productFields.description),
    price: Price,
    quantity: Type.Optional(Quantity),
    category: Type.Optional(productFields.category),
    store_id: Type.Optional(StoreRef),
    ...readOnlyProduct,
  },
  { additionalProperties: false, title: 'CreateProduct' },
);
export type CreateProduct = Static<typeof CreateProductSchema>;

export const PatchProductSchema = Type.Object(
  {
    name: Type.Optional(productFields.name),
    description: Type.Optional(productFields.description),
    price: Type.Optional(Price),
    quantity: Type.Optional(Quantity),
    category: Type.Optional(productFields.category),
    store_id: Type.Optional(StoreRef),
    ...readOnlyProduct,
  },
  { additionalProperties: false, title: 'PatchProduct' },
);
export type PatchProduct = Static<typeof PatchProductSchema>;

export const ProductSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    description: Type.String(),
    price: Type.String({ description: 'USD, two decimals ("10.00")' }),
    quantity: Type.Integer(),
    category: Type.String(),
    store: Type.Integer({ description: 'the store id' }),
    views_count: Type.Integer(),
    converted_price: Type.String({ description: 'price in the requested currency (price × rate, rounded half up to 2 places); equals price without ?currency' }),
    currency: Type.String({ description: 'the currency of converted_price' }),
    owner: Type.String({ description: "the store owner's email" }),
    created_at: DateTimeOut(),
    updated_at: DateTimeOut(),
  },
  { title: 'Product' },
);
export type Product = Static<typeof ProductSchema>;

const Currency = Type.String({ minLength: 1, maxLength: 16, description: 'convert prices to this currency (e.g. EUR); USD is the base' });
export const CurrencyQuerySchema = Type.Object({ currency: Type.Optional(Currency) }, { additionalProperties: false });
export type CurrencyQuery = Static<typeof CurrencyQuerySchema>;

const PriceBound = (d: string) => Type.String({ maxLength: 32, description: `${d} (a decimal such as 9.99)` });
export const ListProductsQuerySchema = Type.Object(
  {
    currency: Type.Optional(Currency),
    category: Type.Optional(Type.String({ maxLength: 255, description: 'products of this category (case-insensitive)' })),
    store: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ID, description: 'products of this store' })),
    min_price: Type.Optional(PriceBound('price ≥ min_price')),
    max_price: Type.Optional(PriceBound('price ≤ max_price')),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'full-text search in name and description' })),
    ...PageProps,
    size: Type.Integer({ ...PageProps.size, default: 100 }),
  },
  { additionalProperties: false },
);
export type ListProductsQuery = Static<typeof ListProductsQuerySchema>;

export const PopularQuerySchema = Type.Object(
  { currency: Type.Optional(Currency), category: ListProductsQuerySchema.properties.category, ...PageProps, size: Type.Integer({ ...PageProps.size, default: 100 }) },
  { additionalProperties: false },
);
export type PopularQuery = Static<typeof PopularQuerySchema>;

export const DetailSchema = Type.Object({ detail: Type.String() }, { title: 'Detail' });
