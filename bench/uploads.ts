// Seed 003 dataset uploads and the event loop: how long the server's loop goes without turning while a
// multi-MB upload (POST /api/v1/datasets, JSON and CSV) is received, parsed on a thread and stored.
// The app runs in this process (one child process per backend), so a 2 ms timer on its own loop sees
// every gap; for each gap over 8 ms it also records the loop thread's CPU time inside it
// (process.threadCpuUsage) and the garbage collector's (PerformanceObserver 'gc'): a gap with little
// CPU in it is the thread waiting for a core, not work of its own. curl sends the body from another
// process. The embedded database runs on a data directory, as `npm start` does. Then two trainings
// (`POST /train`, a depth-4 tree, 2 folds) on the last uploaded dataset: the server reads it back part by
// part on this loop before the fits run on a thread.
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
  format: 'json' | 'csv' | 'train';
  ms: number;
  status: string;
  /** The longest gap, and the most loop CPU and the most non-GC time found in any one gap (ms). */
  worst: number;
  worstCpu: number;
  worstNonGc: number;
  /** All the time in gaps over 8 ms (ms). */
  inGaps: number;
}

async function child(dir: string): Promise<Upload[]> {
  const { startTestApp } = await import('../test/helpers/app.ts');
  const { authHeaders } = await import('../test/helpers/auth.ts');
  const run = promisify(execFile);
  const ctx = await startTestApp({ datasetMaxBytes: 1 << 30, ...(process.env.DATABASE_URL ? {} : { memoryDb: false, dataDir: path.join(dir, 'data') }) });
  const user = await authHeaders(ctx, 'user');
  const gcs: [number, number][] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
  }).observe({ entryTypes: ['gc'] });
  const gcWithin = (from: number, to: number) => gcs.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
  let gaps: { at: number; gap: number; cpu: number; nonGc: number }[] = [];
  let last = performance.now();
  let lastCpu = process.threadCpuUsage();
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.threadCpuUsage();
    if (now - last > 8) gaps.push({ at: last, gap: now - last, cpu: (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000, nonGc: now - last - gcWithin(last, now) });
    last = now;
    lastCpu = cpu;
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
    out.push({ format, ms, status, worst: Math.max(0, ...mine.map((g) => g.gap)), worstCpu: Math.max(0, ...mine.map((g) => g.cpu)), worstNonGc: Math.max(0, ...mine.map((g) => g.nonGc)), inGaps: mine.reduce((sum, g) => sum + g.gap, 0) });
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
  for (let i = 0; i < 2; i++) {
    await measure('train', async () => {
      const res = await fetch(`${ctx.url}/train`, { method: 'POST', headers: { ...user, 'content-type': 'application/json' }, body: JSON.stringify({ algorithm: 'decision_tree', params: { max_depth: 4 }, dataset: datasetId, cv: 2 }) });
      await res.arrayBuffer();
      return String(res.status);
    }, 0);
  }
  clearInterval(timer);
  await ctx.close();
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
  console.log(`\nDataset uploads, then two trainings that read the last one back: ${ROWS} rows × ${FEATURES} features (JSON ${(sizes.json / 1e6).toFixed(1)} MB, CSV ${(sizes.csv / 1e6).toFixed(1)} MB), curl from another process, ${REPS} uploads per format in one server process; ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
  console.log('Per request, in order (the first of a process includes compiling its code): the longest loop gap / the most loop-thread CPU in one gap / the most non-GC time in one gap / all the time in gaps over 8 ms, ms\n');
  console.log('| backend | request | status | time (ms) | longest gap (ms) | loop CPU in a gap, most (ms) | non-GC in a gap, most (ms) | in gaps > 8 ms (ms) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, uploads] of results) {
    for (const format of ['json', 'csv', 'train'] as const) {
      const u = uploads.filter((x) => x.format === format);
      console.log(`| ${name} | ${format === 'train' ? 'train (reads it back)' : `upload ${format}`} | ${[...new Set(u.map((x) => x.status))].join(',')} | ${u.map((x) => f0(x.ms)).join(' / ')} | ${u.map((x) => f0(x.worst)).join(' / ')} | ${u.map((x) => f0(x.worstCpu)).join(' / ')} | ${u.map((x) => f0(x.worstNonGc)).join(' / ')} | ${u.map((x) => f0(x.inGaps)).join(' / ')} |`);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
