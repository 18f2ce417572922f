// Listen, and stop gracefully: on SIGTERM/SIGINT stop accepting, let in-flight requests finish,
// then close the database so an embedded one is left consistent.
import type { Config } from './config.ts';
import { buildApp } from './app.ts';

/**
 * `serve` listens for HTTP (and runs job handlers unless WORKERS=0); `worker` (PostgreSQL only) runs
 * the job handlers and serves nothing. Both stop the same way: running jobs get SHUTDOWN_TIMEOUT_MS
 * to finish, then are released for a retry.
 */
export async function serve(config: Config, mode: 'http' | 'worker' = 'http'): Promise<void> {
  const app = await buildApp(config);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      app.log.error(`shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    // Keep-alive sockets whose last request finishes after close() began would otherwise linger
    // until their keep-alive timeout; close each one as soon as it goes idle.
    const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
    try {
      await app.close();
      process.exitCode = 0;
    } catch (err) {
      app.log.error({ err }, 'error while shutting down');
      process.exitCode = 1;
    } finally {
      clearInterval(reaper);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  if (mode === 'http') {
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (err) {
      // The port is taken (or not ours): stop everything the app started, so the process exits with the error.
      await app.close().catch(() => {});
      throw err;
    }
  } else app.log.info({ workers: config.jobs.workers }, 'job worker started');
}
