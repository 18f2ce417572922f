// The `arbiter` entry (bin/arbiter.mjs): it runs the CLI on a recent Node and, on an older one,
// refuses with a message naming the version it needs instead of ERR_UNKNOWN_FILE_EXTENSION.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

const ENTRY = path.resolve('bin/arbiter.mjs');
// The machines' own Node (20): the one a user has before `npm install` brings Node 24.
const SYSTEM_NODE = '/usr/bin/node';

function systemNodeMajor(): number | null {
  if (!fs.existsSync(SYSTEM_NODE)) return null;
  const r = spawnSync(SYSTEM_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.split('.')[0]) : null;
}

describe('bin/arbiter.mjs', () => {
  test('runs the CLI on this Node', () => {
    assert.ok(Number(process.versions.node.split('.')[0]) >= 24, `the tests run on Node ${process.version}`);
    const r = spawnSync(process.execPath, [ENTRY, 'help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /usage: arbiter/);
  });
  const major = systemNodeMajor();
  test('refuses an older Node with a message naming the required version', { skip: major === null || major >= 24 ? `no Node older than 24 at ${SYSTEM_NODE}` : false }, () => {
    for (const args of [[ENTRY, 'serve'], [path.resolve('bin/check-node.mjs')]]) {
      const r = spawnSync(SYSTEM_NODE, args, { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /Arbiter needs Node\.js 24 or newer, but this is Node\.js v\d+/);
      assert.doesNotMatch(r.stderr, /ERR_UNKNOWN_FILE_EXTENSION/);
      assert.equal(r.stdout, '');
    }
  });
});
