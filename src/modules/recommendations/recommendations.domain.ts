// The recommendation models as pure functions over plain data, on src/ml's estimators:
// - category: TF-IDF over each product's category, then k-means; a query category goes through the
//   vectorizer to its nearest cluster (the original's TfidfVectorizer + KMeans(5) pipeline);
// - interaction: item-item cosine KNN over the product × user interaction-count matrix, each item's
//   neighbours computed once at build (the original's NearestNeighbors(metric='cosine'));
// - popularity: products by total interactions, the fallback of both;
// and leave-last-out evaluation of the three. No I/O: the service and the training thread call these.
import { KMeans } from '../../ml/kmeans.ts';
import { NearestNeighbors } from '../../ml/knn.ts';
import { csrFromTriplets, type CsrMatrix } from '../../ml/sparse.ts';
import { compareCodePoints, TfidfVectorizer } from '../../ml/tfidf.ts';

export interface CatalogueProduct {
  product_id: string;
  product_name: string;
  category: string;
}

export interface Interaction {
  product_id: string;
  user_id: string;
  /** Interactions of this user with this product (the matrix value). */
  count: number;
  /** When it last changed (ms); leave-last-out holds out each user's latest. */
  at?: number;
}

export interface Recommendation {
  product_id: string;
  product_name: string;
  category: string;
  score: number;
}

