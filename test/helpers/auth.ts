// Credentials for tests: headers that authenticate as a fresh user or admin, made through the API.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestApp } from './app.ts';

/** 'service': a `service` API key, the credential of a backend that acts for many users. */
export type TestRole = 'user' | 'admin' | 'service';

export interface TestAccount {
  id: number;
  email: string;
  password: string;
  access: string;
  refresh: string;
  headers: Record<string, string>;
}

const cache = new WeakMap<TestApp, Map<TestRole, Promise<TestAccount>>>();

/** Registers (user) or admin-signs-up (admin) a new account and logs in. */
export async function createAccount(ctx: TestApp, role: 'user' | 'admin' = 'user', extra: Record<string, unknown> = {}): Promise<TestAccount> {
  const tag = randomBytes(5).toString('hex');
  const email = role === 'admin' ? `admin-${tag}${ctx.config.auth.adminEmailDomain}` : `user-${tag}@example.com`;
  const password = `pw-${tag}-secret`;
  const path = role === 'admin' ? '/api/v1/auth/admin-signup/' : '/api/v1/auth/register/';
  const reg = await ctx.request('POST', path, { body: { email, password, first_name: 'Test', last_name: role, ...extra } });
  assert.equal(reg.status, 201, `sign up failed: ${reg.text}`);
  const login = await ctx.request('POST', '/api/v1/auth/login/', { body: { email, password } });
  assert.equal(login.status, 200, `login failed: ${login.text}`);
  const { access, refresh } = login.body;
  return { id: reg.body.id, email, password, access, refresh, headers: { authorization: `Bearer ${access}` } };
}

/** A `service` API key made by a new admin. */
async function createServiceKey(ctx: TestApp): Promise<TestAccount> {
  const admin = await createAccount(ctx, 'admin');
  const res = await ctx.request('POST', '/api/v1/api-keys/', { body: { name: 'test backend', scopes: ['service'] }, headers: admin.headers });
  assert.equal(res.status, 201, `API key failed: ${res.text}`);
  return { ...admin, headers: { authorization: `Bearer ${res.body.key}` } };
}

/** Headers for a request as an account of the given role (one account per role per app, reused). */
export async function authHeaders(ctx: TestApp, role: TestRole = 'user'): Promise<Record<string, string>> {
  let perApp = cache.get(ctx);
  if (!perApp) cache.set(ctx, (perApp = new Map()));
  let account = perApp.get(role);
  if (!account) perApp.set(role, (account = role === 'service' ? createServiceKey(ctx) : createAccount(ctx, role)));
  return (await account).headers;
}
