// Auth use cases: accounts, tokens, revocation, API keys. Knows nothing of HTTP.
import type { AuthConfig } from '../../config.ts';
import type { Principal } from '../../platform/access.ts';
import { AppError } from '../../platform/errors.ts';
import type { RateLimiter } from '../../platform/rate-limit.ts';
import type { AdminChanges, ProfileChanges, PublicUser, Role, UsersService } from '../users/users.service.ts';
import type { ApiKeyRepository } from './api-keys.repository.ts';
import { createApiKey } from './api-keys.ts';
import type { ApiKeyScope, Authenticator } from './authenticator.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { RevocationStore } from './revocation.ts';
import type { TokenService } from './tokens.ts';

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

export function createAuthService(deps: {
  users: UsersService;
  tokens: TokenService;
  revocations: RevocationStore;
  apiKeys: ApiKeyRepository;
  authenticator: Authenticator;
  limiter: RateLimiter;
  config: AuthConfig;
}) {
  const { users, tokens, revocations, apiKeys, authenticator, limiter, config } = deps;

  async function throttle(key: string, limit: number): Promise<void> {
    const r = await limiter.hit(key, limit, config.rateLimitWindowSec);
    if (!r.allowed) throw tooMany(r.retryAfterSec);
  }
  const tooMany = (retryAfterSec: number) =>
    new AppError('RATE_LIMITED', `too many attempts; try again in ${retryAfterSec} s`, { headers: { 'retry-after': String(retryAfterSec) } });

  /**
   * Checks a password under two limits: attempts per IP (shared by register, login and request_token)
   * and failures per account, so a guesser is slowed whichever way it spreads its attempts.
   */
  async function checkPassword(login: string, password: string, ip: string, action: string): Promise<{ id: number; role: Role } | null> {
    await throttle(`auth:ip:${ip}`, config.rateLimitPerIp);
    const accountKey = `${action}:acct:${login.trim().toLowerCase()}`;
    const state = await limiter.check(accountKey, config.rateLimitPerAccount);
    if (!state.allowed) throw tooMany(state.retryAfterSec);
    const creds = await users.findCredentials(login);
    const ok = await verifyPassword(creds?.password_hash ?? null, password);
    if (!creds || !ok || !creds.is_active) {
      await limiter.hit(accountKey, config.rateLimitPerAccount, config.rateLimitWindowSec);
      return null;
    }
    await limiter.reset(accountKey);
    return { id: creds.id, role: creds.role };
  }

  async function issuePair(userId: number): Promise<TokenPair> {
    const [access, refresh] = await Promise.all([tokens.issue(userId, 'access'), tokens.issue(userId, 'refresh')]);
    return { access: access.token, refresh: refresh.token };
  }

  async function createAccount(input: RegisterInput, role: Role, ip: string): Promise<PublicUser> {
    await throttle(`auth:ip:${ip}`, config.rateLimitPerIp);
    return users.createAccount({ ...input, password_hash: await hashPassword(input.password), role });
  }

  const selfId = (p: Principal): number => {
    if (p.kind === 'service') throw new AppError('FORBIDDEN', 'this route needs a user token, not the service secret');
    return p.userId;
  };

  return {
    register: (input: RegisterInput, ip: string) => createAccount(input, 'user', ip),

    adminSignup(input: RegisterInput, ip: string): Promise<PublicUser> {
      const domain = config.adminEmailDomain.toLowerCase();
      if (!input.email.trim().toLowerCase().endsWith(domain)) {
        return Promise.reject(new AppError('FORBIDDEN', `admin signup needs an email ending in ${config.adminEmailDomain}`));
      }
      return createAccount(input, 'admin', ip);
    },

    async login(email: string, password: string, ip: string): Promise<TokenPair> {
      const who = await checkPassword(email, password, ip, 'login');
      if (!who) throw new AppError('UNAUTHORIZED', BAD_CREDENTIALS);
      return issuePair(who.id);
    },

    /** Seed 003: username or email and password → one access token. */
    async requestToken(username: string, password: string, ip: string): Promise<string> {
      const who = await checkPassword(username, password, ip, 'token');
      if (!who) throw new AppError('UNAUTHORIZED', 'Unauthorized access');
      return (await tokens.issue(who.id, 'access')).token;
    },

    /** Rotates a refresh token: the presented one is revoked, and a second use of it is refused. */
    async refresh(refreshToken: string): Promise<TokenPair> {
      const claims = await tokens.verify(refreshToken, 'refresh');
      if (!claims) throw new AppError('UNAUTHORIZED', 'Token is invalid or expired');
      if (!(await revocations.revoke(claims.jti, new Date(claims.exp * 1000)))) {
        throw new AppError('UNAUTHORIZED', 'Token is blacklisted');
      }
      const state = await users.findAuthState(Number(claims.sub));
      if (!state || !state.is_active) throw new AppError('UNAUTHORIZED', 'Token is invalid or expired');
      return issuePair(Number(claims.sub));
    },

    async logout(principal: Principal, refreshToken?: string): Promise<void> {
      if (principal.kind !== 'user') throw new AppError('BAD_REQUEST', 'logout revokes a token; this request was not made with one');
      if (refreshToken) {
        const claims = await tokens.verify(refreshToken, 'refresh');
        if (!claims || Number(claims.sub) !== principal.userId) throw new AppError('BAD_REQUEST', 'refresh: not a valid refresh token of this user');
        await revocations.revoke(claims.jti, new Date(claims.exp * 1000));
      }
      await revocations.revoke(principal.jti, principal.expiresAt);
    },

    async blacklistRefresh(refreshToken: string): Promise<void> {
      const claims = await tokens.verify(refreshToken, 'refresh');
      if (!claims) throw new AppError('UNAUTHORIZED', 'Token is invalid or expired');
      await revocations.revoke(claims.jti, new Date(claims.exp * 1000));
    },

    async me(principal: Principal): Promise<PublicUser> {
      return (await users.findById(selfId(principal))) ?? Promise.reject(new AppError('NOT_FOUND', 'user not found'));
    },

    async updateMe(principal: Principal, changes: ProfileChanges): Promise<PublicUser> {
      return (await users.update(selfId(principal), changes)) ?? Promise.reject(new AppError('NOT_FOUND', 'user not found'));
    },

    listUsers: (page: number, size: number) => users.list(page, size),

    async getUser(id: number): Promise<PublicUser> {
      return (await users.findById(id)) ?? Promise.reject(new AppError('NOT_FOUND', 'user not found'));
    },

    async adminUpdate(id: number, changes: Omit<AdminChanges, 'password_hash'> & { password?: string }): Promise<PublicUser> {
      const { password, ...rest } = changes;
      const set: AdminChanges = { ...rest, ...(password ? { password_hash: await hashPassword(password) } : {}) };
      const user = await users.update(id, set);
      authenticator.invalidateUser(id);
      return user ?? Promise.reject(new AppError('NOT_FOUND', 'user not found'));
    },

    async deleteUser(principal: Principal, id: number): Promise<void> {
      if (principal.kind !== 'service' && principal.userId === id) throw new AppError('CONFLICT', 'an admin cannot delete their own account');
      const deleted = await users.delete(id);
      authenticator.invalidateUser(id);
      if (!deleted) throw new AppError('NOT_FOUND', 'user not found');
    },

    /** Creates or updates the bootstrap admin (ADMIN_EMAIL / ADMIN_PASSWORD, or the CLI). */
    async upsertAdmin(email: string, password: string): Promise<PublicUser> {
      const user = await users.upsertAdmin({ email, passwordHash: await hashPassword(password) });
      authenticator.invalidateUser(user.id);
      return user;
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
