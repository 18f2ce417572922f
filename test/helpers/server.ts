// `arbiter serve` as a child process, for tests about processes: restarts, signals, several
// servers over one database.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { httpRequest, type TestApp } from './app.ts';

export const CLI = path.resolve('src/cli.ts');
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
export async function spawnServer(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOn(10_000 + Math.floor(Math.random() * 22_000), env);
    } catch (err) {
      if (attempt < 5 && /EADDRINUSE/.test(String(err))) continue;
      throw err;
    }
  }
}

async function spawnOn(port: number, env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [CLI, 'serve'], { env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
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

/** Kills whatever servers are still up: a failed test must not leave one keeping the run alive. */
export async function killAllServers(): Promise<void> {
  const left = [...running];
  for (const p of left) p.kill('SIGKILL');
  await Promise.all(left.map(exited));
}

/** Enough of a TestApp for the auth helpers: requests go to the given server process. */
export const viaServer = (url: string): TestApp => ({ url, config: loadConfig({}), request: (m: string, p: string, o?: object) => httpRequest(url, m, p, o) }) as unknown as TestApp;
