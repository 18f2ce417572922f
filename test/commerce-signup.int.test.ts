// The users service's onAccountCreated hook, which commerce uses for the sign-up store: it runs in the
// account's insert transaction, so a failing hook leaves no account, and the store is there as soon
// as createAccount returns.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createUsersService } from '../src/modules/users/users.service.ts';
import type { Database } from '../src/platform/db.ts';
import { openMigratedTestDatabase } from './helpers/db.ts';

let database: Database;
let close = async () => {};

before(async () => ({ database, close } = await openMigratedTestDatabase()));
after(async () => close());

const account = (email: string, role: 'user' | 'admin' = 'user') => ({ email, password_hash: 'x', role, created_via: 'register' as const });

test('a hook that throws rolls the account back', async () => {
  const users = createUsersService({ db: database.db });
  users.onAccountCreated(async () => {
    throw new Error('store could not be made');
  });
  await assert.rejects(users.createAccount(account('rollback@example.com')), /store could not be made/);
  assert.equal((await database.query('select 1 from users where email = $1', ['rollback@example.com'])).length, 0);
});

test('the hook writes in the same transaction, visible when createAccount returns', async () => {
  const users = createUsersService({ db: database.db });
  users.onAccountCreated(async (a, tx) => {
    if (a.role === 'admin') return;
    await tx.execute(`insert into stores (name, owner_id) values ('${a.email!.split('@')[0]} Store', ${Number(a.id)})`);
  });
  const u = await users.createAccount(account('vendor@example.com'));
  const a = await users.createAccount(account('boss@example.com', 'admin'));
  const rows = await database.query<{ name: string; owner_id: string }>('select name, owner_id::text from stores where owner_id in ($1, $2)', [u.id, a.id]);
  assert.deepEqual([...rows], [{ name: 'vendor Store', owner_id: String(u.id) }]);
});
