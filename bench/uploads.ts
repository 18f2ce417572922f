// Seed 003 dataset uploads and the event loop: how long the server's loop goes without turning while a
// multi-MB upload (POST /api/v1/datasets, JSON and CSV) is received, parsed on a thread and stored.
// The app runs in this process (one child process per backend), so a 2 ms timer on its own loop sees
// every gap; for each gap over 8 ms it also records how long the loop thread waited on the kernel's run
// queue inside it (Linux's /proc/thread-self/schedstat: runnable but without a core, not work of its
// own) and how long the garbage collector ran (PerformanceObserver 'gc'). (Its CPU time would not do:
// this kernel accounts a thread's CPU time by 4 ms ticks, so a gap's figure is off by up to 4 ms.)
// curl sends the body from another process. The embedded database runs on a data directory, as
// `npm start` does. Then two trainings (`POST /train`, a depth-4 tree, 2 folds) on the last uploaded
// dataset, whose rows the server kept when it stored them, and one by a second server on the same
// database (after a restart, embedded), which reads them back part by part on this loop before the
// fits run on a thread.
//   node bench/uploads.ts [--rows 80000] [--features 10] [--reps 4] [--pg postgres://postgres@127.0.0.1:5432/test] [--skip-pg]
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '80000' },
    features: { type: 'string', default: '10' },
    reps: { type: 'string', default: '4' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'skip-pg': { type: 'boolean', default: false },
    child: { type: 'string' },
    dir: { type: 'string' },
  },
});
const ROWS = Number(args.rows);
const FEATURES = Number(args.features);
const REPS = Number(args.reps);

interface Upload {
  format: 'json' | 'csv' | 'train' | 'read';
  ms: number;
  status: string;
  /** The longest gap, and the run-queue wait and the GC time within it (ms). */
  worst: number;
  worstWait: number;
  worstGc: number;
  /** All the time in gaps over 8 ms, and the run-queue wait within them (ms). */
  inGaps: number;
  inGapsWait: number;
}

/** Nanoseconds this thread has waited on a run queue (Linux), or NaN where the kernel does not say. */
function runQueueWait(): () => number {
  try {
    const fd = fs.openSync('/proc/thread-self/schedstat', 'r');
    const buf = Buffer.alloc(128);
    return () => Number(buf.toString('latin1', 0, fs.readSync(fd, buf, 0, buf.length, 0)).split(' ')[1]);
  } catch {
    return () => NaN;
  }
}

async function child(dir: string): Promise<Upload[]> {
  const { startTestApp } = await import('../test/helpers/app.ts');
  const { authHeaders } = await import('../test/helpers/auth.ts');
  const run = promisify(execFile);
  const embedded = !process.env.DATABASE_URL;
  const options = { datasetMaxBytes: 1 << 30, auth: { secretKey: 'bench-uploads-secret-0123456789abcdef' }, ...(embedded ? { memoryDb: false, dataDir: path.join(dir, 'data') } : {}) };
  // A server compiles its routes' schemas in the second after it starts listening (platform/validation.ts):
  // requests are measured on a server past that, as a server runs.
  const settled = () => new Promise((r) => setTimeout(r, 3000));
  const ctx = await startTestApp(options);
  const user = await authHeaders(ctx, 'user');
  await settled();
  const gcs: [number, number][] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
  }).observe({ entryTypes: ['gc'] });
  const gcWithin = (from: number, to: number) => gcs.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
  let gaps: { at: number; gap: number; wait: number; gc: number }[] = [];
  const waited = runQueueWait();
  let last = performance.now();
  let lastWait = waited();
  const timer = setInterval(() => {
    const now = performance.now();
    const wait = waited();
    if (now - last > 8) gaps.push({ at: last, gap: now - last, wait: (wait - lastWait) / 1e6, gc: gcWithin(last, now) });
    last = now;
    lastWait = wait;
  }, 2);
  const out: Upload[] = [];
  /** Runs `send` and records the gaps it caused (those that start after `counted`). */
  const measure = async (format: Upload['format'], send: () => Promise<string>, counted: number) => {
    const started = performance.now();
    gaps = [];
    const status = await send();
    const ms = performance.now() - started;
    await new Promise((r) => setTimeout(r, 300));
    const mine = gaps.filter((g) => g.at > started + counted);
    const longest = mine.reduce((a, g) => (g.gap > a.gap ? g : a), { at: 0, gap: 0, wait: 0, gc: 0 });
    out.push({ format, ms, status, worst: longest.gap, worstWait: longest.wait, worstGc: longest.gc, inGaps: mine.reduce((sum, g) => sum + g.gap, 0), inGapsWait: mine.reduce((sum, g) => sum + g.wait, 0) });
  };
  let datasetId = '';
  for (const format of ['json', 'csv'] as const) {
    for (let i = 0; i < REPS; i++) {
      const query = format === 'csv' ? '?name=bench&label=label' : '';
      const contentType = format === 'csv' ? 'text/csv' : 'application/json';
      const answer = path.join(dir, 'answer.json');
      // execFile's own spawn holds this loop for a while: gaps that start before curl runs are not counted.
      await measure(format, async () => {
        const { stdout } = await run('curl', ['-s', '-o', answer, '-w', '%{http_code}', '-X', 'POST', '-H', `authorization: ${user.authorization}`, '-H', `content-type: ${contentType}`, '--data-binary', `@${path.join(dir, `upload.${format}`)}`, `${ctx.url}/api/v1/datasets${query}`]);
        return stdout;
      }, 5);
      datasetId = (JSON.parse(fs.readFileSync(answer, 'utf8')) as { id: string }).id;
    }
  }
  const train = (url: string) => async () => {
    const res = await fetch(`${url}/train`, { method: 'POST', headers: { ...user, 'content-type': 'application/json' }, body: JSON.stringify({ algorithm: 'decision_tree', params: { max_depth: 4 }, dataset: datasetId, cv: 2 }) });
    await res.arrayBuffer();
    return String(res.status);
  };
  for (let i = 0; i < 2; i++) await measure('train', train(ctx.url), 0);
  // A server that has not seen the dataset reads it back: after a restart on the embedded data
  // directory (one server at a time), beside the first on PostgreSQL (whose test database goes with it).
  if (embedded) await ctx.close();
  const other = await startTestApp(embedded ? options : { ...options, databaseUrl: ctx.config.databaseUrl });
  await settled();
  await measure('read', train(other.url), 0);
  clearInterval(timer);
  await other.close();
  if (!embedded) await ctx.close();
  return out;
}

