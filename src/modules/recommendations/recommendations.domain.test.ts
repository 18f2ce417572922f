// The two models against the original's scikit-learn pipeline (fixtures/reference_sklearn.py wrote
// fixtures/reference.json), and the pure rules: popularity, exclusion, fallbacks, evaluation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { expectClose } from '../../../test/helpers/expect-close.ts';
import {
  CategoryRecommender,
  evaluate,
  fitCategoryModel,
  fitInteractionModel,
  InteractionRecommender,
  popularityOf,
  popularProducts,
  type CatalogueProduct,
  type Interaction,
} from './recommendations.domain.ts';

const ref = JSON.parse(readFileSync(new URL('./fixtures/reference.json', import.meta.url), 'utf8'));
const products: CatalogueProduct[] = ref.products;
const interactions: Interaction[] = ref.interactions;
const params = { nClusters: 5, nNeighbors: 6, nInit: 10, seed: 42 };
const pop = popularityOf(products, interactions);

test("the category clusters equal scikit-learn's TfidfVectorizer + KMeans(5, random_state=42) partition", () => {
  const model = fitCategoryModel(products, pop, params)!;
  assert.equal(model.nClusters, 5);
  const groups = new Map<number, string[]>();
  model.labels.forEach((l, i) => groups.set(l, [...(groups.get(l) ?? []), products[i].product_id]));
  const partition = [...groups.values()].map((g) => g.sort()).sort((a, b) => (a.join() < b.join() ? -1 : 1));
  assert.deepEqual(partition, ref.partition);
});

test("a query category goes to scikit-learn's cluster; one with no known word has none", () => {
  const rec = new CategoryRecommender(fitCategoryModel(products, pop, params)!);
  for (const q of ref.queries) {
    const got = rec.recommend(q.category);
    if (!q.known) assert.equal(got, null, q.category);
    else assert.deepEqual(got!.map((r) => r.product_id).sort(), q.cluster, q.category);
  }
});

test("every neighbour list without ties equals scikit-learn's NearestNeighbors(cosine) on the count matrix", () => {
  const model = fitInteractionModel(products, pop, interactions, { nNeighbors: 6 })!;
  let compared = 0;
  for (const n of ref.neighbours) {
    const i = model.items.indexOf(n.product_id);
    assert.ok(i >= 0, n.product_id);
    const got = model.neighbours.slice(i * 6, i * 6 + 6).map((j) => model.items[j]);
    expectClose(model.distances.slice(i * 6, i * 6 + 6), n.distances, { atol: 1e-9, msg: n.product_id });
    if (n.ties) continue;
    assert.deepEqual(got, n.neighbours, n.product_id);
    compared++;
  }
  assert.ok(compared >= 20, `only ${compared} lists compared`);
});

test('recommendations drop the item itself and what the user has, and carry the catalogue fields', () => {
  const rec = new InteractionRecommender(fitInteractionModel(products, pop, interactions, { nNeighbors: 6 })!);
  const n = ref.neighbours.find((x: { ties: boolean }) => !x.ties);
  const list = rec.neighbours(n.product_id)!;
  assert.deepEqual(list.map((r) => r.product_id), n.neighbours.filter((p: string) => p !== n.product_id).slice(0, 5));
  for (const r of list) {
    assert.deepEqual(Object.keys(r).sort(), ['category', 'product_id', 'product_name', 'score']);
    assert.ok(r.score >= 0 && r.score <= 1);
  }
  const without = rec.neighbours(n.product_id, new Set([list[0].product_id]))!;
  assert.ok(!without.some((r) => r.product_id === list[0].product_id));
  assert.equal(rec.neighbours('nope'), null);
});

test('the number of clusters never exceeds the distinct categories; no words means no model', () => {
  const two = products.filter((p) => p.category === 'Kitchen' || p.category === 'Outdoor');
  assert.equal(fitCategoryModel(two, popularityOf(two, []), params)!.nClusters, 2);
  const same = [{ product_id: 'a', product_name: 'A', category: 'Toys' }, { product_id: 'b', product_name: 'B', category: 'toys' }];
  assert.equal(fitCategoryModel(same, [0, 0], params)!.nClusters, 1);
  assert.equal(fitCategoryModel([{ product_id: 'a', product_name: 'A', category: '' }], [0], params), null);
  assert.equal(fitCategoryModel([], [], params), null);
  assert.equal(fitInteractionModel(products, pop, [], params), null);
});

test('popular products: by total interactions, then id; by category case-insensitively; exclusions', () => {
  const ps = [
    { product_id: 'a', product_name: 'A', category: 'Toys' },
    { product_id: 'b', product_name: 'B', category: 'toys' },
    { product_id: 'c', product_name: 'C', category: 'Books' },
  ];
  const p = popularityOf(ps, [{ product_id: 'b', user_id: 'u', count: 3 }, { product_id: 'c', user_id: 'u', count: 1 }, { product_id: 'zz', user_id: 'u', count: 9 }]);
  assert.deepEqual(p, [0, 3, 1]);
  assert.deepEqual(popularProducts(ps, p, { limit: 10 }).map((r) => [r.product_id, r.score]), [['b', 1], ['c', 0.333333], ['a', 0]]);
  assert.deepEqual(popularProducts(ps, p, { category: ' TOYS', limit: 10 }).map((r) => r.product_id), ['b', 'a']);
  assert.deepEqual(popularProducts(ps, p, { exclude: new Set(['b']), limit: 1 }).map((r) => r.product_id), ['c']);
});

test('leave-last-out evaluation: metrics in range, the same users for every strategy', () => {
  const timed = interactions.map((it, t) => ({ ...it, at: t }));
  const r = evaluate(products, timed, params);
  assert.ok(r.users_evaluated > 20);
  assert.deepEqual(r.rows.map((x) => x.strategy), ['interaction', 'category', 'popular']);
  for (const row of r.rows) {
    assert.equal(row.users, r.users_evaluated);
    for (const v of [row.precision_at_10, row.recall_at_10, row.ndcg_at_10, row.coverage]) assert.ok(v >= 0 && v <= 1, JSON.stringify(row));
    assert.ok(row.precision_at_10 <= row.recall_at_10);
    assert.ok(row.ndcg_at_10 <= row.recall_at_10);
  }
  // Users who interact within one group: the category model finds the held-out product more often
  // than global popularity does.
  const by = Object.fromEntries(r.rows.map((x) => [x.strategy, x]));
  assert.ok(by.category.recall_at_10 > by.popular.recall_at_10, JSON.stringify(r.rows));
});

test('evaluation by hand: one user, held-out product found at rank 1 by popularity', () => {
  const ps = ['a', 'b', 'c'].map((id) => ({ product_id: id, product_name: id, category: 'x y' }));
  const its = [
    { product_id: 'a', user_id: 'u1', count: 1, at: 1 },
    { product_id: 'b', user_id: 'u1', count: 1, at: 2 },
    { product_id: 'b', user_id: 'u2', count: 5, at: 1 },
  ];
  const r = evaluate(ps, its, params);
  assert.equal(r.users_evaluated, 1);
  const popular = r.rows.find((x) => x.strategy === 'popular')!;
  assert.deepEqual([popular.precision_at_10, popular.recall_at_10, popular.ndcg_at_10], [0.1, 1, 1]);
});
