// The web console (issue 18): a UI served at /console that signs in with Arbiter's auth and reads
// everything through the API with the person's own token. See docs/console.md.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../platform/db.ts';
import { loadAssets } from './assets.ts';
import { registerConsoleRoutes } from './console.routes.ts';
import { createConsoleService } from './console.service.ts';

export interface ConsoleModuleDeps {
  database: Pick<Database, 'query'>;
}

export function registerConsoleModule(app: FastifyInstance, deps: ConsoleModuleDeps): void {
  registerConsoleRoutes(app, createConsoleService(deps), loadAssets());
}
