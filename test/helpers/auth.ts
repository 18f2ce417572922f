// Credentials for tests: headers that authenticate as a fresh user or admin.
import type { TestApp } from './app.ts';

export type TestRole = 'user' | 'admin';

/**
 * Headers for a request as a new account of the given role. Until the auth module enforces access
 * this returns no headers; tests call it everywhere so they keep passing once access is enforced.
 */
export async function authHeaders(_ctx: TestApp, _role: TestRole = 'user'): Promise<Record<string, string>> {
  return {};
}
