#!/usr/bin/env node
// arbiter serve | migrate | reset-db --yes | create-admin --email E [--password P]
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './platform/db.ts';
import { createUsersService } from './modules/users/users.service.ts';
import { createApiKeyRepository } from './modules/auth/api-keys.repository.ts';
import { createApiKey } from './modules/auth/api-keys.ts';
import { API_KEY_SCOPES, type ApiKeyScope } from './modules/auth/authenticator.ts';
import { hashPassword } from './modules/auth/passwords.ts';

const USAGE = `usage: arbiter <command> [options]

commands:
  serve                         start the HTTP server (migrations are applied first); runs job handlers unless WORKERS=0
  worker                        run job handlers only, no HTTP (PostgreSQL: any number of machines)
  migrate                       apply pending database migrations
  reset-db --yes                drop every table and migrate again (destroys all data)
  create-admin --email E --password P
                                create an admin, or make the user with that email an admin and set its password
  create-api-key --email E --name N [--scopes user,service]
                                create an API key acting as the user with that email; prints the key once

configuration comes from the environment: see README.md or .env.example`;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h') argv = ['help', ...argv.slice(1)];
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      yes: { type: 'boolean', default: false },
      email: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'string', default: 'user' },
      help: { type: 'boolean', short: 'h' },
    },
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
    case 'worker': {
      if (!config.databaseUrl) {
        console.error('arbiter worker needs DATABASE_URL: the embedded database serves one process, and `arbiter serve` already runs the job handlers in it');
        return 2;
      }
      if (config.jobs.workers === 0) {
        console.error('arbiter worker with WORKERS=0 would run nothing; unset WORKERS or set it to 1 or more');
        return 2;
      }
      const { serve } = await import('./server.ts');
      await serve(config, 'worker');
      return 0;
    }
    case 'migrate':
    case 'reset-db':
    case 'create-admin':
    case 'create-api-key': {
      if (command === 'reset-db' && !values.yes) {
        console.error('reset-db drops every table and all data in them; run it again with --yes to confirm');
        return 2;
      }
      if (command === 'create-admin' && (!values.email || !values.password || values.password.length < 8)) {
        console.error('create-admin needs --email and --password (at least 8 characters)');
        return 2;
      }
      const scopes = values.scopes.split(',').map((s) => s.trim());
      if (command === 'create-api-key' && (!values.email || !values.name || !scopes.every((s) => (API_KEY_SCOPES as readonly string[]).includes(s)))) {
        console.error(`create-api-key needs --email and --name; --scopes is a comma-separated list of ${API_KEY_SCOPES.join(', ')}`);
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
        const users = createUsersService({ db: database.db });
        if (command === 'create-admin') {
          const user = await users.upsertAdmin({ email: values.email!, passwordHash: await hashPassword(values.password!) });
          console.log(`admin ${user.email} ready (id ${user.id}, user_id ${user.user_id})`);
        }
        if (command === 'create-api-key') {
          const owner = await users.findCredentials(values.email!);
          if (!owner) {
            console.error(`no user with email ${values.email}`);
            return 2;
          }
          const key = await createApiKey(createApiKeyRepository(database.db), { name: values.name!, scopes: scopes as ApiKeyScope[], userId: owner.id, role: owner.role });
          console.log(key.key);
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
