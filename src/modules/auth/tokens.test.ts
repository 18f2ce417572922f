import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../config.ts';
import { createTokenService } from './tokens.ts';

test('a sign-in lives at most SESSION_MAX_DAYS: refreshed tokens never outlive their family, whatever their own lifetime', async () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => new Date(now) };
  const config = { ...loadConfig({}).auth, secretKey: 'x'.repeat(40), sessionMaxDays: 2, refreshTokenDays: 7, accessTokenMinutes: 30 };
  const keys = { alg: 'HS256' as const, sign: new TextEncoder().encode(config.secretKey), verify: new TextEncoder().encode(config.secretKey), source: 'test' };
  const tokens = createTokenService({ keys, config, clock });
  const family = tokens.newFamily(0);
  assert.equal(family.expiresAt, now / 1000 + 2 * 86_400);
  const first = await tokens.issue(1, 'refresh', family);
  assert.equal(first.claims.exp, family.expiresAt, 'a 7-day refresh token is cut to the 2-day family');
  // A day and a half later, a refresh of the same family: its tokens still end with the family.
  now += 36 * 3600 * 1000;
  const later = await tokens.issue(1, 'refresh', family);
  assert.equal(later.claims.exp, family.expiresAt);
  const access = await tokens.issue(1, 'access', family);
  assert.equal(access.claims.exp, now / 1000 + 30 * 60, 'an access token far from the end keeps its own lifetime');
  assert.ok(await tokens.verify(later.token, 'refresh'));
  now = (family.expiresAt + 1) * 1000;
  assert.equal(await tokens.verify(later.token, 'refresh'), null, 'past the family end nothing of it verifies');
  assert.equal(await tokens.verify(access.token, 'access'), null);
});
