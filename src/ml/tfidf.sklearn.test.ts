// Compares TfidfVectorizer with sklearn's on the corpus fixture written by
// scripts/sklearn_ref_cluster.py (categories, punctuation, case, numbers, repeats, non-ASCII).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TfidfVectorizer } from './tfidf.ts';
import { csrToDense } from './sparse.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

const fx = JSON.parse(readFileSync(new URL('./fixtures/tfidf-corpus.json', import.meta.url), 'utf8'));

for (const c of fx.configs) {
  test(`TF-IDF ${c.name}: vocabulary, idf, fit and transform matrices equal sklearn's to 1e-12`, () => {
    const v = new TfidfVectorizer(c.params);
    const X = v.fitTransform(fx.corpus);
    assert.deepEqual(v.getFeatureNamesOut(), c.features);
    expectClose(v.idf, c.idf, { rtol: 1e-12, atol: 1e-12 });
    expectClose(csrToDense(X).data, c.dense.flat(), { rtol: 1e-12, atol: 1e-12 });
    expectClose(csrToDense(v.transform(fx.queries)).data, c.queryDense.flat(), { rtol: 1e-12, atol: 1e-12 });
  });
}
