// Each route declares who may call it in `config.access`; a route that declares nothing is private
// ('user'). The auth module enforces the policy; this file only records it and documents it in OpenAPI.
import type { FastifyInstance } from 'fastify';

export type Access = 'public' | 'user' | 'owner' | 'admin' | 'service';

export type Principal =
  | { kind: 'user'; userId: number; role: 'user' | 'admin'; jti: string; expiresAt: Date }
  | { kind: 'api_key'; userId: number; role: 'user' | 'admin'; keyId: number; scopes: string[] }
  | { kind: 'service' };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const USER_SECURITY = [{ bearerAuth: [] }, { apiKey: [] }];
const SECURITY: Record<Access, object[]> = {
  public: [],
  user: USER_SECURITY,
  owner: USER_SECURITY,
  admin: USER_SECURITY,
  service: [{ clientHeaderSecret: [] }, ...USER_SECURITY],
};

/** Must run before any route is registered: fills in the default access and the OpenAPI security. */
export function registerAccessPolicy(app: FastifyInstance, publicPrefixes: string[] = ['/docs']): void {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const declared = (route.config as { access?: Access } | undefined)?.access;
    const access: Access = declared ?? (publicPrefixes.some((p) => route.url.startsWith(p)) ? 'public' : 'user');
    route.config = { ...(route.config as object), access } as typeof route.config;
    if (route.schema && !(route.schema as { hide?: boolean }).hide) {
      (route.schema as { security?: object[] }).security = SECURITY[access];
    }
  });
}

export const SECURITY_SCHEMES = {
  bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Authorization: Bearer <token> (or Token <token>); also accepts an API key arb_…' },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'an API key arb_… created by an admin' },
  clientHeaderSecret: { type: 'apiKey', in: 'header', name: 'Client-Header-Secret', description: 'the shared service secret (CLIENT_HEADER_SECRET), service routes only' },
};
