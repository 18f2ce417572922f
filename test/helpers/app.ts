// Builds the real app against a fresh database and serves it on a loopback port: tests speak HTTP.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type Config, type ConfigOverrides } from '../../src/config.ts';
import { createTestDatabase } from './db.ts';

export interface TestApp {
  app: FastifyInstance;
  url: string;
  config: Config;
  request(method: string, path: string, opts?: { body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<TestResponse>;
  close(): Promise<void>;
  /** The same app, with these headers added to every request (e.g. credentials). */
  withHeaders(headers: Record<string, string>): TestApp;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export async function startTestApp(overrides: ConfigOverrides = {}): Promise<TestApp> {
  const testDb = await createTestDatabase();
  // Tests sign up many accounts from one address: lift the sign-up limit unless a test sets its own.
  const config = loadConfig(
    { LOG_LEVEL: 'silent', ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) },
    { ...testDb.config, redisPrefix: `arbiter:test:${randomBytes(4).toString('hex')}:`, ...overrides, auth: { rateLimitPerIp: 100_000, rateLimitPerAccount: 100_000, ...overrides.auth } },
  );
  const app = await buildApp(config);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return testAppOf({
    app,
    url,
    config,
    close: async () => {
      await app.close();
      await testDb.drop();
    },
  });
}

/**
 * A listening app as the tests speak to it: `request` goes over HTTP to `url` with the headers given
 * to `withHeaders` (and any extra members, such as the database, kept on every copy).
 */
export function testAppOf<X extends Pick<TestApp, 'app' | 'url' | 'config' | 'close'>>(parts: X, base: Record<string, string> = {}): TestApp & X {
  return {
    ...parts,
    request: (method, path, opts = {}) => httpRequest(parts.url, method, path, { ...opts, headers: { ...base, ...opts.headers } }),
    withHeaders: (headers) => testAppOf(parts, { ...base, ...headers }),
  };
}

export async function httpRequest(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}
