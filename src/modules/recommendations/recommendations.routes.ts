// Seed 004's recommendation service, served with and without the `/ai` prefix (the main service
// posted to /ai/products and /ai/interactions): the two recommendation endpoints are public, the rest
// need the Client-Header-Secret header (or an admin or service credential). Then Arbiter's own
// routes: on-demand builds, model versions, the bandit's choices over time and the offline evaluation (admin).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../../platform/access.ts';
import { sendPage } from '../../platform/pagination.ts';
import { ErrorResponse } from '../../platform/schemas.ts';
import {
  CategoryQuerySchema,
  ChoicesQuerySchema,
  ChoicesSchema,
  EvaluationSchema,
  InteractionSchema,
  ListInteractionsQuerySchema,
  ListProductsQuerySchema,
  ProductSchema,
  RecommendationQuerySchema,
  RecommendationSchema,
  SavedInteractionSchema,
  SavedProductSchema,
  SaveInteractionSchema,
  SaveProductSchema,
  TrainResponseSchema,
  VersionSchema,
  VersionsQuerySchema,
} from './recommendations.schemas.ts';
import type { RecommendationsService, Served } from './recommendations.service.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse };
const BASE = '/api/v1/recommendations';

/** The body is the seed's bare array; which strategy and version answered go in headers. */
function served(reply: FastifyReply, s: Served) {
  reply.header('x-recommendation-strategy', s.strategy);
  if (s.version !== null) reply.header('x-model-version', String(s.version));
  if (s.decision !== null) reply.header('x-recommendation-decision', String(s.decision));
  return s.items;
}

export function registerRecommendationsRoutes(fastify: FastifyInstance, service: RecommendationsService): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  for (const prefix of ['', '/ai']) {
    const tags = ['recommendations'];
    const op = (name: string) => (prefix ? `ai_${name}` : name);
    const also = prefix ? ' (the /ai alias)' : '';

    app.get(`${prefix}/interaction-recommendations`, {
      config: { access: 'public' },
      schema: {
        tags,
        summary: `Products similar by user interactions (item KNN)${also}`,
        description:
          'Up to 5 nearest products by cosine similarity of their interaction counts (6 neighbours minus the product). A product without interactions gets its category\'s popular products. With `user_id` (and a credential acting for that user) the user\'s products are excluded and the strategy bandit chooses the strategy (header `X-Recommendation-Strategy`).',
        operationId: op('interaction_recommendations'),
        querystring: RecommendationQuerySchema,
        response: { 200: Type.Array(RecommendationSchema), ...errors },
      },
      handler: async (req, reply) => served(reply, await service.interactionRecommendations(req.query, req.headers)),
    });

    app.get(`${prefix}/category-recommendations`, {
      config: { access: 'public' },
      schema: {
        tags,
        summary: `Products of the category's k-means cluster${also}`,
        description: 'Every product whose category falls in the query category\'s cluster (TF-IDF + k-means), most similar category first. A category with no known word gets popular products.',
        operationId: op('category_recommendations'),
        querystring: CategoryQuerySchema,
        response: { 200: Type.Array(RecommendationSchema), ...errors },
      },
      handler: async (req, reply) => served(reply, await service.categoryRecommendations(req.query, req.headers)),
    });

    app.post(`${prefix}/interactions`, {
      config: { access: 'service', idempotent: true },
      schema: { tags, summary: `Save a user interaction${also}`, operationId: op('save_interaction'), body: SaveInteractionSchema, response: { 201: SavedInteractionSchema, ...errors } },
      handler: async (req, reply) => {
        const b = req.body;
        reply.status(201);
        return service.saveInteraction({ user_id: String(b.user_id), product_id: String(b.product_id), category: b.category });
      },
    });

    app.get(`${prefix}/interactions`, {
      config: { access: 'service' },
      schema: { tags, summary: `List user interactions, latest first${also}`, operationId: op('list_interactions'), querystring: ListInteractionsQuerySchema, response: { 200: Type.Object({ interactions: Type.Array(InteractionSchema) }), ...errors } },
      handler: async (req, reply) => ({ interactions: sendPage(reply, await service.listInteractions(req.query)) }),
    });

    app.post(`${prefix}/products`, {
      config: { access: 'service', idempotent: true },
      schema: { tags, summary: `Save (or update) a product of the catalogue${also}`, operationId: op('save_product'), body: SaveProductSchema, response: { 201: SavedProductSchema, ...errors } },
      handler: async (req, reply) => {
        const b = req.body;
        reply.status(201);
        return service.saveProduct({ product_id: String(b.product_id), product_name: b.product_name, category: b.category });
      },
    });

    app.get(`${prefix}/products`, {
      config: { access: 'service' },
      schema: { tags, summary: `List the catalogue, newest first${also}`, operationId: op('list_catalogue'), querystring: ListProductsQuerySchema, response: { 200: Type.Object({ products: Type.Array(ProductSchema) }), ...errors } },
      handler: async (req, reply) => ({ products: sendPage(reply, await service.listProducts(req.query)) }),
    });
  }

  const tags = ['recommendations'];
  app.post(`${BASE}/train`, {
    config: { access: 'admin' },
    schema: { tags, summary: 'Build new model versions now (a job; GET /api/v1/jobs/{id} follows it)', operationId: 'train_recommendations', response: { 202: TrainResponseSchema, ...errors } },
    handler: async (req, reply) => {
      reply.status(202);
      return service.requestTraining(callerOf(req));
    },
  });

  app.get(`${BASE}/versions`, {
    config: { access: 'admin' },
    schema: { tags, summary: 'Model versions, newest first, with their training time and data counts', operationId: 'list_recommendation_versions', querystring: VersionsQuerySchema, response: { 200: Type.Array(VersionSchema), ...errors } },
    handler: async (req, reply) => sendPage(reply, await service.versions(req.query)),
  });

  app.get(`${BASE}/choices`, {
    config: { access: 'admin' },
    schema: {
      tags,
      summary: "The strategy bandit's choices over time: counts per strategy per bucket, mean probability and reward",
      description:
        'Every personalised request (`user_id`) logs the strategy the bandit chose and its probability; this groups that log by UTC minute, hour or day and strategy. A choice is rewarded when the user then interacts with a product it recommended, and settled (reward 0) when the reward window passes without one. At most 2,000 buckets per answer.',
      operationId: 'list_recommendation_choices',
      querystring: ChoicesQuerySchema,
      response: { 200: ChoicesSchema, ...errors },
    },
    handler: async (req) => service.choices(req.query),
  });

  app.get(`${BASE}/evaluation`, {
    config: { access: 'admin' },
    schema: {
      tags,
      summary: 'Leave-last-out precision, recall, NDCG@10 and coverage per strategy, and the bandit\'s off-policy values',
      operationId: 'evaluate_recommendations',
      response: { 200: EvaluationSchema, ...errors },
    },
    handler: async () => service.evaluation(),
  });
}
