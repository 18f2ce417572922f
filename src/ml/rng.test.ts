import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.ts';

test('same seed, same sequence; state() replays', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 100; i++) assert.equal(a.next(), b.next());
  const s = a.state();
  const x = [a.next(), a.normal(), a.int(7)];
  assert.deepEqual(new Rng(s).state(), s);
  assert.ok(s.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32));
  const c = new Rng(s);
  assert.deepEqual([c.next(), c.normal(), c.int(7)], x);
});

test('uniform draws look uniform and int is in range', () => {
  const r = new Rng(1);
  let sum = 0;
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 50000; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    counts[r.int(5)]++;
  }
  assert.ok(Math.abs(sum / 50000 - 0.5) < 0.01);
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 500);
});

test('normal has mean 0 and variance 1', () => {
  const r = new Rng(7);
  let s = 0, s2 = 0;
  const n = 50000;
  for (let i = 0; i < n; i++) { const z = r.normal(); s += z; s2 += z * z; }
  assert.ok(Math.abs(s / n) < 0.02);
  assert.ok(Math.abs(s2 / n - 1) < 0.03);
});

test('derived streams differ and are reproducible', () => {
  assert.equal(Rng.derive(3, 5).next(), Rng.derive(3, 5).next());
  assert.notEqual(Rng.derive(3, 5).next(), Rng.derive(3, 6).next());
  assert.throws(() => new Rng(1).int(0), RangeError);
});
