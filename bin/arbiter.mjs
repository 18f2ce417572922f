#!/usr/bin/env node
// The `arbiter` command (see src/cli.ts). This file stays plain JavaScript so that an older Node
// gets bin/check-node.mjs's message instead of ERR_UNKNOWN_FILE_EXTENSION: src/cli.ts is imported
// only after the version check has passed.
import module from 'node:module';
import './check-node.mjs';

// V8's compiled code of every module (ours and node_modules') is kept on disk between runs (in
// NODE_COMPILE_CACHE, else the OS temp directory): measured, it takes about half of the import
// time off every start after the first, and a stale entry is detected and recompiled.
module.enableCompileCache?.();

import './drizzle-cjs.mjs';

await import('../src/cli.ts');
