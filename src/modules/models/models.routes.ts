// Seed 003's routes (/train, /predict, /status, as the seed's README gives them) and the registry
// and datasets under /api/v1. Any signed-in user or API key; activating and deleting need the
// model's owner or an admin (checked in the service).
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../../platform/access.ts';
import { addChunkedBodyParser } from '../../platform/body-chunks.ts';
import { sendPage } from '../../platform/pagination.ts';
import { registerValidation } from '../../platform/validation.ts';
import { ErrorResponse } from '../../platform/schemas.ts';
import {
  ActivateBodySchema,
  CompareAnswerSchema,
  CompareQuerySchema,
  CreateDatasetJsonSchema,
  CreateDatasetQuerySchema,
  DatasetIdParamsSchema,
  DatasetSchema,
  ListModelsQuerySchema,
  ModelDetailSchema,
  ModelIdParamsSchema,
  ModelSchema,
  PageQuerySchema,
  PredictAnswerSchema,
  PredictBodySchema,
  StatusSchema,
  TrainAcceptedSchema,
  TrainAnswerSchema,
  TrainBodySchema,
  TrainQuerySchema,
  VersionParamsSchema,
  VersionSchema,
} from './models.schemas.ts';
import type { ModelsService } from './models.service.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 413: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse };

export function registerModelsRoutes(fastify: FastifyInstance, service: ModelsService, opts: { datasetMaxBytes: number }): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/train', {
    config: { access: 'user' },
    schema: {
      tags: ['models'],
      summary: 'Train a model with a grid search (seed 003); "async": true answers 202 with a job id',
      description:
        'GridSearchCV over `params` (or `param_grid`): each value a list or a single value. Defaults: iris, 5 stratified folds, accuracy, and the seed\'s grid for the algorithm. Each training adds a version to the model `name` (default the algorithm) and makes it active.',
      operationId: 'train_model',
      body: TrainBodySchema,
      querystring: TrainQuerySchema,
      response: { 200: TrainAnswerSchema, 202: TrainAcceptedSchema, ...errors },
    },
    handler: async (req, reply) => {
      const out = await service.train(req.body, callerOf(req), req.query.async);
      if (out.accepted) reply.status(202).header('location', out.answer.status_url);
      return out.answer;
    },
  });

  app.post('/predict', {
    config: { access: 'user' },
    schema: {
      tags: ['models'],
      summary: "Predict with the caller's active model (seed 003), or with model_id / version",
      operationId: 'predict',
      body: PredictBodySchema,
      response: { 200: PredictAnswerSchema, ...errors },
    },
    handler: async (req) => service.predict(req.body, callerOf(req)),
  });

  app.get('/status', {
    config: { access: 'user' },
    schema: {
      tags: ['models'],
      summary: "The caller's active model: trained or not, algorithm, best parameters, training accuracy (seed 003)",
      operationId: 'model_status',
      response: { 200: StatusSchema, ...errors },
    },
    handler: async (req) => service.status(callerOf(req)),
  });

  app.get('/api/v1/models', {
    config: { access: 'user' },
    schema: { tags: ['models'], summary: 'List models (newest first)', operationId: 'list_models', querystring: ListModelsQuerySchema, response: { 200: Type.Array(ModelSchema), ...errors } },
    handler: async (req, reply) => sendPage(reply, await service.listModels(req.query, callerOf(req))),
  });

  app.get('/api/v1/models/compare', {
    config: { access: 'user' },
    schema: {
      tags: ['models'],
      summary: 'Versions side by side: parameters, cross-validation score, held-out metrics, importances',
      operationId: 'compare_model_versions',
      querystring: CompareQuerySchema,
      response: { 200: CompareAnswerSchema, ...errors },
    },
    handler: async (req) => service.compare(req.query.ids),
  });

  app.get('/api/v1/models/:id', {
    config: { access: 'user' },
    schema: { tags: ['models'], summary: 'Get a model and its active version', operationId: 'get_model', params: ModelIdParamsSchema, response: { 200: ModelDetailSchema, ...errors } },
    handler: async (req) => service.getModel(req.params.id),
  });

  app.get('/api/v1/models/:id/versions', {
    config: { access: 'user' },
    schema: {
      tags: ['models'],
      summary: "List a model's versions (newest first)",
      operationId: 'list_model_versions',
      params: ModelIdParamsSchema,
      querystring: PageQuerySchema,
      response: { 200: Type.Array(VersionSchema), ...errors },
    },
    handler: async (req, reply) => sendPage(reply, await service.listVersions(req.params.id, req.query)),
  });

  app.get('/api/v1/models/:id/versions/:version', {
    config: { access: 'user' },
    schema: {
      tags: ['models'],
      summary: 'Get one version: parameters, cv_results, held-out metrics, importances, dataset hash, seed, timing',
      operationId: 'get_model_version',
      params: VersionParamsSchema,
      response: { 200: VersionSchema, ...errors },
    },
    handler: async (req) => service.getVersion(req.params.id, req.params.version),
  });

  app.post('/api/v1/models/:id/activate', {
    config: { access: 'user' },
    schema: {
      tags: ['models'],
      summary: "Make a version active (rollback); it becomes the model its owner's /predict uses (owner or admin)",
      operationId: 'activate_model_version',
      params: ModelIdParamsSchema,
      body: ActivateBodySchema,
      response: { 200: ModelDetailSchema, ...errors },
    },
    handler: async (req) => service.activate(req.params.id, req.body.version, callerOf(req)),
  });

  app.delete('/api/v1/models/:id', {
    config: { access: 'user' },
    schema: { tags: ['models'], summary: 'Delete a model and its versions (owner or admin)', operationId: 'delete_model', params: ModelIdParamsSchema, response: { 204: Type.Null(), ...errors } },
    handler: async (req, reply) => {
      await service.deleteModel(req.params.id, callerOf(req));
      reply.status(204).send(null);
    },
  });

  app.get('/api/v1/datasets', {
    config: { access: 'user' },
    schema: { tags: ['datasets'], summary: 'List datasets: the shipped ones and your own', operationId: 'list_datasets', querystring: PageQuerySchema, response: { 200: Type.Array(DatasetSchema), ...errors } },
    handler: async (req, reply) => sendPage(reply, await service.listDatasets(req.query, callerOf(req))),
  });

  // Uploads arrive as bytes, CSV or JSON alike, and are decoded, parsed and checked against the body
  // schema together (dataset-upload.ts: on a worker thread unless small), so a large upload never
  // holds the event loop. Their own context: these parsers and the body check apply to this route only.
  app.register(async (uploads) => {
    registerValidation(uploads, { bodies: false });
    uploads.removeContentTypeParser('application/json');
    addChunkedBodyParser(uploads, ['application/json', 'text/csv']);
    uploads.withTypeProvider<TypeBoxTypeProvider>().post('/api/v1/datasets', {
      config: { access: 'user' },
      bodyLimit: opts.datasetMaxBytes,
      schema: {
        tags: ['datasets'],
        summary: 'Upload a dataset: CSV (text/csv, header row; ?name=&label=) or JSON rows; features must be numeric',
        operationId: 'create_dataset',
        querystring: CreateDatasetQuerySchema,
        body: {
          content: {
            'application/json': { schema: CreateDatasetJsonSchema },
            'text/csv': { schema: Type.String({ description: 'CSV with a header row, UTF-8' }) },
          },
        },
        response: { 201: DatasetSchema, ...errors },
      },
      handler: async (req, reply) => {
        const format = (req.headers['content-type'] ?? '').toLowerCase().startsWith('text/csv') ? 'csv' : 'json';
        const chunks = (req.body as Uint8Array[] | undefined) ?? [];
        const created = await service.createDataset(format, chunks, req.query, callerOf(req), randomUUID());
        reply.status(201).header('location', `/api/v1/datasets/${created.id}`);
        return created;
      },
    });
  });

  app.get('/api/v1/datasets/:id', {
    config: { access: 'user' },
    schema: { tags: ['datasets'], summary: 'Get a dataset (features, classes, rows, hash; not the rows themselves)', operationId: 'get_dataset', params: DatasetIdParamsSchema, response: { 200: DatasetSchema, ...errors } },
    handler: async (req) => service.getDataset(req.params.id, callerOf(req)),
  });

  app.delete('/api/v1/datasets/:id', {
    config: { access: 'user' },
    schema: { tags: ['datasets'], summary: 'Delete an uploaded dataset (its owner or an admin); versions trained on it keep its hash', operationId: 'delete_dataset', params: DatasetIdParamsSchema, response: { 204: Type.Null(), ...errors } },
    handler: async (req, reply) => {
      await service.deleteDataset(req.params.id, callerOf(req));
      reply.status(204).send(null);
    },
  });
}
