// One OpenAPI document generated from the TypeBox route schemas, and an interactive UI at /docs.
import swagger from '@fastify/swagger';
import scalar from '@scalar/fastify-api-reference';
import type { FastifyInstance } from 'fastify';
import { SECURITY_SCHEMES } from './access.ts';

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Arbiter',
        version,
        description: 'One backend for applications that decide things about their users as events arrive.',
      },
      components: { securitySchemes: SECURITY_SCHEMES as never },
    },
  });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
  await app.register(scalar, {
    routePrefix: '/docs',
    configuration: { url: '/openapi.json', title: 'Arbiter API' },
    logLevel: 'warn',
  });
}
