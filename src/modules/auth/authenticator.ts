// Who is calling, and may they call this route? Resolves the principal from a bearer token, an API
// key or the service secret, then applies the route's declared access.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthConfig } from '../../config.ts';
import { isAdmin, type Access, type Principal } from '../../platform/access.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthState, UsersService } from '../users/users.service.ts';
import type { ApiKeyRepository, ApiKeyRow } from './api-keys.repository.ts';
import { familyKey, type RevocationStore } from './revocation.ts';
import type { TokenClaims, TokenService } from './tokens.ts';

export const API_KEY_PREFIX = 'arb_';
export const API_KEY_SCOPES = ['user', 'admin', 'service'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

const unauthorized = (detail: string) => new AppError('UNAUTHORIZED', detail, { headers: { 'www-authenticate': 'Bearer' } });
const NOT_AUTHENTICATED = 'Not authenticated';
const FAILED = 'Failed to validate';
const VERIFIED_TOKEN_CACHE_MS = 5_000;
const VERIFIED_TOKEN_CACHE_MAX = 10_000;
export const FORBIDDEN = 'You do not have permission to perform this action.';

interface Headers {
  authorization?: string;
  'x-api-key'?: string | string[];
  'client-header-secret'?: string | string[];
}

type UserState = AuthState | null;

export function createAuthenticator(deps: {
  tokens: TokenService;
  revocations: RevocationStore;
  apiKeys: ApiKeyRepository;
  users: UsersService;
  config: AuthConfig;
  now?: () => number;
}) {
  const { tokens, revocations, apiKeys, users, config } = deps;
  const now = deps.now ?? Date.now;
  // Short-lived caches keep authentication off the database on the hot path; USER_CACHE_MS bounds
  // how long another process's role change or deletion takes to be seen here.
  const userCache = new Map<number, { state: UserState; at: number }>();
  const keyCache = new Map<string, { row: ApiKeyRow | null; at: number }>();
  const fresh = (at: number) => now() - at < config.userCacheMs;

  async function userState(id: number): Promise<UserState> {
    const hit = userCache.get(id);
    if (hit && fresh(hit.at)) return hit.state;
    const state = await users.findAuthState(id);
    if (userCache.size > 50_000) userCache.clear();
    userCache.set(id, { state, at: now() });
    return state;
  }

  async function fromApiKey(key: string): Promise<Principal> {
    const h = hashApiKey(key);
    let hit = keyCache.get(h);
    if (!hit || !fresh(hit.at)) {
      const row = await apiKeys.findActiveByHash(h);
      if (row) apiKeys.touch(row.id).catch(() => {});
      if (keyCache.size > 10_000) keyCache.clear();
      hit = { row, at: now() };
      keyCache.set(h, hit);
    }
    const row = hit.row;
    if (!row || (row.expires_at && row.expires_at.getTime() <= now())) throw unauthorized(FAILED);
    const state = await userState(row.user_id);
    if (!state || !state.is_active) throw unauthorized(FAILED);
    return { kind: 'api_key', userId: row.user_id, externalId: state.user_id, role: state.role, keyId: row.id, scopes: row.scopes };
  }

  // Verified access tokens by their exact string, for a few seconds: the signature check is the
  // costliest step of a request (HS256 through WebCrypto is async). Only what the signature proves
  // is cached; expiry, revocation and the user's state are still checked on every request.
  const verifiedTokens = new Map<string, { claims: TokenClaims; at: number }>();

  async function verifiedAccessToken(token: string): Promise<TokenClaims | null> {
    const t = now();
    const hit = verifiedTokens.get(token);
    if (hit && t - hit.at < VERIFIED_TOKEN_CACHE_MS) return hit.claims.exp * 1000 > t ? hit.claims : null;
    const claims = await tokens.verify(token, 'access');
    if (claims) {
      if (verifiedTokens.size >= VERIFIED_TOKEN_CACHE_MAX) verifiedTokens.clear();
      verifiedTokens.set(token, { claims, at: t });
    }
    return claims;
  }

  async function fromJwt(token: string): Promise<Principal> {
    const claims = await verifiedAccessToken(token);
    if (!claims || (await revocations.isRevoked(claims.jti, familyKey(claims.fam)))) throw unauthorized(FAILED);
    const userId = Number(claims.sub);
    const state = await userState(userId);
    // A password or role change, or deactivation, bumped the version: every older token is done.
    if (!state || !state.is_active || state.token_version !== claims.ver) throw unauthorized(FAILED);
    return {
      kind: 'user',
      userId,
      externalId: state.user_id,
      role: state.role,
      jti: claims.jti,
      family: claims.fam,
      familyExpiresAt: claims.fexp,
      version: claims.ver,
      expiresAt: new Date(claims.exp * 1000),
    };
  }

  /** Whether a principal resolved earlier would still be accepted now (long-lived streams ask this). */
  async function stillValid(p: Principal): Promise<boolean> {
    if (p.kind === 'service') return true;
    if (p.kind === 'user') {
      if (p.expiresAt.getTime() <= now() || (await revocations.isRevoked(p.jti, familyKey(p.family)))) return false;
    } else if (!(await apiKeys.isActive(p.keyId))) {
      return false;
    }
    const state = await userState(p.userId);
    // A password change ends a token's sessions through the version, streams included.
    return Boolean(state && state.is_active && state.role === p.role && (p.kind !== 'user' || state.token_version === p.version));
  }

  function secretMatches(given: string): boolean {
    const want = config.clientHeaderSecret;
    if (!want) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(want);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

  /** The caller, or an AppError (401) when the credentials are missing or invalid. */
  async function resolve(headers: Headers, access: Access): Promise<Principal> {
    const auth = headers.authorization;
    if (auth) {
      const m = /^(Bearer|Token)\s+(\S+)\s*$/i.exec(auth);
      if (!m) throw unauthorized(FAILED);
      return m[2].startsWith(API_KEY_PREFIX) ? fromApiKey(m[2]) : fromJwt(m[2]);
    }
    const apiKey = one(headers['x-api-key']);
    if (apiKey) return fromApiKey(apiKey);
    // Service routes answer seed 004's messages; owner routes also take the secret, when one is sent.
    if (access === 'service' || (access === 'owner' && headers['client-header-secret'] !== undefined)) {
      const secret = one(headers['client-header-secret']);
      if (!secret) throw unauthorized('Token is missing!');
      if (!secretMatches(secret)) throw unauthorized('Invalid token!');
      return { kind: 'service' };
    }
    throw unauthorized(NOT_AUTHENTICATED);
  }

  /** Throws 403 when the principal may not call a route with this access. */
  function authorize(p: Principal, access: Access): void {
    const admin = isAdmin(p);
    // Any API key may do what a signed-in user may: a `service` key is a backend acting for its users.
    const user = p.kind === 'user' || p.kind === 'api_key';
    const service = p.kind === 'service' || admin || (p.kind === 'api_key' && p.scopes.includes('service'));
    let ok: boolean;
    switch (access) {
      case 'public':
        ok = true;
        break;
      case 'user':
        ok = user;
        break;
      case 'owner':
        ok = user || service;
        break;
      case 'admin':
        ok = admin;
        break;
      case 'service':
        ok = service;
        break;
      default:
        throw new Error(`unknown access ${access satisfies never}`);
    }
    if (!ok) throw new AppError('FORBIDDEN', FORBIDDEN);
  }

  return {
    resolve,
    authorize,
    stillValid,
    /** Forget what this process knows of a user (after a role change or deletion). */
    invalidateUser: (id: number) => userCache.delete(id),
    invalidateApiKeys: () => keyCache.clear(),
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
