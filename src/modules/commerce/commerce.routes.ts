// Seed 004's store and product routes (Django-style paths; the trailing slash is optional). Reads
// and changes of existing rows are 'owner' (a user's own stores and their products; admins and
// service credentials every one); creating is 'user' (the row belongs to the caller); a product page
// and most-popular are 'user' (any signed-in shopper sees any product).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../../platform/access.ts';
import { sendPage } from '../../platform/pagination.ts';
import { ErrorResponse } from '../../platform/schemas.ts';
import {
  CreateProductSchema,
  CreateStoreSchema,
  CurrencyQuerySchema,
  DetailSchema,
  IdParamsSchema,
  ListProductsQuerySchema,
  ListStoresQuerySchema,
  PatchProductSchema,
  PatchStoreSchema,
  PopularQuerySchema,
  ProductSchema,
  StoreSchema,
} from './commerce.schemas.ts';
import type { CommerceService } from './commerce.service.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse };
const currencyErrors = { ...errors, 503: ErrorResponse };
const STORES = '/api/v1/store';
const PRODUCTS = '/api/v1/store/products';

export function registerCommerceRoutes(fastify: FastifyInstance, service: CommerceService): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['store'];

  app.get(STORES, {
    config: { access: 'owner' },
    schema: { tags, summary: 'List stores, newest first (admins: all; users: their own)', operationId: 'list_stores', querystring: ListStoresQuerySchema, response: { 200: Type.Array(StoreSchema), ...errors } },
    handler: async (req, reply) => sendPage(reply, await service.listStores(req.query, callerOf(req))),
  });

  app.post(STORES, {
    config: { access: 'user', idempotent: true },
    schema: { tags, summary: 'Create a store owned by the caller', operationId: 'create_store', body: CreateStoreSchema, response: { 201: StoreSchema, ...errors } },
    handler: async (req, reply) => {
      const store = await service.createStore(req.body, callerOf(req));
      reply.status(201).header('location', `${STORES}/${store.id}/`);
      return store;
    },
  });

  app.get(`${STORES}/:id`, {
    config: { access: 'owner' },
    schema: { tags, summary: "Get a store (someone else's is 404 unless you are an admin)", operationId: 'get_store', params: IdParamsSchema, response: { 200: StoreSchema, ...errors } },
    handler: async (req) => service.getStore(req.params.id, callerOf(req)),
  });

  app.put(`${STORES}/:id`, {
    config: { access: 'owner' },
    schema: { tags, summary: 'Rename a store (admins may change any; the owner stays)', operationId: 'replace_store', params: IdParamsSchema, body: CreateStoreSchema, response: { 200: StoreSchema, ...errors } },
    handler: async (req) => service.updateStore(req.params.id, req.body, callerOf(req)),
  });

  app.patch(`${STORES}/:id`, {
    config: { access: 'owner' },
    schema: { tags, summary: 'Change some fields of a store', operationId: 'update_store', params: IdParamsSchema, body: PatchStoreSchema, response: { 200: StoreSchema, ...errors } },
    handler: async (req) => service.updateStore(req.params.id, req.body, callerOf(req)),
  });

  app.delete(`${STORES}/:id`, {
    config: { access: 'owner' },
    schema: { tags, summary: 'Delete a store and its products', operationId: 'delete_store', params: IdParamsSchema, response: { 200: DetailSchema, ...errors } },
    handler: async (req) => service.deleteStore(req.params.id, callerOf(req)),
  });

  const ptags = ['products'];
  app.get(PRODUCTS, {
    config: { access: 'owner' },
    schema: {
      tags: ptags,
      summary: 'List products, newest first (admins: all; users: their own stores\'), with filters, full-text q and ?currency',
      operationId: 'list_products',
      querystring: ListProductsQuerySchema,
      response: { 200: Type.Array(ProductSchema), ...currencyErrors },
    },
    handler: async (req, reply) => sendPage(reply, await service.listProducts(req.query, callerOf(req))),
  });

  app.get(`${PRODUCTS}/most-popular`, {
    config: { access: 'user' },
    schema: {
      tags: ptags,
      summary: 'Every product by views_count, most viewed first, with ?currency',
      operationId: 'most_popular_products',
      querystring: PopularQuerySchema,
      response: { 200: Type.Array(ProductSchema), ...currencyErrors },
    },
    handler: async (req, reply) => sendPage(reply, await service.mostPopular(req.query)),
  });

  app.post(PRODUCTS, {
    config: { access: 'user', idempotent: true },
    schema: {
      tags: ptags,
      summary: "Create a product in store_id (yours unless you are an admin) or in your newest store",
      operationId: 'create_product',
      body: CreateProductSchema,
      response: { 201: ProductSchema, ...errors },
    },
    handler: async (req, reply) => {
      const product = await service.createProduct(req.body, callerOf(req));
      reply.status(201).header('location', `${PRODUCTS}/${product.id}/`);
      return product;
    },
  });

  app.get(`${PRODUCTS}/:id`, {
    config: { access: 'user' },
    schema: {
      tags: ptags,
      summary: 'View a product: views_count + 1 and the viewer recorded; the answer has the new count',
      operationId: 'view_product',
      params: IdParamsSchema,
      querystring: CurrencyQuerySchema,
      response: { 200: ProductSchema, ...currencyErrors },
    },
    handler: async (req) => service.viewProduct(req.params.id, req.query, callerOf(req)),
  });

  app.put(`${PRODUCTS}/:id`, {
    config: { access: 'owner' },
    schema: { tags: ptags, summary: "Replace a product (someone else's is 404 unless you are an admin)", operationId: 'replace_product', params: IdParamsSchema, body: CreateProductSchema, response: { 200: ProductSchema, ...errors } },
    handler: async (req) => service.updateProduct(req.params.id, req.body, callerOf(req)),
  });

  app.patch(`${PRODUCTS}/:id`, {
    config: { access: 'owner' },
    schema: { tags: ptags, summary: 'Change some fields of a product', operationId: 'update_product', params: IdParamsSchema, body: PatchProductSchema, response: { 200: ProductSchema, ...errors } },
    handler: async (req) => service.updateProduct(req.params.id, req.body, callerOf(req)),
  });

  app.delete(`${PRODUCTS}/:id`, {
    config: { access: 'owner' },
    schema: { tags: ptags, summary: 'Delete a product', operationId: 'delete_product', params: IdParamsSchema, response: { 200: DetailSchema, ...errors } },
    handler: async (req) => service.deleteProduct(req.params.id, callerOf(req)),
  });
}
