// One OpenAPI document generated from the TypeBox route schemas, and an interactive UI at /docs.
import swagger from '@fastify/swagger';
import scalar from '@scalar/fastify-api-reference';
import type { FastifyInstance } from 'fastify';
import { SECURITY_SCHEMES } from './access.ts';

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  registerOperationIds(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Arbiter',
        version,
        description: 'One backend for applications that decide things about their users as events arrive.\n\nThe web console is at [/console](/console).',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Relative: the paths hang off whatever host and port served this document.
      servers: [{ url: '/', description: 'the server that serves this document' }],
      components: { securitySchemes: SECURITY_SCHEMES as never },
    },
    transform: ({ schema, url }) => ({ schema: withOptionalDefaults(schema as RouteSchema) as typeof schema, url }),
  });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
  await app.register(scalar, {
    routePrefix: '/docs',
    // The buttons for Scalar's hosted services (Ask AI, Generate MCP, and the developer toolbar's
    // Deploy and Share) cannot work on a self-hosted server: they are hidden.
    configuration: { url: '/openapi.json', title: 'Arbiter API', agent: { disabled: true }, mcp: { disabled: true }, showDeveloperTools: 'never' },
    logLevel: 'warn',
  });
}

type RouteSchema = { querystring?: { required?: string[]; properties?: Record<string, { default?: unknown }> } } | undefined;

/**
 * Query parameters with a default (page, size) are filled in by validation, so a client need not send
 * them: the document must not mark them required, or generated clients demand them.
 */
function withOptionalDefaults(schema: RouteSchema): RouteSchema {
  const qs = schema?.querystring;
  if (!qs?.required) return schema;
  const required = qs.required.filter((k) => qs.properties?.[k]?.default === undefined);
  return { ...schema, querystring: { ...qs, required } };
}

/** A route's operationId when it declares none: its method and path, e.g. `post_api_v1_auth_login`, `get_api_v1_users_by_id`. */
export function operationIdFor(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith(':') ? `by_${segment.slice(1)}` : segment).replace(/[^A-Za-z0-9]+/g, '_'));
  return [method.toLowerCase(), ...words].join('_');
}

/**
 * Must run before any route is registered. Client generators name their methods after operationIds
 * and refuse a document where two operations share one, so every documented route gets one (its
 * method and path when the route names none) and a second route with the same operationId stops
 * the app from starting, naming both routes.
 */
export function registerOperationIds(app: FastifyInstance): void {
  const seen = new Map<string, string>();
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { hide?: boolean; operationId?: string } | undefined;
    const methods = [route.method].flat().filter((m) => m !== 'HEAD');
    // HEAD twins of GET routes are left out of the document, like hidden routes.
    if (schema?.hide || methods.length !== 1) return;
    let operationId = schema?.operationId;
    if (!operationId) {
      operationId = operationIdFor(methods[0]!, route.url);
      // A copy: routes registered in a loop (aliases) may share one schema object.
      route.schema = { ...schema, operationId };
    }
    const where = `${methods[0]} ${route.url}`;
    const other = seen.get(operationId);
    if (other !== undefined) throw new Error(`operationId '${operationId}' is used by both ${other} and ${where}`);
    seen.set(operationId, where);
  });
}
