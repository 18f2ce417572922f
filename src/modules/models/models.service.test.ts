import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLimiter } from './models.service.ts';

test('the thread limiter runs at most n tasks at once, in arrival order, and frees slots on failure', async () => {
  const limit = createLimiter(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const task = (i: number, fail = false) =>
    limit(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (fail) throw new Error(`task ${i}`);
      return i;
    });
  const results = await Promise.allSettled([task(0), task(1, true), task(2), task(3), task(4)]);
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.equal(results[1].status, 'rejected');
  assert.deepEqual(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value), [0, 2, 3, 4]);
  // Slots are all free again.
  assert.equal(await Promise.race([task(5), new Promise((r) => setTimeout(() => r('stuck'), 100))]), 5);
});
