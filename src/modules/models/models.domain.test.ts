import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { AppError } from '../../platform/errors.ts';
import { algorithmOf, buildDataset, checkCv, confusionMatrix, contentHash, gridOf, parseCsv, parseVersionRefs, predictionRows } from './models.domain.ts';

const fails = (fn: () => unknown, code: string, text: string | RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof AppError && e.code === code && (typeof text === 'string' ? e.message.includes(text) : text.test(e.message)));

test('algorithms: the seed two, others refused with the list', () => {
  assert.equal(algorithmOf('random_forest').kind, 'RandomForestClassifier');
  fails(() => algorithmOf('svm'), 'VALIDATION_ERROR', 'supported: decision_tree, random_forest');
  fails(() => algorithmOf('__proto__'), 'VALIDATION_ERROR', 'unknown algorithm');
});

test("grids: the seed's defaults, single values become one-value lists, limits", () => {
  assert.deepEqual(gridOf('decision_tree', undefined, 5), { max_depth: [2, 5, 7, 10], criterion: ['entropy', 'gini'] });
  assert.deepEqual(gridOf('random_forest', {}, 5), { n_estimators: [10, 50, 100], max_depth: [2, 5, 7, 10] });
  assert.deepEqual(gridOf('decision_tree', { max_depth: 3, criterion: ['gini'] }, 5), { max_depth: [3], criterion: ['gini'] });
  fails(() => gridOf('decision_tree', { max_depth: [] }, 5), 'VALIDATION_ERROR', 'at least one value');
  fails(() => gridOf('decision_tree', { max_depth: [{}] }, 5), 'VALIDATION_ERROR', 'params.max_depth');
  fails(() => gridOf('random_forest', { n_estimators: [1000], max_depth: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }, 5), 'UNPROCESSABLE', 'trees');
  fails(() => gridOf('random_forest', { n_jobs: 4 }, 5), 'VALIDATION_ERROR', 'n_jobs');
});

test('cv needs every class to have at least as many rows as folds', () => {
  checkCv(5, [5, 9], ['a', 'b']);
  fails(() => checkCv(5, [4, 9], ['a', 'b']), 'UNPROCESSABLE', 'class "a" has 4 rows, fewer than the 5 folds');
});

test('CSV: quotes, doubled quotes, CRLF, BOM, blank last line', () => {
  assert.deepEqual(parseCsv('\uFEFFa,"b,c"\r\n1,"say ""hi"""\r\n'), [['a', 'b,c'], ['1', 'say "hi"']]);
  fails(() => parseCsv('a,"b\n1,2'), 'VALIDATION_ERROR', 'not closed');
});

test('datasets: label, classes sorted (numerically when numbers), refusals name row and column', () => {
  const d = buildDataset({ columns: ['x', 'y', 'c'], rows: [['1', '2', '10'], ['3', '4', '9'], ['5', '6', '10'], ['7', '8', '9']], label: 'c', minClassRows: 2 });
  assert.deepEqual(d.classNames, ['9', '10']);
  assert.deepEqual(d.y, Int32Array.from([1, 0, 1, 0]));
  assert.deepEqual(d.x, Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 'row-major features');
  const o = buildDataset({ columns: null, rows: [{ a: 1, k: 'n' }, { a: 2, k: 'm' }], minClassRows: 1 });
  assert.deepEqual([o.featureNames, o.labelColumn, o.classNames], [['a'], 'k', ['m', 'n']]);
  fails(() => buildDataset({ columns: ['a', 'k'], rows: [['1', 'x'], ['1']], minClassRows: 1 }), 'VALIDATION_ERROR', 'row 2 has 1 fields');
  fails(() => buildDataset({ columns: ['a', 'k'], rows: [['1', 'x'], ['NaN', 'y']], minClassRows: 1 }), 'VALIDATION_ERROR', 'row 2, column "a"');
  fails(() => buildDataset({ columns: ['a', 'k'], rows: [['1e999', 'x']], minClassRows: 1 }), 'VALIDATION_ERROR', 'finite');
  fails(() => buildDataset({ columns: null, rows: [{ a: 1, k: 'x' }, { a: 1, k: 'y', z: 2 }], minClassRows: 1 }), 'VALIDATION_ERROR', 'ragged');
  fails(() => buildDataset({ columns: ['a', 'k'], rows: [['1', 'x'], ['2', 'y'], ['3', 'y']], minClassRows: 2 }), 'UNPROCESSABLE', 'class "x" has 1 rows');
});

test('content hash: same content same hash, any change another', () => {
  const d = { featureNames: ['a', 'b'], classNames: ['x', 'y'], x: Float64Array.from([1, 0.5, 2, -3e-7]), y: Int32Array.from([0, 1]) };
  assert.equal(contentHash(d), contentHash(structuredClone(d)));
  assert.notEqual(contentHash(d), contentHash({ ...d, y: Int32Array.from([1, 0]) }));
  // The text hashed since the registry's first version (when rows were arrays): stored hashes stay valid.
  const text = `${JSON.stringify([['a', 'b'], ['x', 'y']])}1,0.5;0\n2,-3e-7;1\n`;
  assert.equal(contentHash(d), `sha256:${createHash('sha256').update(text).digest('hex')}`);
});

test('prediction input: a row, a batch, an object; counts and types checked', () => {
  const f = ['a', 'b'];
  assert.deepEqual(predictionRows([1, 2], f, 10), { rows: [[1, 2]], batch: false });
  assert.deepEqual(predictionRows([[1, 2], [3, 4]], f, 10), { rows: [[1, 2], [3, 4]], batch: true });
  assert.deepEqual(predictionRows({ b: 2, a: 1 }, f, 10), { rows: [[1, 2]], batch: false });
  fails(() => predictionRows([1], f, 10), 'VALIDATION_ERROR', 'expected 2 features, got 1');
  fails(() => predictionRows([1, '2'], f, 10), 'VALIDATION_ERROR', 'input[1] (b) must be a number');
  fails(() => predictionRows({ a: 1 }, f, 10), 'VALIDATION_ERROR', 'missing b');
  fails(() => predictionRows([[1, 2], [1, 2], [1, 2]], f, 2), 'PAYLOAD_TOO_LARGE', 'at most 2');
  fails(() => predictionRows('x', f, 10), 'VALIDATION_ERROR', 'input must be');
});

test('confusion matrix and compare ids', () => {
  assert.deepEqual(confusionMatrix([0, 0, 1, 2], [0, 1, 1, 2], 3), [[1, 1, 0], [0, 1, 0], [0, 0, 1]]);
  assert.deepEqual(parseVersionRefs('1:2, 3:4', 10), [{ modelId: 1, version: 2 }, { modelId: 3, version: 4 }]);
  fails(() => parseVersionRefs('1', 10), 'VALIDATION_ERROR', 'model_id:version');
  fails(() => parseVersionRefs('1:1,1:2,1:3', 2), 'VALIDATION_ERROR', 'at most 2');
});
