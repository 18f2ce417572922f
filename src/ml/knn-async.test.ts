// kneighborsAsync on worker threads must return exactly what kneighbors returns, for any nJobs,
// and its idle workers must not keep the process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NearestNeighbors } from './knn.ts';
import { Rng } from './rng.ts';
import { blobs } from './test-blobs.ts';
import { csrFromDense } from './sparse.ts';

test('nJobs 1, 2 and 3 give the sync result bit for bit (both metrics, ties, k = 1 and 10)', async () => {
  const rng = new Rng(7);
  for (const [n, d, nb, spread, round] of [[2500, 16, 8, 2, false], [2000, 3, 4, 2, true]] as const) {
    const X = blobs(rng, n, d, nb, spread, round);
    const Q = blobs(rng, 300, d, nb, spread * 2, round);
    for (const metric of ['euclidean', 'cosine'] as const) {
      const nn = new NearestNeighbors({ metric }).fit(X);
      try {
        for (const k of [1, 10]) {
          const ref = nn.kneighbors(Q, k);
          const brute = new NearestNeighbors({ metric, search: 'brute' }).fit(X).kneighbors(Q, k);
          assert.deepEqual(ref, brute);
          for (const nJobs of [1, 2, 3]) {
            const got = await nn.kneighborsAsync(Q, k, { nJobs });
            assert.deepEqual(got, ref, `${metric} n=${n} k=${k} nJobs=${nJobs}`);
          }
        }
      } finally {
        await nn.close();
      }
    }
  }
});

test('CSR, brute and tiny query sets fall back to the calling thread; errors are the sync ones', async () => {
  const rng = new Rng(8);
  const X = blobs(rng, 500, 6, 3, 1, true);
  const Q = blobs(rng, 40, 6, 3, 1, true);
  const ref = new NearestNeighbors().fit(X).kneighbors(Q, 4);
  const sparse = new NearestNeighbors().fit(csrFromDense(X));
  assert.deepEqual((await sparse.kneighborsAsync(Q, 4, { nJobs: 2 })).indices, ref.indices);
  const nn = new NearestNeighbors().fit(X);
  assert.deepEqual(await nn.kneighborsAsync(Q, 4, { nJobs: 2 }), ref);
  await assert.rejects(nn.kneighborsAsync(Q, 0, { nJobs: 2 }), /k must be an integer >= 1/);
  await assert.rejects(nn.kneighborsAsync(Q, 4, { nJobs: 0 }), /nJobs must be an integer >= 1/);
  await assert.rejects(new NearestNeighbors().kneighborsAsync(Q), /not fitted|NotFitted|fit/i);
  await nn.close();
});

test('an idle pool does not keep the process alive (no close() in the child)', () => {
  const script = `
    import { NearestNeighbors } from ${JSON.stringify(new URL('./knn.ts', import.meta.url).href)};
    const X = { rows: 3000, cols: 4, data: Float64Array.from({ length: 12000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1) };
    const nn = new NearestNeighbors().fit(X);
    const r = await nn.kneighborsAsync({ rows: 300, cols: 4, data: X.data.subarray(0, 1200) }, 3, { nJobs: 2 });
    const again = await nn.kneighborsAsync({ rows: 300, cols: 4, data: X.data.subarray(0, 1200) }, 3, { nJobs: 2 });
    console.log(r.indices[0], again.indices[3]);
  `;
  const dir = mkdtempSync(join(tmpdir(), 'knn-async-'));
  try {
    const file = join(dir, 'idle.mjs');
    writeFileSync(file, script);
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(out.trim(), '0 1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
