// Load from Debian's wrk (`apt-get install wrk`): one C thread, so the load generator takes far less of
// a 2-core machine than an in-process JavaScript client would. A warm-up run (not measured) comes first,
// so the figures are of the server's steady state, not of V8 compiling its hot paths.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export interface WrkOptions {
  /** The server's origin, e.g. http://127.0.0.1:3000. */
  url: string;
  connections: number;
  seconds: number;
  /** Seconds of unmeasured load first (default 2). */
  warmupSeconds?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The request path: a fixed one, or a Lua expression evaluated per request (e.g. `"/events?t=" .. math.random(0, 9)`). */
  path?: string;
  pathLua?: string;
  /** Lua statements run before each request that set `path` and `body` locals (instead of path/pathLua/body). */
  requestLua?: string;
}

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx/3xx answers and socket errors. */
  errors: number;
}

const run = promisify(execFile);
const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string literal for our ASCII inputs

export async function wrk(o: WrkOptions): Promise<WrkResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-wrk-'));
  const headers = Object.entries(o.headers ?? {}).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`).join('\n');
  // RUN is 0 for the warm-up and 1 for the measured run (a script that must not repeat a value across runs can use it).
  const scriptFor = (run: number) => {
    const file = path.join(dir, `load-${run}.lua`);
    fs.writeFileSync(
      file,
      `RUN = ${run}
wrk.method = ${lua(o.method ?? 'GET')}
${headers}
${o.body === undefined ? '' : `wrk.body = ${lua(o.body)}`}
${o.requestLua ? `request = function()\n  local path, body\n  ${o.requestLua}\n  return wrk.format(nil, path, nil, body)\nend` : `request = function() return wrk.format(nil, ${o.pathLua ?? lua(o.path ?? '/')}) end`}
done = function(summary, latency, requests)
  io.write(string.format("RESULT %f %f %f %d\\n", summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`,
    );
    return file;
  };
  const once = async (seconds: number, runIndex: number) => {
    const { stdout } = await run('wrk', ['-t1', `-c${o.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', scriptFor(runIndex), o.url], { maxBuffer: 1 << 20 });
    const m = /RESULT (\S+) (\S+) (\S+) (\d+)/.exec(stdout);
    if (!m) throw new Error(`wrk printed no result:\n${stdout}`);
    return { rps: Number(m[1]), p50: Number(m[2]), p99: Number(m[3]), errors: Number(m[4]) };
  };
  try {
    if ((o.warmupSeconds ?? 2) > 0) await once(o.warmupSeconds ?? 2, 0);
    return await once(o.seconds, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
