// Seed 001 helpers: make users in the shared store and post events as a signed-in client.
import assert from 'node:assert/strict';
import type { TestApp } from './app.ts';

/**
 * `newUser()` creates a seed-001 user through POST /users; `send()` posts one event and returns its
 * alert codes after checking the answer's shape. Ids start at `firstId` (far above the small integer
 * ids of accounts the auth helper signs up), spread per file so files sharing a server never collide.
 */
export function eventsClient(ctx: () => TestApp, headers: () => Record<string, string>, base: number) {
  let nextUser = base + Math.floor(Math.random() * 100_000) * 10;
  return {
    async newUser(): Promise<number> {
      const id = nextUser++;
      const res = await ctx().request('POST', '/users', { body: { user_id: String(id) }, headers: headers() });
      assert.equal(res.status, 201, res.text);
      return id;
    },
    async send(userId: number, type: string, amount: string, time: number): Promise<number[]> {
      const res = await ctx().request('POST', '/api/events', { body: { type, amount, user_id: userId, time }, headers: headers() });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.user_id, userId);
      assert.equal(res.body.alert, res.body.alert_codes.length > 0);
      return res.body.alert_codes;
    },
  };
}
