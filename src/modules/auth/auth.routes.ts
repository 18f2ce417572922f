import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf, isAdmin } from '../../platform/access.ts';
import { AppError } from '../../platform/errors.ts';
import { sendPage } from '../../platform/pagination.ts';
import { ErrorResponse } from '../../platform/schemas.ts';
import type { AuthService } from './auth.service.ts';
import * as S from './auth.schemas.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse };
const auth = { tags: ['auth'] };
const usersTag = { tags: ['accounts'] };

export function registerAuthRoutes(fastify: FastifyInstance, svc: AuthService): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  for (const path of ['/api/v1/auth/register', '/api/v1/auth/signup']) {
    app.post(path, {
      config: { access: 'public' },
      schema: { ...auth, summary: 'Register an account (seed 004)', body: S.RegisterSchema, response: { 201: S.UserSchema, ...errors } },
      handler: async (req, reply) => reply.status(201).send(await svc.register(req.body, req.ip)),
    });
  }
  app.post('/api/v1/auth/admin-signup', {
    config: { access: 'public' },
    schema: { ...auth, summary: 'Register an admin: the email must end with ADMIN_EMAIL_DOMAIN', body: S.RegisterSchema, response: { 201: S.UserSchema, ...errors } },
    handler: async (req, reply) => reply.status(201).send(await svc.adminSignup(req.body, req.ip)),
  });
  app.post('/api/v1/auth/login', {
    config: { access: 'public' },
    schema: { ...auth, summary: 'Log in with email and password → {access, refresh}', body: S.LoginSchema, response: { 200: S.TokenPairSchema, ...errors } },
    handler: async (req) => {
      const { email, password } = req.body;
      return svc.login(email, password, req.ip);
    },
  });
  app.post('/api/v1/auth/refresh', {
    config: { access: 'public' },
    schema: { ...auth, summary: 'Exchange a refresh token for a new pair; the old refresh token stops working', body: S.RefreshSchema, response: { 200: S.TokenPairSchema, ...errors } },
    handler: async (req) => svc.refresh(req.body.refresh),
  });
  app.post('/api/v1/auth/refresh-blacklist', {
    config: { access: 'public' },
    schema: { ...auth, summary: 'Revoke a refresh token', body: S.RefreshSchema, response: { 200: S.DetailSchema, ...errors } },
    handler: async (req) => {
      await svc.blacklistRefresh(req.body.refresh);
      return { detail: 'Token blacklisted.' };
    },
  });
  app.post('/api/v1/auth/logout', {
    config: { access: 'user' },
    schema: { ...auth, summary: 'End the sign-in the token belongs to: its access and refresh tokens stop working (and those of a refresh token given)', body: S.LogoutSchema, response: { 200: S.DetailSchema, ...errors } },
    handler: async (req) => {
      await svc.logout(callerOf(req), req.body?.refresh);
      return { detail: 'Successfully logged out.' };
    },
  });
  app.post('/request_token', {
    config: { access: 'public' },
    schema: { tags: ['models'], summary: 'Seed 003: username (or email) and password → a bearer token', body: S.RequestTokenSchema, response: { 200: S.RequestTokenResponse, ...errors } },
    handler: async (req) => {
      const { username, password } = req.body;
      const token = await svc.requestToken(username, password, req.ip);
      return { token, access_token: token, token_type: 'bearer' as const };
    },
  });

  app.get('/api/v1/users/me', {
    config: { access: 'user' },
    schema: { ...usersTag, summary: 'The signed-in user', response: { 200: S.UserSchema, ...errors } },
    handler: async (req) => svc.me(callerOf(req)),
  });
  app.patch('/api/v1/users/update-me', {
    config: { access: 'user' },
    schema: { ...usersTag, summary: 'Update your own profile (not your role)', body: S.UpdateMeSchema, response: { 200: S.UserSchema, ...errors } },
    handler: async (req) => svc.updateMe(callerOf(req), req.body),
  });
  app.get('/api/v1/users', {
    config: { access: 'user' },
    schema: {
      ...usersTag,
      summary: 'List accounts (public fields; admins see all fields and may filter by role and how the account was created)',
      querystring: S.ListUsersQuery,
      response: { 200: Type.Array(S.UserViewSchema), ...errors },
    },
    handler: async (req, reply) => {
      const { page, size, role, created_via } = req.query;
      if ((role !== undefined || created_via !== undefined) && !isAdmin(callerOf(req))) throw new AppError('FORBIDDEN', 'only admins may filter accounts by role or created_via');
      const { rows, total } = await svc.listUsers(page, size, { role, created_via });
      return sendPage(reply, { rows: isAdmin(callerOf(req)) ? rows : rows.map(publicView), total });
    },
  });
  app.get('/api/v1/users/:id', {
    config: { access: 'user' },
    schema: { ...usersTag, summary: "An account's public fields (all fields for admins and for yourself)", params: S.UserIdParams, response: { 200: S.UserViewSchema, ...errors } },
    handler: async (req) => {
      const { id } = req.params;
      const user = await svc.getUser(id);
      const p = callerOf(req);
      return isAdmin(p) || (p.kind !== 'service' && p.userId === id) ? user : publicView(user);
    },
  });
  app.patch('/api/v1/users/:id', {
    config: { access: 'admin' },
    schema: { ...usersTag, summary: 'Admin: change an account (role, active, password, profile); a new password, another role or deactivation ends its sessions', params: S.UserIdParams, body: S.AdminUpdateSchema, response: { 200: S.UserSchema, ...errors } },
    handler: async (req) => svc.adminUpdate(req.params.id, req.body),
  });
  app.delete('/api/v1/users/:id', {
    config: { access: 'admin' },
    schema: { ...usersTag, summary: 'Admin: delete an account (not your own; 409 while it has events, alerts or seed 002 rows)', params: S.UserIdParams, response: { 204: Type.Null(), ...errors } },
    handler: async (req, reply) => {
      await svc.deleteUser(callerOf(req), req.params.id);
      reply.status(204).send(null);
    },
  });

  const keysTag = { tags: ['api keys'] };
  app.post('/api/v1/api-keys', {
    config: { access: 'admin' },
    schema: { ...keysTag, summary: 'Admin: create an API key (the key is shown only in this answer)', body: S.CreateApiKeySchema, response: { 201: S.CreatedApiKeySchema, ...errors } },
    handler: async (req, reply) => {
      const body = req.body;
      const p = callerOf(req);
      const key = await svc.createApiKey({
        name: body.name,
        scopes: body.scopes ?? ['user'],
        userId: body.user_id ?? (p.kind === 'service' ? 0 : p.userId),
        expiresInDays: body.expires_in_days,
      });
      return reply.status(201).send(key);
    },
  });
  app.get('/api/v1/api-keys', {
    config: { access: 'admin' },
    schema: { ...keysTag, summary: 'Admin: list API keys (never the keys themselves)', response: { 200: Type.Array(S.ApiKeySchema), ...errors } },
    handler: async () => svc.listApiKeys(),
  });
  app.delete('/api/v1/api-keys/:id', {
    config: { access: 'admin' },
    schema: { ...keysTag, summary: 'Admin: revoke an API key', params: S.UserIdParams, response: { 204: Type.Null(), ...errors } },
    handler: async (req, reply) => {
      await svc.revokeApiKey(req.params.id);
      reply.status(204).send(null);
    },
  });
}

const publicView = (u: { id: number; username: string | null; first_name: string | null; last_name: string | null }) => ({
  id: u.id,
  username: u.username,
  first_name: u.first_name,
  last_name: u.last_name,
});
