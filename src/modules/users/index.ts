// The users module owns the one users table every module shares: seed 002's /users profile routes
// (each user reads and changes only their own profile; admins and services anyone's), credentials
// and roles for auth. Other modules reach users through its service.
import type { FastifyInstance } from 'fastify';
import type { Principal } from '../../platform/access.ts';
import type { Database } from '../../platform/db.ts';
import { createCrudRepository, registerCrudRoutes } from '../../platform/crud.ts';
import { createUsersService } from './users.service.ts';
import { userProfileSpec } from './users.schemas.ts';

export function registerUsersModule(app: FastifyInstance, deps: { database: Database; routes: boolean }) {
  const service = createUsersService({ db: deps.database.db });
  const spec = {
    ...userProfileSpec,
    // Deleting an account, by any route, is the users service's: admins only, never their own.
    remove: { access: 'admin' as const, run: (key: unknown, p: Principal) => service.deleteByExternalId(String(key), p.kind === 'service' ? null : p) },
  };
  if (deps.routes) registerCrudRoutes(app, createCrudRepository(deps.database.db, spec), spec);
  return service;
}
export type { UsersService } from './users.service.ts';
