// Bounded max-heaps for top-k selection: keep the k smallest (value, index) pairs seen so far
// in O(log k) per accepted candidate, with ties broken by the lower index (as sklearn's brute
// force neighbours). Many heaps share one pair of flat typed arrays so a batch of queries needs
// no allocation.

export class TopKHeaps {
  readonly k: number;
  readonly count: number;
  readonly vals: Float64Array;
  readonly idx: Int32Array;
  readonly size: Int32Array;

  constructor(count: number, k: number) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be an integer >= 1, got ${k}`);
    this.k = k;
    this.count = count;
    this.vals = new Float64Array(count * k);
    this.idx = new Int32Array(count * k);
    this.size = new Int32Array(count);
  }

  reset(): void {
    this.size.fill(0);
  }

  /** Largest kept value of heap h, or +Infinity while it holds fewer than k items. */
  worst(h: number): number {
    return this.size[h] < this.k ? Infinity : this.vals[h * this.k];
  }

  /** Offers (v, i) to heap h; returns whether it was kept. */
  push(h: number, v: number, i: number): boolean {
    const k = this.k;
    const vals = this.vals;
    const idx = this.idx;
    const base = h * k;
    let n = this.size[h];
    if (n < k) {
      // sift up
      let c = n;
      while (c > 0) {
        const p = (c - 1) >> 1;
        const pv = vals[base + p];
        if (pv > v || (pv === v && idx[base + p] > i)) break;
        vals[base + c] = pv;
        idx[base + c] = idx[base + p];
        c = p;
      }
      vals[base + c] = v;
      idx[base + c] = i;
      this.size[h] = n + 1;
      return true;
    }
    const tv = vals[base];
    if (v > tv || (v === tv && i > idx[base])) return false;
    // replace root, sift down
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= n) break;
      let m = l;
      const r = l + 1;
      if (r < n) {
        const lv = vals[base + l];
        const rv = vals[base + r];
        if (rv > lv || (rv === lv && idx[base + r] > idx[base + l])) m = r;
      }
      const mv = vals[base + m];
      if (mv < v || (mv === v && idx[base + m] < i)) break;
      vals[base + c] = mv;
      idx[base + c] = idx[base + m];
      c = m;
    }
    vals[base + c] = v;
    idx[base + c] = i;
    return true;
  }

  /**
   * Writes heap h sorted ascending by (value, index) into outVals/outIdx at offset; slots beyond
   * its size get (+Infinity, -1). Sorting k items is insertion sort, k is small.
   */
  sortedInto(h: number, outVals: Float64Array, outIdx: Int32Array, offset: number): void {
    const k = this.k;
    const n = this.size[h];
    const base = h * k;
    for (let a = 0; a < n; a++) {
      const v = this.vals[base + a];
      const i = this.idx[base + a];
      let b = a - 1;
      while (b >= 0 && (outVals[offset + b] > v || (outVals[offset + b] === v && outIdx[offset + b] > i))) {
        outVals[offset + b + 1] = outVals[offset + b];
        outIdx[offset + b + 1] = outIdx[offset + b];
        b--;
      }
      outVals[offset + b + 1] = v;
      outIdx[offset + b + 1] = i;
    }
    for (let a = n; a < k; a++) {
      outVals[offset + a] = Infinity;
      outIdx[offset + a] = -1;
    }
  }
}
