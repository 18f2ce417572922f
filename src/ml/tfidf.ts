// TF-IDF text vectors, matching sklearn's TfidfVectorizer defaults exactly (lowercase, token
// pattern (?u)\b\w\w+\b, alphabetical vocabulary, smooth idf ln((1+n)/(1+df)) + 1, raw counts,
// l2 rows), producing CSR rows for k-means and cosine KNN in the recommendation service.

import { NotFittedError } from './errors.ts';
import type { CsrMatrix } from './sparse.ts';

export interface TfidfParams {
  lowercase?: boolean;
  /** Word n-gram lengths [min, max], as sklearn's ngram_range (default [1, 1]). */
  ngramRange?: [number, number];
  /**
   * Ignore terms in fewer documents than this: an integer is a document count (default 1), a
   * value in [0, 1) a proportion of documents (sklearn's int/float distinction, made by value).
   */
  minDf?: number;
  /**
   * Ignore terms in more documents than this: a value in (0, 1] is a proportion (default 1, i.e.
   * sklearn's 1.0), an integer >= 2 a document count.
   */
  maxDf?: number;
  /** Keep only the maxFeatures terms with the highest total count (null: all). */
  maxFeatures?: number | null;
  /** Tokens dropped before n-grams are formed (compared after lowercasing). */
  stopWords?: readonly string[] | null;
  norm?: 'l2' | 'l1' | null;
  useIdf?: boolean;
  smoothIdf?: boolean;
  sublinearTf?: boolean;
}

type Resolved = Required<TfidfParams>;

const KIND = 'TfidfVectorizer';
const VERSION = 1;

const isBool = (v: unknown) => typeof v === 'boolean';
const CONSTRAINTS: Record<keyof TfidfParams, { check: (v: any) => boolean; limit: string; type?: boolean }> = {
  lowercase: { check: isBool, limit: 'a boolean', type: true },
  ngramRange: {
    check: (v) => Array.isArray(v) && v.length === 2 && Number.isInteger(v[0]) && Number.isInteger(v[1]) && v[0] >= 1 && v[1] >= v[0],
    limit: 'a pair [min, max] of integers with 1 <= min <= max',
  },
  minDf: { check: (v) => typeof v === 'number' && v >= 0 && (v < 1 || Number.isInteger(v)), limit: 'an integer count >= 0 or a proportion in [0, 1)' },
  maxDf: { check: (v) => typeof v === 'number' && v > 0 && (v <= 1 || Number.isInteger(v)), limit: 'a proportion in (0, 1] or an integer count >= 2' },
  maxFeatures: { check: (v) => v === null || (Number.isInteger(v) && v >= 1), limit: 'null or an integer >= 1' },
  stopWords: { check: (v) => v === null || (Array.isArray(v) && v.every((w) => typeof w === 'string')), limit: 'null or an array of strings', type: true },
  norm: { check: (v) => v === 'l2' || v === 'l1' || v === null, limit: "'l2', 'l1' or null", type: true },
  useIdf: { check: isBool, limit: 'a boolean', type: true },
  smoothIdf: { check: isBool, limit: 'a boolean', type: true },
  sublinearTf: { check: isBool, limit: 'a boolean', type: true },
};

function resolve(p: TfidfParams): Resolved {
  const r: Resolved = {
    lowercase: p.lowercase ?? true,
    ngramRange: p.ngramRange ?? [1, 1],
    minDf: p.minDf ?? 1,
    maxDf: p.maxDf ?? 1,
    maxFeatures: p.maxFeatures ?? null,
    stopWords: p.stopWords ?? null,
    norm: p.norm === undefined ? 'l2' : p.norm,
    useIdf: p.useIdf ?? true,
    smoothIdf: p.smoothIdf ?? true,
    sublinearTf: p.sublinearTf ?? false,
  };
  for (const key of Object.keys(CONSTRAINTS) as (keyof TfidfParams)[]) {
    const c = CONSTRAINTS[key];
    if (!c.check(r[key])) {
      const Err = c.type ? TypeError : RangeError;
      throw new Err(`TfidfVectorizer: ${key} must be ${c.limit}, got ${JSON.stringify(r[key])}`);
    }
  }
  return r;
}

