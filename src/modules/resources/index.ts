// Seed 002's CRUD backend: recordings, algos, sessions and the event log, served by the generic
// CRUD factory. (Its /users routes belong to the users module, which owns the shared users table.)
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../platform/db.ts';
import { createCrudRepository, registerCrudRoutes } from '../../platform/crud.ts';
import { resourceSpecs } from './resources.schemas.ts';

export function registerResourcesModule(app: FastifyInstance, deps: { database: Database }): void {
  for (const spec of resourceSpecs) registerCrudRoutes(app, createCrudRepository(deps.database.db, spec), spec);
}
