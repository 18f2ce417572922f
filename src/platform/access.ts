// Each route declares who may call it in `config.access`; a route that declares nothing is private
// ('user'). The auth module enforces the policy; this file records it, documents it in OpenAPI, and
// holds the one ownership rule (ownScope / assertActsFor) that every module applies to users' rows.
// - public: anyone; user: a signed-in user or a `user` API key; admin: an admin;
// - owner: like user, plus service credentials; rows are then limited to the caller's own user_id
//   unless the caller acts for anyone (admins, service API keys, the service secret);
// - service: the service secret, a `service` API key, or an admin.
import type { FastifyInstance } from 'fastify';
import { AppError } from './errors.ts';

export type Access = 'public' | 'user' | 'owner' | 'admin' | 'service';

/**
 * Who is calling. `userId` is the internal key of the users table, `externalId` its `user_id` (the id
 * seed 001 and 002 rows carry); `family` is the sign-in a token belongs to.
 */
export type Principal =
  | { kind: 'user'; userId: number; externalId: string; role: 'user' | 'admin'; jti: string; family: string; familyExpiresAt: number; version: number; expiresAt: Date }
  | { kind: 'api_key'; userId: number; externalId: string; role: 'user' | 'admin'; keyId: number; scopes: string[] }
  | { kind: 'service' };

/** The caller of a route that is not public (the auth hook has resolved it before the handler runs). */
export function callerOf(req: { principal: Principal | null }): Principal {
  if (!req.principal) throw new AppError('UNAUTHORIZED', 'Not authenticated');
  return req.principal;
}

/** An admin: a signed-in admin, or an admin's API key with the `admin` scope. */
export function isAdmin(p: Principal): boolean {
  return p.kind !== 'service' && p.role === 'admin' && (p.kind === 'user' || p.scopes.includes('admin'));
}

/** Admins, service API keys and the service secret act for any user; everyone else only for themselves. */
export function actsForAnyone(p: Principal): boolean {
  return p.kind === 'service' || isAdmin(p) || (p.kind === 'api_key' && p.scopes.includes('service'));
}

/**
 * The ownership rule every module applies to rows that belong to a user: the external user id the
 * caller is limited to, or null when the caller may act for anyone.
 */
export function ownScope(p: Principal): string | null {
  return actsForAnyone(p) ? null : (p as { externalId: string }).externalId;
}

/** Throws 403 unless the caller may act for the user with this external id. */
export function assertActsFor(p: Principal, userId: string | number, what: string): void {
  const scope = ownScope(p);
  if (scope !== null && scope !== String(userId)) {
    throw new AppError('FORBIDDEN', `you may ${what} only for yourself (user_id ${JSON.stringify(scope)}), not for user_id ${JSON.stringify(String(userId).slice(0, 100))}`);
  }
}

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
  owner: [...USER_SECURITY, { clientHeaderSecret: [] }],
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
