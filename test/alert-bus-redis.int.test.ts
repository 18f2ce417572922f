// The Redis alert bus closes for good even when Redis is out at that moment: its clients must not go
// on reconnecting after close (a test process once never exited because one did, after the faults test).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRedisAlertBus } from '../src/modules/events/alert-stream.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';

const REDIS = process.env.REDIS_URL;
const log = { warn() {}, debug() {} };

for (const mode of ['down', 'partition'] as const) {
  test(`a Redis alert bus closed while Redis is ${mode} makes no connection afterwards`, { skip: !REDIS && 'needs REDIS_URL' }, async () => {
    const target = new URL(REDIS!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    try {
      const bus = await createRedisAlertBus(proxy.url(REDIS!), `arbiter:test:bus:${process.pid}`, log);
      await proxy.set(mode);
      // Down: the clients lose their connections and start reconnecting; a close must stop that too.
      await new Promise((r) => setTimeout(r, 300));
      await bus.close();
      const before = proxy.accepted();
      // Back up (a partition's held connections are reset): a client still alive would reconnect within 500 ms.
      await proxy.set('up');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(proxy.accepted(), before, 'a closed bus reconnected');
    } finally {
      await proxy.close();
    }
  });
}
