// Seed 002's CRUD backend: recordings, algos, sessions and the event log, served by the generic
// CRUD factory. (Its /users routes belong to the users module, which owns the shared users table.)
import { inArray, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Facts } from '../../platform/jobs/facts.ts';
import { algos } from './resources.tables.ts';
import type { Database } from '../../platform/db.ts';
import { createCrudRepository, registerCrudRoutes } from '../../platform/crud.ts';
import { resourceSpecs } from './resources.schemas.ts';

export function registerResourcesModule(app: FastifyInstance, deps: { database: Database }): void {
  for (const spec of resourceSpecs) registerCrudRoutes(app, createCrudRepository(deps.database.db, spec), spec);
}

/**
 * Seed 002's algos list every model version (DESIGN.md): the models module publishes the facts
 * model.version.created ({algo_id, version, location, recording_type}) and model.versions.removed
 * ({algo_ids}), and this keeps the rows, without either module reading the other's tables.
 */
export function consumeModelFacts(deps: { database: Database; facts: Facts }): void {
  const db = deps.database.db;
  deps.facts.consume<{ algo_id: string; version: string; location: string; recording_type: string | null }>('model.version.created', 'resources', async (f) => {
    await db
      .insert(algos)
      .values({ algo_id: f.algo_id, version: f.version, location: f.location, recording_type: f.recording_type })
      .onConflictDoUpdate({ target: algos.algo_id, set: { version: f.version, location: f.location, updated_at: sql`now()` } });
  });
  deps.facts.consume<{ algo_ids: string[] }>('model.versions.removed', 'resources', async (f) => {
    if (f.algo_ids.length) await db.delete(algos).where(inArray(algos.algo_id, f.algo_ids));
  });
}
