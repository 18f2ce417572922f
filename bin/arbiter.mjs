#!/usr/bin/env node
// The `arbiter` command (see src/cli.ts). This file stays plain JavaScript so that an older Node
// gets bin/check-node.mjs's message instead of ERR_UNKNOWN_FILE_EXTENSION: src/cli.ts is imported
// only after the version check has passed.
import './check-node.mjs';

await import('../src/cli.ts');
