// The console's files, read once at start: the UI sources in ./ui (served as they are: no build step)
// and three vendored ES modules (Preact, its hooks, htm) from node_modules. Nothing is fetched from
// elsewhere; the page's Content-Security-Policy allows only this origin.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The content type of a served file, or null for a kind the console does not serve. */
export function contentTypeOf(file: string): string | null {
  return TYPES[path.extname(file).toLowerCase()] ?? null;
}

/** The vendored modules: URL name → file inside its package. */
export const VENDOR: Record<string, [pkg: string, file: string]> = {
  'preact.js': ['preact', 'dist/preact.module.js'],
  'hooks.js': ['preact', 'hooks/dist/hooks.module.js'],
  'htm.js': ['htm', 'dist/htm.module.js'],
};

/** The import map that lets the UI (and hooks.js) import 'preact' by name. */
export const IMPORT_MAP = JSON.stringify({ imports: { preact: '/console/vendor/preact.js', 'preact/hooks': '/console/vendor/hooks.js', htm: '/console/vendor/htm.js' } });

/** sha256-… of an inline script, for the CSP's script-src. */
export function cspHash(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
}

export function contentSecurityPolicy(inlineScripts: string[]): string {
  return [
    "default-src 'self'",
    `script-src 'self' ${inlineScripts.map(cspHash).join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function asset(body: Buffer, file: string): Asset {
  return { body, type: contentTypeOf(file)!, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Every file under dir (relative paths with '/'), skipping kinds the console does not serve. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(path.join(dir, entry.name), rel));
    else if (contentTypeOf(entry.name) && !entry.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

export const UI_DIR = fileURLToPath(new URL('./ui', import.meta.url));

/** URL path (under /console/) → file. index.html gets the import map in place of its marker. */
export function loadAssets(uiDir = UI_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const rel of walk(uiDir)) {
    let body = readFileSync(path.join(uiDir, rel));
    if (rel === 'index.html') body = Buffer.from(body.toString('utf8').replace('<!--IMPORTMAP-->', `<script type="importmap">${IMPORT_MAP}</script>`));
    assets.set(rel, asset(body, rel));
  }
  const require = createRequire(import.meta.url);
  for (const [name, [pkg, file]] of Object.entries(VENDOR)) {
    // The package's folder, from its main entry (htm's exports do not expose package.json).
    const main = require.resolve(pkg);
    const marker = `${path.sep}node_modules${path.sep}${pkg}${path.sep}`;
    const root = main.slice(0, main.lastIndexOf(marker) + marker.length);
    assets.set(`vendor/${name}`, asset(readFileSync(path.join(root, file)), name));
  }
  return assets;
}
