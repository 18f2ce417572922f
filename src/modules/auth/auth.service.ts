// Auth use cases: accounts, tokens, revocation, API keys. Knows nothing of HTTP.
import type { AuthConfig } from '../../config.ts';
import type { Principal } from '../../platform/access.ts';
import { AppError } from '../../platform/errors.ts';
import type { RateLimiter } from '../../platform/rate-limit.ts';
import type { AdminChanges, CreatedVia, ProfileChanges, PublicUser, Role, UsersService } from '../users/users.service.ts';
import type { ApiKeyRepository } from './api-keys.repository.ts';
import { createApiKey } from './api-keys.ts';
import type { ApiKeyScope, Authenticator } from './authenticator.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { familyKey, type RevocationStore } from './revocation.ts';
import type { TokenFamily, TokenService } from './tokens.ts';

export interface RegisterInput {
  email: string;
  password: string;
  first_name?: string | null;
  last_name?: string | null;
  username?: string | null;
}

export interface TokenPair {
  access: string;
  refresh: string;
}

const BAD_CREDENTIALS = 'No active account found with the given credentials';
/** How long an address that signed in to an account stays known to it (it may still try during a lockout). */
const KNOWN_ADDRESS_DAYS = 30;

export function createAuthService(deps: {
  users: UsersService;
  tokens: TokenService;
  revocations: RevocationStore;
  apiKeys: ApiKeyRepository;
  authenticator: Authenticator;
  limiter: RateLimiter;
  config: AuthConfig;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
}) {
  const { users, tokens, revocations, apiKeys, authenticator, limiter, config, log } = deps;

  async function throttle(key: string, limit: number): Promise<void> {
    const r = await limiter.consume(key, limit, config.rateLimitWindowSec);
    if (!r.allowed) throw tooMany(r.retryAfterSec);
  }
  const tooMany = (retryAfterSec: number) =>
    new AppError('RATE_LIMITED', `too many attempts; try again in ${retryAfterSec} s`, { headers: { 'retry-after': String(retryAfterSec) } });

  /**
   * Checks a password under two limits, each attempt counted atomically before the password is
   * checked, so concurrent guesses cannot slip past a limit:
   * - attempts per address, shared by register, login and request_token;
   * - attempts per resolved account, one bucket whichever way it is named (email or username) and
   *   whichever route asks (login or request_token). An address that has signed in to the account
   *   before counts in a bucket of its own, so a guesser elsewhere cannot lock the real user out.
   * A correct password resets the bucket it counted in and remembers the address.
   */
  async function checkPassword(login: string, password: string, ip: string): Promise<{ id: number; version: number } | null> {
    await throttle(`auth:ip:${ip}`, config.rateLimitPerIp);
    const creds = await users.findCredentials(login);
    const known = creds ? await limiter.remembers(`auth:known:${creds.id}:${ip}`) : false;
    const bucket = !creds ? `auth:login:${login.trim().toLowerCase()}` : known ? `auth:acct:${creds.id}:${ip}` : `auth:acct:${creds.id}`;
    await throttle(bucket, config.rateLimitPerAccount);
    const ok = await verifyPassword(creds?.password_hash ?? null, password);
    if (!creds || !ok || !creds.is_active) return null;
    await Promise.all([limiter.reset(bucket), limiter.remember(`auth:known:${creds.id}:${ip}`, KNOWN_ADDRESS_DAYS * 86_400)]);
    return { id: creds.id, version: creds.token_version };
  }

  async function issuePair(userId: number, family: TokenFamily): Promise<TokenPair> {
    const [access, refresh] = await Promise.all([tokens.issue(userId, 'access', family), tokens.issue(userId, 'refresh', family)]);
    return { access: access.token, refresh: refresh.token };
  }

  async function createAccount(input: RegisterInput, role: Role, via: CreatedVia, ip: string): Promise<PublicUser> {
    await throttle(`auth:ip:${ip}`, config.rateLimitPerIp);
    return users.createAccount({ ...input, password_hash: await hashPassword(input.password), role, created_via: via });
  }

  /** Ends a sign-in: every token of the family is refused from now on, until the family would have ended anyway. */
  const endFamily = (id: string, fexp: number) => revocations.revoke(familyKey(id), new Date(fexp * 1000));

  const selfId = (p: Principal): number => {
    if (p.kind === 'service') throw new AppError('FORBIDDEN', 'this route needs a user token, not the service secret');
    return p.userId;
  };

  return {
    register: (input: RegisterInput, ip: string) => createAccount(input, 'user', 'register', ip),

    async adminSignup(input: RegisterInput, ip: string): Promise<PublicUser> {
      if (!config.adminSignupOpen) throw new AppError('FORBIDDEN', 'admin signup is closed on this server; an existing admin can promote an account');
      const domain = config.adminEmailDomain.toLowerCase();
      if (!input.email.trim().toLowerCase().endsWith(domain)) {
        throw new AppError('FORBIDDEN', `admin signup needs an email ending in ${config.adminEmailDomain}`);
      }
      const user = await createAccount(input, 'admin', 'admin-signup', ip);
      log.warn({ adminId: user.id, email: user.email, ip }, 'admin account created through admin-signup (review: GET /api/v1/users/?created_via=admin-signup)');
      return user;
    },

    async login(email: string, password: string, ip: string): Promise<TokenPair> {
      const who = await checkPassword(email, password, ip);
      if (!who) throw new AppError('UNAUTHORIZED', BAD_CREDENTIALS);
      return issuePair(who.id, tokens.newFamily(who.version));
    },

    /** Seed 003: username or email and password → one access token (a sign-in of its own). */
    async requestToken(username: string, password: string, ip: string): Promise<string> {
      const who = await checkPassword(username, password, ip);
      if (!who) throw new AppError('UNAUTHORIZED', 'Unauthorized access');
      return (await tokens.issue(who.id, 'access', tokens.newFamily(who.version))).token;
    },

    /**
     * Rotates a refresh token: the presented one is revoked and a new pair of the same family issued.
     * Presenting a refresh token that was already used ends its whole family: either the client or a
     * thief holds a copy, and neither pair should go on working.
     */
    async refresh(refreshToken: string): Promise<TokenPair> {
      const claims = await tokens.verify(refreshToken, 'refresh');
      if (!claims) throw new AppError('UNAUTHORIZED', 'Token is invalid or expired');
      if (await revocations.isRevoked(familyKey(claims.fam))) throw new AppError('UNAUTHORIZED', 'Token is blacklisted');
      if (!(await revocations.revoke(claims.jti, new Date(claims.exp * 1000)))) {
        await endFamily(claims.fam, claims.fexp);
        throw new AppError('UNAUTHORIZED', 'Token is blacklisted');
      }
      const state = await users.findAuthState(Number(claims.sub));
      if (!state || !state.is_active || state.token_version !== claims.ver) throw new AppError('UNAUTHORIZED', 'Token is invalid or expired');
      return issuePair(Number(claims.sub), { id: claims.fam, expiresAt: claims.fexp, version: claims.ver });
    },

    /** Ends the sign-in the request was made with: its access and refresh tokens stop working everywhere. */
    async logout(principal: Principal, refreshToken?: string): Promise<void> {
      if (principal.kind !== 'user') throw new AppError('BAD_REQUEST', 'logout revokes a token; this request was not made with one');
      if (refreshToken) {
        const claims = await tokens.verify(refreshToken, 'refresh');
        if (!claims || Number(claims.sub) !== principal.userId) throw new AppError('BAD_REQUEST', 'refresh: not a valid refresh token of this user');
        if (claims.fam !== principal.family) await endFamily(claims.fam, claims.fexp);
      }
      await endFamily(principal.family, principal.familyExpiresAt);
    },

    /** Seed 004's refresh-token blacklist: a logout by refresh token, so it ends the token's sign-in. */
    async blacklistRefresh(refreshToken: string): Promise<void> {
      const claims = await tokens.verify(refreshToken, 'refresh');
      if (!claims) throw new AppError('UNAUTHORIZED', 'Token is invalid or expired');
      await Promise.all([revocations.revoke(claims.jti, new Date(claims.exp * 1000)), endFamily(claims.fam, claims.fexp)]);
    },

    async me(principal: Principal): Promise<PublicUser> {
      // A token whose user is gone is no longer a credential: 401, not 404.
      return (await users.findById(selfId(principal))) ?? Promise.reject(new AppError('UNAUTHORIZED', 'Failed to validate'));
    },

    async updateMe(principal: Principal, changes: ProfileChanges): Promise<PublicUser> {
      return (await users.update(selfId(principal), changes)) ?? Promise.reject(new AppError('UNAUTHORIZED', 'Failed to validate'));
    },

    listUsers: (page: number, size: number, filter: { role?: Role; created_via?: string }) => users.list(page, size, filter),

    async getUser(id: number): Promise<PublicUser> {
      return (await users.findById(id)) ?? Promise.reject(new AppError('NOT_FOUND', 'user not found'));
    },

    /** Admin changes; a new password, another role or deactivation ends the user's sessions (users service). */
    async adminUpdate(id: number, changes: Omit<AdminChanges, 'password_hash'> & { password?: string }): Promise<PublicUser> {
      const { password, ...rest } = changes;
      const set: AdminChanges = { ...rest, ...(password ? { password_hash: await hashPassword(password) } : {}) };
      return (await users.update(id, set)) ?? Promise.reject(new AppError('NOT_FOUND', 'user not found'));
    },

    async deleteUser(principal: Principal, id: number): Promise<void> {
      const deleted = await users.delete(id, principal.kind === 'service' ? null : principal);
      if (!deleted) throw new AppError('NOT_FOUND', 'user not found');
    },

    /**
     * The bootstrap admin (ADMIN_EMAIL / ADMIN_PASSWORD) at start: created when no account has the
     * email; when an admin has it, its password is reset if it differs. An existing non-admin account
     * is never promoted: anyone can register or take an email, and a restart must not make them admin.
     */
    async bootstrapAdmin(email: string, password: string): Promise<PublicUser | null> {
      const existing = await users.findCredentials(email);
      if (existing && existing.email?.toLowerCase() === email.trim().toLowerCase()) {
        if (existing.role !== 'admin') {
          log.error({ userId: existing.id }, 'ADMIN_EMAIL belongs to a non-admin account: it is not promoted; use `arbiter create-admin` to promote it deliberately');
          return null;
        }
        if (!(await verifyPassword(existing.password_hash, password))) await users.update(existing.id, { password_hash: await hashPassword(password) });
        return users.findById(existing.id);
      }
      return users.createAccount({ email, password_hash: await hashPassword(password), role: 'admin', created_via: 'bootstrap' });
    },

    /** A new API key; the key itself is returned only here, and only its hash is stored. */
    async createApiKey(input: { name: string; scopes: ApiKeyScope[]; userId: number; expiresInDays?: number | null }) {
      const owner = await users.findAuthState(input.userId);
      if (!owner) throw new AppError('UNPROCESSABLE', `user ${input.userId} does not exist`);
      return createApiKey(apiKeys, { ...input, role: owner.role });
    },

    listApiKeys: () => apiKeys.list(),

    async revokeApiKey(id: number): Promise<void> {
      if (!(await apiKeys.revoke(id))) throw new AppError('NOT_FOUND', 'API key not found or already revoked');
      authenticator.invalidateApiKeys();
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
