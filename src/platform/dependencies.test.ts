import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { inProcess, within } from './dependencies.ts';

const busy = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end);
};

test('within: an answer that arrived while this process held the event loop past the limit still counts', async () => {
  // The peer is another process, as a database is: it answers while this one is busy.
  const peer = spawn(process.execPath, ['-e', "require('net').createServer((s) => s.on('data', () => s.end('pong'))).listen(0, '127.0.0.1', function () { console.log(this.address().port) })"]);
  try {
    const port = Number(await new Promise<string>((r) => peer.stdout.once('data', (d) => r(String(d)))));
    const c = net.connect(port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    const answer = new Promise<string>((resolve, reject) => {
      c.once('data', (d) => resolve(String(d)));
      c.once('error', reject);
    });
    c.write('ping');
    const probe = within(answer, 50, 'the peer');
    // Held for 300 ms: the answer arrives meanwhile, and the 50 ms timer is due before it is read.
    busy(300);
    assert.equal(await probe, 'pong');
  } finally {
    peer.kill();
  }
});

test('within: an answer that does not come fails after the limit', async () => {
  const started = performance.now();
  await assert.rejects(within(new Promise(() => {}), 50, 'nothing'), /nothing did not answer within 50 ms/);
  assert.ok(performance.now() - started >= 49);
});

test('inProcess: up while its owner says so; once stopped, down without a probe', async () => {
  let running = true;
  let probes = 0;
  const d = inProcess('database', async () => probes++, () => running);
  assert.equal(d.up, true);
  assert.equal(await d.check(100), true);
  running = false;
  assert.equal(d.up, false);
  assert.equal(await d.check(100), false);
  assert.equal(probes, 1);
});
