// `arbiter serve` as a child process, for tests about processes (restarts, signals, several servers
// over one database) and for the benchmarks, which measure a server of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.ts';
import { httpRequest, type TestApp } from './app.ts';

export const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const running = new Set<ChildProcess>();

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
}

/**
 * Starts a server on a random loopback port and waits until it is ready (30 s at most). Ports come from
 * below Linux's ephemeral range (32768 and up, where outgoing connections take theirs), and a port
 * found taken after all is replaced by another.
 */
export async function spawnServer(env: NodeJS.ProcessEnv, opts: SpawnOptions = {}): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOn(10_000 + Math.floor(Math.random() * 22_000), env, opts);
    } catch (err) {
      if (attempt < 5 && /EADDRINUSE/.test(String(err))) continue;
      throw err;
    }
  }
}

export interface SpawnOptions {
  /** How long to wait for /ready (default 30 s). */
  readyTimeoutMs?: number;
  /** Also copy the server's output (its log and stderr) to ours: the benchmarks show the server's warnings. */
  echo?: boolean;
}

async function spawnOn(port: number, env: NodeJS.ProcessEnv, opts: SpawnOptions): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [CLI, 'serve'], { env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', opts.echo ? 'inherit' : 'ignore', 'pipe'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr += d;
    if (opts.echo) process.stderr.write(d);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || /EADDRINUSE/.test(stderr)) {
      proc.kill('SIGKILL');
      throw new Error(`server exited with ${proc.exitCode}: ${stderr}`);
    }
    try {
      if ((await fetch(`${url}/ready`)).ok) return { proc, url };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  proc.kill('SIGKILL');
  throw new Error(`server did not start: ${stderr}`);
}

export const exited = (proc: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });

/** SIGTERM, then waits for the exit. */
export async function stopServer(proc: ChildProcess): Promise<void> {
  proc.kill('SIGTERM');
  await exited(proc);
}

/** Kills whatever servers are still up: a failed test must not leave one keeping the run alive. */
export async function killAllServers(): Promise<void> {
  const left = [...running];
  for (const p of left) p.kill('SIGKILL');
  await Promise.all(left.map(exited));
}

/** Enough of a TestApp for the auth helpers: requests go to the given server process. */
export const viaServer = (url: string): TestApp => ({ url, config: loadConfig({}), request: (m: string, p: string, o?: object) => httpRequest(url, m, p, o) }) as unknown as TestApp;