export const STRATEGIES = ['interaction', 'category', 'popular'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface ModelParams {
  /** k-means clusters (the seed's 5), never more than the distinct categories. */
  nClusters: number;
  /** Neighbours per item including the item itself (the seed's 6). */
  nNeighbors: number;
  /**
   * k-means++ initialisations, the best inertia kept. The original ran one (sklearn's n_init='auto'),
   * which can stop in a worse local optimum; several find sklearn's partition on the fixture.
   */
  nInit: number;
  seed: number;
}

/** Products in rank order of popularity: total interactions, then product id. */
export interface Popularity {
  order: number[];
  counts: number[];
}

export interface CategoryModelJSON {
  products: CatalogueProduct[];
  popularity: number[];
  nClusters: number;
  /** Each product's cluster. */
  labels: number[];
  vectorizer: unknown;
  kmeans: unknown;
}

export interface InteractionModelJSON {
  products: CatalogueProduct[];
  popularity: number[];
  /** Matrix rows: the interacted products, in code-point order of their ids (the pivot table's order). */
  items: string[];
  users: number;
  k: number;
  /** items × k neighbour indices into `items`, nearest first (-1 past the end), and cosine distances. */
  neighbours: number[];
  distances: number[];
}

export const byId = (a: string, b: string) => compareCodePoints(a, b);

/** Total interactions per catalogue product. */
export function popularityOf(products: readonly CatalogueProduct[], interactions: readonly Interaction[]): number[] {
  const index = new Map(products.map((p, i) => [p.product_id, i]));
  const counts = new Array<number>(products.length).fill(0);
  for (const it of interactions) {
    const i = index.get(it.product_id);
    if (i !== undefined) counts[i] += it.count;
  }
  return counts;
}

/** The key of a category's TF-IDF vector: its sorted lowercase words (equal keys, equal vectors). */
function categoryKey(vectorizer: TfidfVectorizer, category: string): string {
  return vectorizer.analyze(category).sort(byId).join(' ');
}

/** A model of the catalogue alone (no category had a word, or nothing interacted): answers fall back to popular products. */
export function emptyCategoryModel(products: readonly CatalogueProduct[], popularity: number[]): CategoryModelJSON {
  return { products: [...products], popularity, nClusters: 0, labels: [], vectorizer: null, kmeans: null };
}

export function emptyInteractionModel(products: readonly CatalogueProduct[], popularity: number[]): InteractionModelJSON {
  return { products: [...products], popularity, items: [], users: 0, k: 0, neighbours: [], distances: [] };
}

/** TF-IDF + k-means over the products' categories; null when no category has a word. */
export function fitCategoryModel(products: readonly CatalogueProduct[], popularity: number[], params: ModelParams): CategoryModelJSON | null {
  if (!products.length) return null;
  const vectorizer = new TfidfVectorizer();
  const docs = products.map((p) => p.category);
  if (!docs.some((d) => vectorizer.analyze(d).length)) return null;
  const X = vectorizer.fitTransform(docs);
  const distinct = new Set(docs.map((d) => categoryKey(vectorizer, d))).size;
  const nClusters = Math.max(1, Math.min(params.nClusters, distinct));
  const kmeans = new KMeans({ nClusters, seed: params.seed, nInit: params.nInit }).fit(X);
  return { products: [...products], popularity, nClusters, labels: Array.from(kmeans.labels), vectorizer: vectorizer.toJSON(), kmeans: kmeans.toJSON() };
}

/** The product × user count matrix, rows and columns in code-point order of their ids. */
export function interactionMatrix(interactions: readonly Interaction[]): { items: string[]; users: string[]; X: CsrMatrix } {
  const items = [...new Set(interactions.map((i) => i.product_id))].sort(byId);
  const users = [...new Set(interactions.map((i) => i.user_id))].sort(byId);
  const itemIx = new Map(items.map((p, i) => [p, i]));
  const userIx = new Map(users.map((u, i) => [u, i]));
  const r = new Int32Array(interactions.length);
  const c = new Int32Array(interactions.length);
  const v = new Float64Array(interactions.length);
  interactions.forEach((it, t) => {
    r[t] = itemIx.get(it.product_id)!;
    c[t] = userIx.get(it.user_id)!;
    v[t] = it.count;
  });
  return { items, users, X: csrFromTriplets(items.length, users.length, r, c, v) };
}

/** Cosine KNN over the item rows; every item's neighbours (itself included, as sklearn) are kept. */
export function fitInteractionModel(products: readonly CatalogueProduct[], popularity: number[], interactions: readonly Interaction[], params: Pick<ModelParams, 'nNeighbors'>): InteractionModelJSON | null {
  const live = interactions.filter((i) => i.count > 0);
  if (!live.length) return null;
  const { items, users, X } = interactionMatrix(live);
  const k = Math.min(params.nNeighbors, items.length);
  const nn = new NearestNeighbors({ nNeighbors: k, metric: 'cosine' }).fit(X);
  const res = nn.kneighbors(X, k);
  return { products: [...products], popularity, items, users: users.length, k, neighbours: Array.from(res.indices), distances: Array.from(res.distances) };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** A fitted category model, ready to answer. */
export class CategoryRecommender {
  readonly products: CatalogueProduct[];
  readonly nClusters: number;
  private readonly vectorizer: TfidfVectorizer;
  private readonly kmeans: KMeans;
  private readonly labels: Int32Array;
  private readonly vectors: CsrMatrix;
  readonly popularity: number[];
  private readonly byCluster: number[][];

  constructor(json: CategoryModelJSON) {
    this.products = json.products;
    this.nClusters = json.nClusters;
    this.popularity = json.popularity;
    // nClusters 0: a build that saw no category with a word; every query falls back to popular products.
    this.vectorizer = json.nClusters ? TfidfVectorizer.fromJSON(json.vectorizer) : new TfidfVectorizer();
    this.kmeans = json.nClusters ? KMeans.fromJSON(json.kmeans) : new KMeans();
    this.labels = Int32Array.from(json.labels);
    this.vectors = json.nClusters ? this.vectorizer.transform(this.products.map((p) => p.category)) : { indptr: new Int32Array(1), indices: new Int32Array(0), data: new Float64Array(0), rows: 0, cols: 0 };
    this.byCluster = Array.from({ length: json.nClusters }, () => []);
    this.labels.forEach((l, i) => this.byCluster[l].push(i));
  }

  /** The cluster of a category, or null when none of its words is known. */
  clusterOf(category: string): { cluster: number; q: CsrMatrix } | null {
    if (!this.nClusters) return null;
    const q = this.vectorizer.transform([category]);
    if (q.indptr[1] === 0) return null;
    return { cluster: this.kmeans.predict(q)[0], q };
  }

  /**
   * Every product whose category falls in the query category's cluster, most similar category first
   * (cosine of the TF-IDF vectors), then most popular, then by id; null when the category has no known
   * word (the caller falls back to popular products).
   */
  recommend(category: string, exclude: ReadonlySet<string> = new Set(), limit = Infinity): Recommendation[] | null {
    const ranked = this.ranked(category);
    if (!ranked) return null;
    const out: Recommendation[] = [];
    for (const { i, s } of ranked) {
      if (out.length >= limit) break;
      if (exclude.has(this.products[i].product_id)) continue;
      out.push({ ...this.products[i], score: round(s) });
    }
    return out;
  }

  // Rankings by the query's words (equal words, equal vector): a cluster of thousands of products costs
  // milliseconds to score and sort, so the last CACHE_MAX distinct queries are kept with the model.
  private readonly cache = new Map<string, { i: number; s: number }[] | null>();

  private ranked(category: string): { i: number; s: number }[] | null {
    if (!this.nClusters) return null;
    const key = categoryKey(this.vectorizer, category);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const found = this.clusterOf(category);
    let scored: { i: number; s: number }[] | null = null;
    if (found) {
      const { q } = found;
      const qv = new Map<number, number>();
      for (let p = q.indptr[0]; p < q.indptr[1]; p++) qv.set(q.indices[p], q.data[p]);
      const V = this.vectors;
      scored = [];
      for (const i of this.byCluster[found.cluster]) {
        let s = 0;
        for (let p = V.indptr[i]; p < V.indptr[i + 1]; p++) s += (qv.get(V.indices[p]) ?? 0) * V.data[p];
        scored.push({ i, s });
      }
      scored.sort((a, b) => b.s - a.s || this.popularity[b.i] - this.popularity[a.i] || byId(this.products[a.i].product_id, this.products[b.i].product_id));
    }
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, scored);
    return scored;
  }
}

const CACHE_MAX = 1000;

/** Popular products (optionally of one category, case-insensitive), excluding some ids. */
export function popularProducts(products: readonly CatalogueProduct[], popularity: readonly number[], opts: { category?: string; exclude?: ReadonlySet<string>; limit: number }): Recommendation[] {
  const cat = opts.category?.trim().toLowerCase();
  const idx: number[] = [];
  for (let i = 0; i < products.length; i++) {
    if (opts.exclude?.has(products[i].product_id)) continue;
    if (cat !== undefined && products[i].category.trim().toLowerCase() !== cat) continue;
    idx.push(i);
  }
  idx.sort((a, b) => popularity[b] - popularity[a] || byId(products[a].product_id, products[b].product_id));
  const max = idx.length ? Math.max(1, popularity[idx[0]]) : 1;
  return idx.slice(0, opts.limit).map((i) => ({ ...products[i], score: round(popularity[i] / max) }));
}

/** A fitted interaction model, ready to answer. */
export class InteractionRecommender {
  readonly products: CatalogueProduct[];
  readonly popularity: number[];
  readonly k: number;
  private readonly itemIx: Map<string, number>;
  private readonly catalogue: Map<string, CatalogueProduct>;
  private readonly json: InteractionModelJSON;

  constructor(json: InteractionModelJSON) {
    this.json = json;
    this.products = json.products;
    this.popularity = json.popularity;
    this.k = json.k;
    this.itemIx = new Map(json.items.map((p, i) => [p, i]));
    this.catalogue = new Map(json.products.map((p) => [p.product_id, p]));
  }

  has(productId: string): boolean {
    return this.itemIx.has(productId);
  }

  /**
   * The item's nearest neighbours minus itself (at most k − 1), as catalogue products with their
   * cosine similarity; null when the product has no interactions (the caller falls back).
   */
  neighbours(productId: string, exclude: ReadonlySet<string> = new Set()): Recommendation[] | null {
    const i = this.itemIx.get(productId);
    if (i === undefined) return null;
    const out: Recommendation[] = [];
    const { neighbours, distances, items, k } = this.json;
    for (let t = 0; t < k; t++) {
      const j: number = neighbours[i * k + t];
      if (j < 0 || j === i) continue;
      const id = items[j];
      const p = this.catalogue.get(id);
      if (!p || exclude.has(id)) continue;
      out.push({ ...p, score: round(1 - distances[i * k + t]) });
    }
    return out.slice(0, k - 1);
  }
}

export interface EvaluationRow {
  strategy: Strategy;
  precision_at_10: number;
  recall_at_10: number;
  ndcg_at_10: number;
  coverage: number;
  users: number;
}

export interface EvaluationResult {
  users_evaluated: number;
  products: number;
  interactions: number;
  rows: EvaluationRow[];
}

/**
 * Leave-last-out: every user with at least two products holds out their latest (ties: the larger
 * id); the models are fitted on the rest; each strategy recommends 10 products from the user's latest
 * remaining product (the KNN asks for 10 neighbours besides the item, the category model ranks the
 * item's cluster), never ones the user already has. Precision@10 = hits / 10, recall@10 = hits / 1,
 * NDCG@10 = 1 / log2(rank + 1) of the held-out product, coverage = distinct products recommended /
 * catalogue size.
 */
export function evaluate(products: readonly CatalogueProduct[], interactions: readonly Interaction[], params: ModelParams, at = 10): EvaluationResult {
  const byUser = new Map<string, Interaction[]>();
  for (const it of interactions) if (it.count > 0) byUser.set(it.user_id, [...(byUser.get(it.user_id) ?? []), it]);
  const held = new Map<string, Interaction>();
  const train: Interaction[] = [];
  const history = new Map<string, Interaction[]>();
  const order = (a: Interaction, b: Interaction) => (a.at ?? 0) - (b.at ?? 0) || byId(a.product_id, b.product_id);
  for (const [u, list] of byUser) {
    list.sort(order);
    if (list.length >= 2) {
      held.set(u, list[list.length - 1]);
      history.set(u, list.slice(0, -1));
      train.push(...list.slice(0, -1));
    } else train.push(...list);
  }
  const pop = popularityOf(products, train);
  const cat = fitCategoryModel(products, pop, params);
  const knn = fitInteractionModel(products, pop, train, { nNeighbors: at + 1 });
  const catR = cat ? new CategoryRecommender(cat) : null;
  const knnR = knn ? new InteractionRecommender(knn) : null;
  const catalogue = new Map(products.map((p) => [p.product_id, p]));
  const acc = STRATEGIES.map((strategy) => ({ strategy, p: 0, r: 0, n: 0, seen: new Set<string>() }));
  for (const [u, target] of held) {
    const hist = history.get(u)!;
    const seen = new Set(hist.map((h) => h.product_id));
    const last = hist[hist.length - 1];
    const category = catalogue.get(last.product_id)?.category ?? '';
    const lists: Record<Strategy, Recommendation[]> = {
      interaction: knnR?.neighbours(last.product_id, seen)?.slice(0, at) ?? [],
      category: catR?.recommend(category, seen, at) ?? [],
      popular: popularProducts(products, pop, { exclude: seen, limit: at }),
    };
    for (const a of acc) {
      const list = lists[a.strategy];
      for (const r of list) a.seen.add(r.product_id);
      const rank = list.findIndex((r) => r.product_id === target.product_id);
      if (rank >= 0) {
        a.p += 1;
        a.n += 1 / Math.log2(rank + 2);
      }
    }
  }
  const users = held.size;
  return {
    users_evaluated: users,
    products: products.length,
    interactions: interactions.length,
    rows: acc.map((a) => ({
      strategy: a.strategy,
      precision_at_10: users ? round(a.p / (at * users)) : 0,
      recall_at_10: users ? round(a.p / users) : 0,
      ndcg_at_10: users ? round(a.n / users) : 0,
      coverage: products.length ? round(a.seen.size / products.length) : 0,
      users,
    })),
  };
}

/** A stable fingerprint of what a build saw: equal fingerprints need no new build. */
export function fingerprintOf(s: { products: number; interactions: number; productsChanged: string | null; interactionsChanged: string | null; params: ModelParams }): string {
  return JSON.stringify([s.products, s.interactions, s.productsChanged, s.interactionsChanged, s.params.nClusters, s.params.nNeighbors, s.params.nInit, s.params.seed]);
}