// Python's \w in a str pattern is a letter, a number or '_' (combining marks are not), and
// \b\w\w+\b then selects maximal runs of at least two such characters.
const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

/** Orders strings by code point, as Python's str comparison (JS's default compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb) return sa ? 1 : -1;
      return ca - cb;
    }
  }
  return a.length - b.length;
}

export class TfidfVectorizer {
  readonly params: Readonly<Resolved>;
  private vocab: Map<string, number> | null = null;
  private names: string[] = [];
  private idfArr: Float64Array | null = null;
  private stop: Set<string> | null;

  constructor(params: TfidfParams = {}) {
    this.params = resolve(params);
    this.stop = this.params.stopWords === null ? null : new Set(this.params.stopWords);
  }

  /** The terms of one document, in order: tokens after lowercasing and stop words, then n-grams. */
  analyze(doc: string): string[] {
    if (typeof doc !== 'string') throw new TypeError(`TfidfVectorizer: documents must be strings, got ${typeof doc}`);
    const text = this.params.lowercase ? doc.toLowerCase() : doc;
    let tokens: string[] = text.match(TOKEN) ?? [];
    if (this.stop !== null) {
      const stop = this.stop;
      const kept: string[] = [];
      for (const t of tokens) if (!stop.has(t)) kept.push(t);
      tokens = kept;
    }
    const [lo, hi] = this.params.ngramRange;
    if (lo === 1 && hi === 1) return tokens;
    const out: string[] = lo === 1 ? tokens.slice() : [];
    for (let n = Math.max(lo, 2); n <= hi; n++) {
      for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join(' '));
    }
    return out;
  }

  fit(docs: readonly string[]): this {
    this.fitTransform(docs);
    return this;
  }

  fitTransform(docs: readonly string[]): CsrMatrix {
    if (!Array.isArray(docs)) throw new TypeError('TfidfVectorizer.fit: docs must be an array of strings');
    const n = docs.length;
    const df = new Map<string, number>();
    const total = new Map<string, number>();
    const analyzed: string[][] = new Array(n);
    for (let d = 0; d < n; d++) {
      const terms = this.analyze(docs[d]);
      analyzed[d] = terms;
      const seen = new Set<string>();
      for (const t of terms) {
        total.set(t, (total.get(t) ?? 0) + 1);
        if (!seen.has(t)) {
          seen.add(t);
          df.set(t, (df.get(t) ?? 0) + 1);
        }
      }
    }
    const { minDf, maxDf, maxFeatures } = this.params;
    const maxCount = maxDf <= 1 ? maxDf * n : maxDf;
    const minCount = minDf < 1 ? minDf * n : minDf;
    if (maxCount < minCount) throw new RangeError('TfidfVectorizer: maxDf corresponds to < documents than minDf');
    let terms = Array.from(df.keys()).sort(compareCodePoints);
    terms = terms.filter((t) => {
      const c = df.get(t) as number;
      return c >= minCount && c <= maxCount;
    });
    if (maxFeatures !== null && terms.length > maxFeatures) {
      // Highest total count first, ties in vocabulary order (sklearn's stable mergesort).
      const ranked = terms.map((t, i) => ({ t, i, c: total.get(t) as number }));
      ranked.sort((a, b) => b.c - a.c || a.i - b.i);
      terms = ranked.slice(0, maxFeatures).map((r) => r.t).sort(compareCodePoints);
    }
    if (terms.length === 0) throw new RangeError('TfidfVectorizer: empty vocabulary; perhaps the documents only contain stop words');
    this.names = terms;
    this.vocab = new Map(terms.map((t, i) => [t, i]));
    const idf = new Float64Array(terms.length);
    const smooth = this.params.smoothIdf ? 1 : 0;
    for (let j = 0; j < terms.length; j++) {
      idf[j] = this.params.useIdf ? Math.log((n + smooth) / ((df.get(terms[j]) as number) + smooth)) + 1 : 1;
    }
    this.idfArr = idf;
    return this.vectorize(analyzed);
  }

  transform(docs: readonly string[]): CsrMatrix {
    if (this.vocab === null) throw new NotFittedError(KIND);
    if (!Array.isArray(docs)) throw new TypeError('TfidfVectorizer.transform: docs must be an array of strings');
    const analyzed: string[][] = new Array(docs.length);
    for (let d = 0; d < docs.length; d++) analyzed[d] = this.analyze(docs[d]);
    return this.vectorize(analyzed);
  }

  private vectorize(analyzed: string[][]): CsrMatrix {
    const vocab = this.vocab as Map<string, number>;
    const idf = this.idfArr as Float64Array;
    const V = this.names.length;
    const counts = new Float64Array(V);
    const rowsIdx: number[] = [];
    const indptr = new Int32Array(analyzed.length + 1);
    const indices: number[] = [];
    const data: number[] = [];
    const { sublinearTf, norm } = this.params;
    for (let d = 0; d < analyzed.length; d++) {
      rowsIdx.length = 0;
      for (const t of analyzed[d]) {
        const j = vocab.get(t);
        if (j === undefined) continue; // unseen at fit: ignored, as sklearn
        if (counts[j] === 0) rowsIdx.push(j);
        counts[j]++;
      }
      rowsIdx.sort((a, b) => a - b);
      const start = indices.length;
      let s = 0;
      for (const j of rowsIdx) {
        const tf = sublinearTf ? Math.log(counts[j]) + 1 : counts[j];
        const v = tf * idf[j];
        counts[j] = 0;
        indices.push(j);
        data.push(v);
        s += norm === 'l1' ? Math.abs(v) : v * v;
      }
      if (norm !== null && s > 0) {
        const inv = norm === 'l2' ? 1 / Math.sqrt(s) : 1 / s;
        for (let p = start; p < data.length; p++) data[p] *= inv;
      }
      indptr[d + 1] = indices.length;
    }
    return { indptr, indices: Int32Array.from(indices), data: Float64Array.from(data), rows: analyzed.length, cols: V };
  }

  /** term → column index. */
  get vocabulary(): ReadonlyMap<string, number> {
    if (this.vocab === null) throw new NotFittedError(KIND);
    return this.vocab;
  }

  get idf(): Float64Array {
    if (this.idfArr === null) throw new NotFittedError(KIND);
    return this.idfArr;
  }

  getFeatureNamesOut(): string[] {
    if (this.vocab === null) throw new NotFittedError(KIND);
    return this.names.slice();
  }

  toJSON(): { kind: string; version: number; params: Resolved; features: string[] | null; idf: number[] | null } {
    return {
      kind: KIND,
      version: VERSION,
      params: { ...this.params, stopWords: this.params.stopWords === null ? null : [...this.params.stopWords] },
      features: this.vocab === null ? null : this.names.slice(),
      idf: this.idfArr === null ? null : Array.from(this.idfArr),
    };
  }

  static fromJSON(json: unknown): TfidfVectorizer {
    const j = json as { kind?: unknown; version?: unknown; params?: TfidfParams; features?: string[] | null; idf?: number[] | null };
    if (j === null || typeof j !== 'object' || j.kind !== KIND) throw new TypeError(`fromJSON: expected kind '${KIND}', got ${JSON.stringify(j?.kind)}`);
    if (j.version !== VERSION) throw new RangeError(`fromJSON: ${KIND} version ${JSON.stringify(j.version)} is not supported (expected ${VERSION})`);
    const v = new TfidfVectorizer(j.params ?? {});
    if (j.features) {
      if (!Array.isArray(j.idf) || j.idf.length !== j.features.length) throw new RangeError('fromJSON: idf must have one value per feature');
      v.names = j.features.slice();
      v.vocab = new Map(v.names.map((t, i) => [t, i]));
      v.idfArr = Float64Array.from(j.idf);
    }
    return v;
  }
}
