// Lints the OpenAPI document as a client's tooling would: builds the app on an in-memory database,
// writes /openapi.json to a temp file and runs Redocly CLI's `lint` (its recommended rules) on it.
// Exits non-zero when the linter reports an error; warnings are printed but pass.
//   node scripts/openapi-lint.ts            (npm run lint:openapi)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

const REDOCLY = fileURLToPath(new URL('../node_modules/@redocly/cli/bin/cli.js', import.meta.url));

// A throwaway signing key, so that nothing is written to DATA_DIR.
const overrides = { databaseUrl: null, memoryDb: true, redisUrl: null, auth: { secretKey: randomBytes(32).toString('hex') } };
const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }, overrides));
const res = await app.inject({ method: 'GET', url: '/openapi.json' });
await app.close();
if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}: ${res.body}`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-openapi-'));
const file = path.join(dir, 'openapi.json');
fs.writeFileSync(file, JSON.stringify(JSON.parse(res.body), null, 2));
// No telemetry and no update check: the document stays on this machine.
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
const lint = spawnSync(process.execPath, [REDOCLY, 'lint', '--extends=recommended', file], { stdio: 'inherit', env });
fs.rmSync(dir, { recursive: true, force: true });
process.exitCode = lint.status ?? 1;
