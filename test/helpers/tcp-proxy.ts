// A TCP proxy on loopback between the app and a real server (PostgreSQL, Redis), to cut it the two ways
// a dependency fails without touching the machine's own servers:
// - 'down': the port refuses connections and open ones are reset, as a stopped server;
// - 'partition': connections are accepted and open ones stay open, but nothing goes through either
//   way, as a network that drops packets. Healing resets the connections held meanwhile (their bytes
//   were dropped), as a real partition long enough for TCP to give up would.
import net from 'node:net';

export type ProxyMode = 'up' | 'down' | 'partition';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** The target's URL with host and port replaced by the proxy's. */
  url(target: string): string;
  set(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'up';
  const open = new Set<net.Socket>();
  const held = new Set<net.Socket>();

  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    if (mode === 'partition') {
      held.add(client);
      client.on('data', () => {}); // dropped
      return;
    }
    const upstream = net.connect(target.port, target.host);
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    // Forward unless partitioned; in a partition both directions are dropped.
    client.on('data', (d) => {
      if (mode === 'partition') held.add(client);
      else upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (mode === 'partition') held.add(client);
      else client.write(d);
    });
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const resetAll = () => {
    for (const s of open) s.destroy();
    open.clear();
    held.clear();
  };

  return {
    port,
    accepted: () => accepted,
    url(t) {
      const u = new URL(t);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async set(next) {
      if (next === mode) return;
      const was = mode;
      mode = next;
      if (next === 'down') {
        resetAll();
        await new Promise<void>((r) => server.close(() => r()));
      } else if (was === 'down') {
        await listen(port);
      } else if (was === 'partition' && next === 'up') {
        for (const s of held) s.destroy();
        held.clear();
        // Connections that were open before the partition lost bytes too: reset them all.
        resetAll();
      }
    },
    async close() {
      resetAll();
      if (mode !== 'down') await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