/** The upload bodies: ROWS rows of FEATURES numbers and a label, as JSON rows and as CSV (deterministic). */
function writeBodies(dir: string): { json: number; csv: number } {
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 100;
  const cols = [...Array.from({ length: FEATURES }, (_, j) => `f${j}`), 'label'];
  const rows = Array.from({ length: ROWS }, (_, i) => [...Array.from({ length: FEATURES }, () => Math.round(rand() * 1000) / 1000), ['a', 'b', 'c'][i % 3]]);
  fs.writeFileSync(path.join(dir, 'upload.json'), JSON.stringify({ name: 'bench', columns: cols, rows, label: 'label' }));
  fs.writeFileSync(path.join(dir, 'upload.csv'), [cols.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return { json: fs.statSync(path.join(dir, 'upload.json')).size, csv: fs.statSync(path.join(dir, 'upload.csv')).size };
}

if (args.child) {
  process.stdout.write(`RESULT ${JSON.stringify(await child(args.dir!))}\n`);
  process.exit(0);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-uploads-'));
try {
  const sizes = writeBodies(dir);
  const backends: [string, Record<string, string>][] = [['embedded (data directory)', {}]];
  if (!args['skip-pg']) backends.push(['PostgreSQL', { DATABASE_URL: args.pg! }]);
  const results: [string, Upload[]][] = [];
  for (const [name, env] of backends) {
    const { DATABASE_URL: _ignored, ...base } = process.env;
    const text = execFileSync(process.execPath, ['--import', './bin/drizzle-cjs.mjs', process.argv[1], '--child', name, '--dir', dir, '--reps', String(REPS)], { env: { ...base, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 });
    results.push([name, JSON.parse(/^RESULT (.*)$/m.exec(text)![1]) as Upload[]]);
  }
  const f0 = (n: number) => n.toFixed(0);
  console.log(`\nDataset uploads, then two trainings on the last one (kept in memory) and one by another server (reads it back): ${ROWS} rows × ${FEATURES} features (JSON ${(sizes.json / 1e6).toFixed(1)} MB, CSV ${(sizes.csv / 1e6).toFixed(1)} MB), curl from another process, ${REPS} uploads per format in one server process; ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
  console.log('Per request, in order (the first training of each server also starts its training threads), ms: the longest loop gap, and of it the time the loop thread waited for a core and the time GC ran; all the time in gaps over 8 ms, and of it the time waiting for a core\n');
  console.log('| backend | request | status | time (ms) | longest gap | of it, waiting for a core | of it, GC | all gaps > 8 ms | of them, waiting for a core |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [name, uploads] of results) {
    for (const format of ['json', 'csv', 'train', 'read'] as const) {
      const u = uploads.filter((x) => x.format === format);
      console.log(`| ${name} | ${{ json: 'upload JSON', csv: 'upload CSV', train: 'train (rows kept)', read: 'train, another server (reads them back)' }[format]} | ${[...new Set(u.map((x) => x.status))].join(',')} | ${u.map((x) => f0(x.ms)).join(' / ')} | ${u.map((x) => f0(x.worst)).join(' / ')} | ${u.map((x) => f0(x.worstWait)).join(' / ')} | ${u.map((x) => f0(x.worstGc)).join(' / ')} | ${u.map((x) => f0(x.inGaps)).join(' / ')} | ${u.map((x) => f0(x.inGapsWait)).join(' / ')} |`);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
