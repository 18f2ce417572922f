// One table for every ML benchmark row (trees and forests from bench/ml.ts, k-means and KNN
// from bench/ml-cluster.ts): our time against scikit-learn's with 1 and 2 jobs, and accuracy;
// and the timing helper both use.

export interface BenchRow {
  task: string;
  oursSec: number;
  sk1Sec: number;
  /** null when the sklearn estimator has no n_jobs (e.g. a single tree). */
  sk2Sec: number | null;
  accOurs: number | null;
  accSk: number | null;
  note?: string;
}

/** Best (smallest) wall time in seconds of `reps` calls of fn, awaiting it when it returns a promise, and its last result. */
export async function bestOf<T>(reps: number, fn: () => T | Promise<T>): Promise<{ sec: number; out: T }> {
  let sec = Infinity;
  let out!: T;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    const v = fn();
    out = v instanceof Promise ? await v : v;
    sec = Math.min(sec, (performance.now() - t) / 1000);
  }
  return { sec, out };
}

const fmt = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));

/** Prints a Markdown table: ratio = sklearn's best time / ours (above 1 means we are faster). */
export function printTable(rows: readonly BenchRow[]): void {
  const head = ['task', 'ours (s)', 'sklearn 1 job (s)', 'sklearn 2 jobs (s)', 'ratio', 'acc ours', 'acc sklearn', 'Δ acc', 'note'];
  const lines = rows.map((r) => {
    const skBest = r.sk2Sec === null ? r.sk1Sec : Math.min(r.sk1Sec, r.sk2Sec);
    const delta = r.accOurs === null || r.accSk === null ? null : r.accOurs - r.accSk;
    return [
      r.task,
      fmt(r.oursSec, 3),
      fmt(r.sk1Sec, 3),
      fmt(r.sk2Sec, 3),
      `${fmt(skBest / r.oursSec, 2)}×`,
      fmt(r.accOurs, 4),
      fmt(r.accSk, 4),
      delta === null ? '–' : `${delta >= 0 ? '+' : ''}${delta.toFixed(4)}`,
      r.note ?? '',
    ];
  });
  const widths = head.map((h, j) => Math.max(h.length, ...lines.map((l) => l[j].length)));
  const row = (cells: string[]) => `| ${cells.map((c, j) => c.padEnd(widths[j])).join(' | ')} |`;
  console.log(row(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
}
