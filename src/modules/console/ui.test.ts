// The UI's pure parts, run in Node (the modules are plain ES modules; 'preact' resolves from node_modules).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
// @ts-expect-error plain JavaScript without types
import { readSse } from './ui/pages/alerts.js';
// @ts-expect-error plain JavaScript without types
import { rewardSeries } from './ui/pages/decisions.js';

describe('readSse', () => {
  test('splits messages across chunk boundaries, keeps event names, skips comments', async () => {
    const chunks = [': heartbeat\n\nevent: alert\nda', 'ta: {"id":1}\n\nevent: alert\ndata: {"id"', ':2}\n\n'];
    const body = new ReadableStream({
      start(c) {
        for (const x of chunks) c.enqueue(new TextEncoder().encode(x));
        c.close();
      },
    });
    const got: [string, string][] = [];
    await readSse({ body }, (name: string, data: string) => got.push([name, data]));
    assert.deepEqual(got, [['alert', '{"id":1}'], ['alert', '{"id":2}']]);
  });
});

describe('rewardSeries', () => {
  test('running mean reward per policy version, in client time; unrewarded decisions left out', () => {
    const rows = [
      { policy_version_id: 2, client_timestamp: '2026-01-01T00:03:00Z', reward: 1 },
      { policy_version_id: 1, client_timestamp: '2026-01-01T00:01:00Z', reward: 0 },
      { policy_version_id: 1, client_timestamp: '2026-01-01T00:00:00Z', reward: 1 },
      { policy_version_id: 1, client_timestamp: '2026-01-01T00:02:00Z', reward: null },
    ];
    const series = rewardSeries(rows);
    assert.deepEqual(series.map((s: { name: string }) => s.name), ['policy version #1 (2 rewarded)', 'policy version #2 (1 rewarded)']);
    assert.deepEqual(series[0].points.map((p: number[]) => p[1]), [1, 0.5]);
  });
});
