// drizzle-orm is loaded from its CommonJS build (the same code, bundled the same way). Imported as ES
// modules, its hundreds of files each made Node look up the package's 179 KB package.json again to
// learn the file's module format: measured, 1.2 s to import drizzle-orm as ES modules, 0.16 s as
// CommonJS. Every import of drizzle-orm in a process that loads this file first goes through the hook,
// so the process holds one copy. `arbiter` (bin/arbiter.mjs) loads it, and so does `npm test`
// (`node --import ./bin/drizzle-cjs.mjs --test …`), for every test process.
import module from 'node:module';

module.registerHooks?.({
  resolve(specifier, context, nextResolve) {
    if ((specifier === 'drizzle-orm' || specifier.startsWith('drizzle-orm/')) && context.conditions?.includes('import')) {
      const conditions = context.conditions.map((c) => (c === 'import' ? 'require' : c));
      return { ...nextResolve(specifier, { ...context, conditions }), format: 'commonjs' };
    }
    return nextResolve(specifier, context);
  },
});
