// A dataset's rows are stored in parts (models.repository.ts): a dataset of several parts reads back
// exactly, in order, on both backends, with values a double holds only as they are, and leaves the
// caller's arrays as they were; a missing part, or one whose bytes do not fit, is an error, not a
// shorter or shifted dataset.
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
const readDataset = async (repo: ReturnType<typeof createModelsRepository>, id: string) => repo.readRows((await repo.findDatasetMeta(id))!);

test('a dataset of several parts reads back exactly and in order', async () => {
  const repo = createModelsRepository(database);
  const p = 5;
  const n = 20_000; // 800 KB of features: 25 parts of 32 KB
  const x = Float64Array.from({ length: n * p }, (_, k) => (k % 3 === 0 ? k : k % 3 === 1 ? -k / 7 : k * Number.EPSILON));
  x[7] = Number.MAX_VALUE;
  x[8] = -Number.MIN_VALUE;
  x[9] = -0;
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  const [xBefore, yBefore] = [x.slice(), y.slice()];
  await repo.createDataset(meta('several', p, n), { x, y });
  // The parts were sent from the arrays' own memory, swapped in place: they hold their values again.
  assert.deepEqual([x, y], [xBefore, yBefore]);
  const parts = await database.query<{ part: number }>("select part from ml_dataset_parts where dataset_id = 'several' order by part");
  assert.ok(parts.length >= 3, `${parts.length} parts`);
  const back = await readDataset(repo, 'several');
  assert.ok(back);
  assert.deepEqual(back.x, x);
  assert.ok(Object.is(back.x[9], -0));
  assert.deepEqual(back.y, y);
  // Read into shared memory, so a training thread is handed the arrays rather than a copy of them.
  assert.ok(back.x.buffer instanceof SharedArrayBuffer && back.y.buffer instanceof SharedArrayBuffer);
  // ensureDataset stores once: a second call with other rows changes nothing.
  await repo.ensureDataset(meta('several', p, n), { x: new Float64Array(n * p), y: new Int32Array(n) });
  assert.deepEqual((await readDataset(repo, 'several'))!.x, x);
  // Deleting the dataset deletes its parts.
  assert.equal(await repo.deleteDataset('several'), true);
  assert.equal((await database.query("select 1 from ml_dataset_parts where dataset_id = 'several'")).length, 0);
});

test('a missing part is an error, not a shorter dataset', async () => {
  const repo = createModelsRepository(database);
  const n = 30_000;
  await repo.createDataset(meta('gap', 4, n), { x: new Float64Array(n * 4).fill(1.5), y: new Int32Array(n) });
  await database.query("delete from ml_dataset_parts where dataset_id = 'gap' and part = 1");
  await assert.rejects(readDataset(repo, 'gap'), /dataset gap: its parts hold \d+ rows, not 30000/);
});

test('a part whose bytes do not fit its rows is an error naming it', async () => {
  const repo = createModelsRepository(database);
  const n = 10_000;
  await repo.createDataset(meta('torn', 4, n), { x: new Float64Array(n * 4).fill(2.5), y: new Int32Array(n) });
  // Part 0 loses its last three bytes of features: no longer whole rows of whole doubles.
  await database.query("update ml_dataset_parts set x = substring(x from 1 for length(x) - 3) where dataset_id = 'torn' and part = 0");
  await assert.rejects(readDataset(repo, 'torn'), /dataset torn: part 0 does not fit its 10000 rows of 4 features/);
});

test("storing a version lets the event loop turn between its transaction's statements", async () => {
  const repo = createModelsRepository(database);
  const version = {
    algorithm: 'decision_tree', param_grid: {}, best_params: {}, best_score: 1, scoring: 'accuracy', cv: 2, cv_results: {} as never,
    training_accuracy: 1, metrics: { accuracy: 1, f1_macro: 1, confusion_matrix: [[1]], method: 'test' }, feature_importances: {},
    dataset_id: 'iris', dataset_hash: 'sha256:test', feature_names: ['f0'], class_names: ['a'], seed: 0, training_ms: 1,
    library_version: 'test', job_id: null, artifact: {},
  };
  // Each statement's answer arrives as I/O (a socket, or a message from the embedded database's thread):
  // were it to answer at once instead, as PGlite on this thread did, the loop would reach its check
  // phase only after the transaction. A ticker that re-arms itself
  // counts the turns: one after the model's row and one after the version's, so the fact is published
  // after at least two (one if either turn were gone).
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  let turnsBeforePublish = 0;
  const ref = await repo.createVersion({ owner: 'storage-test', name: 'loop', algorithm: 'decision_tree' }, version, async () => {
    turnsBeforePublish = turns;
  });
  ticking = false;
  assert.equal(ref.version, 1);
  assert.ok(turnsBeforePublish >= 2, `the loop turned ${turnsBeforePublish} time(s) before the fact was published, not 2`);
});
