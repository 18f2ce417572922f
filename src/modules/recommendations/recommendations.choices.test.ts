import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { choiceRows, choiceWindow, MAX_BUCKETS } from './recommendations.choices.ts';

const NOW = new Date('2026-03-04T10:17:30Z');

describe('choiceWindow', () => {
  test('defaults: hour buckets over the 168 hours before now, from aligned down to an hour', () => {
    const w = choiceWindow({}, NOW);
    assert.equal(w.bucket, 'hour');
    assert.equal(w.seconds, 3600);
    assert.equal(w.to.toISOString(), NOW.toISOString());
    assert.equal(w.from.toISOString(), '2026-02-25T10:00:00.000Z');
  });
  test('explicit bounds; a zone-less time is UTC; day buckets align to UTC midnight', () => {
    const w = choiceWindow({ bucket: 'day', from: '2026-03-01 15:00', to: '2026-03-04T00:00:00+02:00' }, NOW);
    assert.equal(w.from.toISOString(), '2026-03-01T00:00:00.000Z');
    assert.equal(w.to.toISOString(), '2026-03-03T22:00:00.000Z');
  });
  test('bad input names the problem', () => {
    assert.throws(() => choiceWindow({ bucket: 'week' }, NOW), /bucket must be one of minute, hour, day/);
    assert.throws(() => choiceWindow({ from: 'yesterday' }, NOW), /from must be an ISO 8601/);
    assert.throws(() => choiceWindow({ to: '2026-02-30T00:00:00Z' }, NOW), /to is not a valid date-time/);
    assert.throws(() => choiceWindow({ from: '10000-01-01T00:00:00Z' }, NOW), /from must be an ISO 8601/);
    assert.throws(() => choiceWindow({ from: '2026-03-05T00:00:00Z' }, NOW), /from must be before to/);
    assert.throws(() => choiceWindow({ bucket: 'minute', from: '2026-01-01T00:00:00Z' }, NOW), new RegExp(`at most ${MAX_BUCKETS}`));
    // exactly MAX_BUCKETS is allowed
    assert.doesNotThrow(() => choiceWindow({ bucket: 'minute', from: new Date(NOW.getTime() - MAX_BUCKETS * 60_000 + 30_000).toISOString() }, NOW));
  });
});

describe('choiceRows', () => {
  test('ISO bucket starts, time then strategy order, mean reward over settled choices only', () => {
    const rows = choiceRows([
      { start_s: 7200, strategy: 'popular', chosen: 3, mean_probability: 0.1, rewarded: 0, settled: 0 },
      { start_s: 3600, strategy: 'popular', chosen: 2, mean_probability: 0.05, rewarded: 1, settled: 2 },
      { start_s: 3600, strategy: 'interaction', chosen: 4, mean_probability: 0.9, rewarded: 1, settled: 4 },
    ]);
    assert.deepEqual(rows.map((r) => [r.start, r.strategy, r.mean_reward]), [
      ['1970-01-01T01:00:00.000Z', 'interaction', 0.25],
      ['1970-01-01T01:00:00.000Z', 'popular', 0.5],
      ['1970-01-01T02:00:00.000Z', 'popular', null],
    ]);
  });
});
