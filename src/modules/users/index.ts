// The users module owns the one users table every module shares: seed 002's /users profile routes
// today, credentials and roles for auth. Other modules reach users through its service.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../platform/db.ts';
import { createCrudRepository, registerCrudRoutes } from '../../platform/crud.ts';
import { createUsersService } from './users.service.ts';
import { userProfileSpec } from './users.schemas.ts';

export function registerUsersModule(app: FastifyInstance, deps: { database: Database }) {
  const profiles = createCrudRepository(deps.database.db, userProfileSpec);
  registerCrudRoutes(app, profiles, userProfileSpec);
  return createUsersService({ db: deps.database.db });
}
export type { UsersService } from './users.service.ts';
