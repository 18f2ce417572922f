import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TfidfVectorizer, compareCodePoints } from './tfidf.ts';
import { NotFittedError } from './errors.ts';
import { csrToDense } from './sparse.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

test('hand-computed smooth idf, raw counts and l2 rows', () => {
  const v = new TfidfVectorizer();
  const X = v.fitTransform(['The cat sat.', 'the DOG sat', 'cat cat a']);
  assert.deepEqual(v.getFeatureNamesOut(), ['cat', 'dog', 'sat', 'the']);
  const idf = (df: number) => Math.log(4 / (1 + df)) + 1;
  expectClose(v.idf, [idf(2), idf(1), idf(2), idf(2)], { rtol: 1e-15 });
  const row = (w: number[]) => {
    const n = Math.hypot(...w);
    return w.map((x) => x / n);
  };
  const want = [
    ...row([idf(2), 0, idf(2), idf(2)]),
    ...row([0, idf(1), idf(2), idf(2)]),
    ...row([2 * idf(2), 0, 0, 0]), // 'a' is one character: not a token
  ];
  expectClose(csrToDense(X).data, want, { rtol: 1e-14, atol: 1e-15 });
  assert.deepEqual(Array.from(X.indptr), [0, 3, 6, 7]);
});

test('unknown words are ignored at transform; empty rows stay empty', () => {
  const v = new TfidfVectorizer().fit(['red shoes', 'blue shoes']);
  const X = v.transform(['green hat', 'red red']);
  assert.deepEqual(Array.from(X.indptr), [0, 0, 1]);
  expectClose(X.data, [1]);
  assert.equal(v.vocabulary.get('red'), 1);
});

test('unicode tokens follow Python (?u)\\b\\w\\w+\\b and sort by code point', () => {
  const v = new TfidfVectorizer();
  assert.deepEqual(v.analyze("Home & Kitchen, don't x² 日本語 Straße cafe\u0301 हिन्दी _id_"), ['home', 'kitchen', 'don', 'x²', '日本語', 'straße', 'cafe', '_id_']);
  assert.ok(compareCodePoints('\u{1F600}', '\uFFFD') > 0); // UTF-16 order would say < 0
  assert.deepEqual(['b', 'é', 'a', 'Z'].sort(compareCodePoints), ['Z', 'a', 'b', 'é']);
});

test('n-grams, stop words, df limits and maxFeatures', () => {
  const v = new TfidfVectorizer({ ngramRange: [1, 2], stopWords: ['the'] });
  assert.deepEqual(v.analyze('the red the shoe'), ['red', 'shoe', 'red shoe']);
  const docs = ['a1 b1 c1', 'a1 b1', 'a1 a1 d1'];
  assert.deepEqual(new TfidfVectorizer({ maxDf: 0.9 }).fit(docs).getFeatureNamesOut(), ['b1', 'c1', 'd1']);
  assert.deepEqual(new TfidfVectorizer({ minDf: 2 }).fit(docs).getFeatureNamesOut(), ['a1', 'b1']);
  assert.deepEqual(new TfidfVectorizer({ maxFeatures: 2 }).fit(docs).getFeatureNamesOut(), ['a1', 'b1']);
});

test('JSON round trip transforms identically; kind, version and params are checked', () => {
  const v = new TfidfVectorizer({ sublinearTf: true }).fit(['Books and more books', 'Electronics', 'Home & Kitchen']);
  const back = TfidfVectorizer.fromJSON(JSON.parse(JSON.stringify(v.toJSON())));
  assert.deepEqual(back.transform(['books electronics home']), v.transform(['books electronics home']));
  assert.throws(() => TfidfVectorizer.fromJSON({ ...v.toJSON(), kind: 'x' }), /kind/);
  assert.throws(() => TfidfVectorizer.fromJSON({ ...v.toJSON(), version: 2 }), /version/);
  assert.throws(() => new TfidfVectorizer().transform(['x']), NotFittedError);
  assert.throws(() => new TfidfVectorizer({ ngramRange: [2, 1] }), /ngramRange must be/);
  assert.throws(() => new TfidfVectorizer({ minDf: 1.5 }), RangeError);
  assert.throws(() => new TfidfVectorizer({ norm: 'l3' as 'l2' }), TypeError);
});
