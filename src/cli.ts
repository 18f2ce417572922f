#!/usr/bin/env node
// arbiter serve | migrate | reset-db --yes | create-admin --email E [--password P]
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './platform/db.ts';
import { createUsersService } from './modules/users/users.service.ts';

const USAGE = `usage: arbiter <command> [options]

commands:
  serve                         start the HTTP server (migrations are applied first)
  migrate                       apply pending database migrations
  reset-db --yes                drop every table and migrate again (destroys all data)
  create-admin --email E        create an admin user, or promote the user with that email

configuration comes from the environment: see README.md or .env.example`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { yes: { type: 'boolean', default: false }, email: { type: 'string' }, password: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (!command || values.help || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve': {
      const { serve } = await import('./server.ts');
      await serve(config);
      return 0;
    }
    case 'migrate':
    case 'reset-db':
    case 'create-admin': {
      if (command === 'reset-db' && !values.yes) {
        console.error('reset-db drops every table and all data in them; run it again with --yes to confirm');
        return 2;
      }
      if (command === 'create-admin' && !values.email) {
        console.error('create-admin needs --email');
        return 2;
      }
      const database = await openDatabase(config);
      try {
        if (command === 'reset-db') {
          await database.reset();
          console.log(`database reset (${database.kind})`);
        } else {
          await database.migrate();
          if (command === 'migrate') console.log(`migrations applied (${database.kind})`);
        }
        if (command === 'create-admin') {
          const user = await createUsersService({ db: database.db }).upsertAdmin({ email: values.email! });
          console.log(`admin ${user.email} ready (id ${user.id}, user_id ${user.user_id})`);
        }
      } finally {
        await database.close();
      }
      return 0;
    }
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof ConfigError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `error: ${(err as Error).message}` : err);
    process.exitCode = 1;
  },
);
