// A dataset's rows are stored in parts (models.repository.ts): a dataset of several parts reads back
// exactly, in order, on both backends, with values a double holds only as they are; a missing part is
// an error, not a shorter dataset.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createModelsRepository } from '../src/modules/models/models.repository.ts';
import type { Database } from '../src/platform/db.ts';
import { openMigratedTestDatabase } from './helpers/db.ts';

let database: Database;
let close = async () => {};

before(async () => ({ database, close } = await openMigratedTestDatabase()));
after(async () => close());

const meta = (id: string, p: number, n: number) => ({
  id,
  name: id,
  owner: null,
  label_column: 'k',
  feature_names: Array.from({ length: p }, (_, j) => `f${j}`),
  class_names: ['a', 'b', 'c'],
  n_rows: n,
  content_hash: 'sha256:test',
});

test('a dataset of several parts reads back exactly and in order', async () => {
  const repo = createModelsRepository(database);
  const p = 5;
  const n = 20_000; // 800 KB of features: 25 parts of 32 KB
  const x = Float64Array.from({ length: n * p }, (_, k) => (k % 3 === 0 ? k : k % 3 === 1 ? -k / 7 : k * Number.EPSILON));
  x[7] = Number.MAX_VALUE;
  x[8] = -Number.MIN_VALUE;
  x[9] = -0;
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  await repo.createDataset(meta('several', p, n), { x, y });
  const parts = await database.query<{ part: number }>("select part from ml_dataset_parts where dataset_id = 'several' order by part");
  assert.ok(parts.length >= 3, `${parts.length} parts`);
  const back = await repo.findDataset('several');
  assert.ok(back);
  assert.deepEqual(back.x, x);
  assert.ok(Object.is(back.x[9], -0));
  assert.deepEqual(back.y, y);
  // ensureDataset stores once: a second call with other rows changes nothing.
  await repo.ensureDataset(meta('several', p, n), { x: new Float64Array(n * p), y: new Int32Array(n) });
  assert.deepEqual((await repo.findDataset('several'))!.x, x);
  // Deleting the dataset deletes its parts.
  assert.equal(await repo.deleteDataset('several'), true);
  assert.equal((await database.query("select 1 from ml_dataset_parts where dataset_id = 'several'")).length, 0);
});

test('a missing part is an error, not a shorter dataset', async () => {
  const repo = createModelsRepository(database);
  const n = 30_000;
  await repo.createDataset(meta('gap', 4, n), { x: new Float64Array(n * 4).fill(1.5), y: new Int32Array(n) });
  await database.query("delete from ml_dataset_parts where dataset_id = 'gap' and part = 1");
  await assert.rejects(repo.findDataset('gap'), /dataset gap: its parts hold \d+ rows, not 30000/);
});
