import { and, asc, count, desc, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../platform/db.ts';
import type { Tx } from '../../platform/jobs/jobs.ts';
import { offsetOf } from '../../platform/pagination.ts';
import { AppError, withDbErrors } from '../../platform/errors.ts';
import { users } from './users.tables.ts';

export type Role = 'user' | 'admin';

/** What any module may see of a user: never the password hash. */
export interface PublicUser {
  id: number;
  user_id: string;
  email: string | null;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  role: Role;
  is_active: boolean;
  created_via: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What authentication needs to know of a user on every request. */
export interface AuthState {
  role: Role;
  is_active: boolean;
  user_id: string;
  token_version: number;
}

export interface Credentials extends AuthState {
  id: number;
  email: string | null;
  password_hash: string | null;
}

/** How an account came to be (users.created_via). */
export type CreatedVia = 'register' | 'admin-signup' | 'bootstrap' | 'cli';

export interface NewAccount {
  email: string;
  password_hash: string;
  first_name?: string | null;
  last_name?: string | null;
  username?: string | null;
  role: Role;
  created_via: CreatedVia;
}

export interface ProfileChanges {
  first_name?: string | null;
  last_name?: string | null;
  username?: string | null;
  email?: string;
}

export interface AdminChanges extends ProfileChanges {
  role?: Role;
  is_active?: boolean;
  password_hash?: string;
}

const publicColumns = {
  id: users.id,
  user_id: users.user_id,
  email: users.email,
  username: users.username,
  first_name: users.first_name,
  last_name: users.last_name,
  role: users.role,
  is_active: users.is_active,
  created_via: users.created_via,
  created_at: users.created_at,
  updated_at: users.updated_at,
};
const authColumns = { role: users.role, is_active: users.is_active, user_id: users.user_id, token_version: users.token_version };
const credentialColumns = { id: users.id, email: users.email, password_hash: users.password_hash, ...authColumns };

/** Account ids that seed 002 profiles took (POST /users {"user_id": "110"}) are skipped, at most this many in a row. */
const MAX_ID_SKIPS = 1000;

/** A username can never equal an email (login resolves either), so it cannot contain '@'. */
function checkUsername(username: string | null | undefined): void {
  if (username?.includes('@')) throw new AppError('VALIDATION_ERROR', "username must not contain '@' (it could be taken for someone's email)");
}

/**
 * Changes that end every session of the user: a new password, another role, or deactivation. The
 * version is bumped in the same UPDATE, so no token outlives the change.
 */
function tokenVersionBump(changes: AdminChanges): SQL | undefined {
  const conds: SQL[] = [];
  if (changes.password_hash !== undefined) conds.push(sql`true`);
  if (changes.role !== undefined) conds.push(sql`${users.role} <> ${changes.role}`);
  if (changes.is_active === false) conds.push(sql`${users.is_active}`);
  if (!conds.length) return undefined;
  return sql`${users.token_version} + (case when ${sql.join(conds, sql` or `)} then 1 else 0 end)`;
}

// A new account's external id is its integer id (nextval and currval in one VALUES row), so seed
// 001's integer user ids address it.
const NUMERIC_USER_ID = {
  id: sql`nextval(pg_get_serial_sequence('users', 'id'))`,
  user_id: sql`currval(pg_get_serial_sequence('users', 'id'))::text`,
} as unknown as { id: number; user_id: string };

/**
 * Runs inside the transaction that inserts a new account (register, admin signup, bootstrap admin),
 * so what another module makes for every account (commerce's default store) exists exactly when the
 * account does: a hook that throws rolls the account back.
 */
export type AccountCreatedHook = (account: PublicUser, tx: Tx) => Promise<void>;

const byEmail = (email: string) => eq(sql`lower(${users.email})`, email.trim().toLowerCase());

export function createUsersService(deps: { db: Db }) {
  const { db } = deps;
  const listeners: ((id: number) => void)[] = [];
  const accountHooks: AccountCreatedHook[] = [];
  const changed = (id: number) => {
    for (const l of listeners) l(id);
  };
  // The unique indexes are on lower(email) and lower(username): say which field clashed, not the index.
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await withDbErrors('user', work);
    } catch (err) {
      const field = err instanceof AppError && err.code === 'CONFLICT' ? /^user with lower\((email|username)\)/.exec(err.message)?.[1] : undefined;
      throw field ? new AppError('CONFLICT', `a user with this ${field} already exists`) : err;
    }
  };

  return {
    async findById(id: number): Promise<PublicUser | null> {
      const rows = await db.select(publicColumns).from(users).where(eq(users.id, id)).limit(1);
      return (rows[0] as PublicUser | undefined) ?? null;
    },

    async findByExternalId(userId: string): Promise<PublicUser | null> {
      const rows = await db.select(publicColumns).from(users).where(eq(users.user_id, userId)).limit(1);
      return (rows[0] as PublicUser | undefined) ?? null;
    },

    /** For login: the account with this email, else with this username (case-insensitive), with its hash. */
    async findCredentials(login: string): Promise<Credentials | null> {
      const l = login.trim().toLowerCase();
      const rows = await db
        .select(credentialColumns)
        .from(users)
        .where(or(byEmail(l), eq(sql`lower(${users.username})`, l)))
        .orderBy(desc(sql`lower(${users.email}) = ${l}`))
        .limit(1);
      return (rows[0] as Credentials | undefined) ?? null;
    },

    /** A cheap check used by authentication: does the user still exist, with what role and token version? */
    async findAuthState(id: number): Promise<AuthState | null> {
      const rows = await db.select(authColumns).from(users).where(eq(users.id, id)).limit(1);
      return (rows[0] as AuthState | undefined) ?? null;
    },

    /** Called after this process changed or deleted a user, so caches of it can be dropped at once. */
    onUserChanged(listener: (id: number) => void): void {
      listeners.push(listener);
    },

    /** A hook run inside every new account's insert transaction (see AccountCreatedHook). */
    onAccountCreated(hook: AccountCreatedHook): void {
      accountHooks.push(hook);
    },

    createAccount: (input: NewAccount): Promise<PublicUser> =>
      guard(async () => {
        checkUsername(input.username);
        // The next id whose decimal string no seed 002 profile has taken as its user_id.
        for (let i = 0; i < MAX_ID_SKIPS; i++) {
          const insert = (q: Db | Tx) =>
            q
              .insert(users)
              .values({
                ...NUMERIC_USER_ID,
                email: input.email.trim(),
                password_hash: input.password_hash,
                first_name: input.first_name ?? null,
                last_name: input.last_name ?? null,
                username: input.username ?? null,
                role: input.role,
                created_via: input.created_via,
              })
              .onConflictDoNothing({ target: users.user_id })
              .returning(publicColumns);
          const created = !accountHooks.length
            ? ((await insert(db))[0] as PublicUser | undefined)
            : await db.transaction(async (tx) => {
                const account = (await insert(tx))[0] as PublicUser | undefined;
                if (account) for (const hook of accountHooks) await hook(account, tx);
                return account;
              });
          if (created) return created;
        }
        throw new AppError('CONFLICT', `no free account id after ${MAX_ID_SKIPS} tries: too many numeric seed 002 user_ids ahead of the account sequence`);
      }),

    /**
     * The operator's `arbiter create-admin`: creates an admin, or makes the user with that email an
     * admin (and sets its password when given), ending that user's sessions.
     */
    upsertAdmin: async (input: { email: string; passwordHash?: string | null }): Promise<PublicUser> => {
      const user = await guard(() =>
        db.transaction(async (tx) => {
          const existing = await tx.select({ id: users.id }).from(users).where(byEmail(input.email)).limit(1);
          if (existing[0]) {
            const changes: AdminChanges = { role: 'admin', is_active: true, ...(input.passwordHash ? { password_hash: input.passwordHash } : {}) };
            const bump = tokenVersionBump(changes);
            const set = { ...changes, updated_at: sql`now()`, ...(bump ? { token_version: bump } : {}) };
            const rows = await tx.update(users).set(set).where(eq(users.id, existing[0].id)).returning(publicColumns);
            return rows[0] as PublicUser;
          }
          const rows = await tx
            .insert(users)
            .values({ ...NUMERIC_USER_ID, email: input.email.trim(), role: 'admin', password_hash: input.passwordHash ?? null, created_via: 'cli' })
            .returning(publicColumns);
          return rows[0] as PublicUser;
        }),
      );
      changed(user.id);
      return user;
    },

    /** Changes the given fields (a password, role or deactivation ends the user's sessions); null when the user does not exist. */
    update: async (id: number, changes: AdminChanges): Promise<PublicUser | null> => {
      checkUsername(changes.username);
      const bump = tokenVersionBump(changes);
      const set = { ...changes, updated_at: sql`now()`, ...(bump ? { token_version: bump } : {}) };
      const rows = await guard(() => db.update(users).set(set).where(eq(users.id, id)).returning(publicColumns));
      if (rows[0]) changed(id);
      return (rows[0] as PublicUser | undefined) ?? null;
    },

    /**
     * Deletes an account (admins only, never their own). Refused with 409 while rows still refer to
     * it: seed 001 events and alerts (financial history) and seed 002 sessions, recordings and event
     * log rows are never deleted behind the admin's back. API keys go with the account.
     */
    async delete(id: number, actor: { userId: number } | null): Promise<boolean> {
      if (actor && actor.userId === id) throw new AppError('CONFLICT', 'you cannot delete your own account');
      try {
        const rows = await withDbErrors('user', () => db.delete(users).where(eq(users.id, id)).returning({ id: users.id }));
        if (rows.length) changed(id);
        return rows.length > 0;
      } catch (err) {
        if (err instanceof AppError && err.code === 'CONFLICT') {
          throw new AppError(
            'CONFLICT',
            'user is still referenced by its history (seed 001 events and alerts, or seed 002 sessions, recordings or event log rows) and is kept; ' +
              'deactivate the account instead (PATCH /api/v1/users/{id}/ {"is_active": false}), or delete its seed 002 rows first',
          );
        }
        throw err;
      }
    },

    /** Seed 002's DELETE /users/{user_id}: the same rules as deleting by id. */
    async deleteByExternalId(userId: string, actor: { userId: number } | null): Promise<boolean> {
      const rows = await db.select({ id: users.id }).from(users).where(eq(users.user_id, userId)).limit(1);
      return rows[0] ? this.delete(rows[0].id, actor) : false;
    },

    async list(page: number, size: number, filter: { role?: Role; created_via?: string } = {}): Promise<{ rows: PublicUser[]; total: number }> {
      const where = and(
        filter.role ? eq(users.role, filter.role) : undefined,
        filter.created_via ? eq(users.created_via, filter.created_via) : undefined,
      );
      const [rows, totals] = await Promise.all([
        db.select(publicColumns).from(users).where(where).orderBy(asc(users.id)).limit(size).offset(offsetOf({ page, size })),
        db.select({ total: count() }).from(users).where(where),
      ]);
      return { rows: rows as PublicUser[], total: totals[0].total };
    },

    /**
     * Adds a user known only by its external user_id (seed 000's POST /api/v1/add_user), with no
     * credentials; null when a user with that user_id already exists.
     */
    async addExternalUser(userId: string, createdVia: string): Promise<PublicUser | null> {
      const rows = await withDbErrors('user', () =>
        db.insert(users).values({ user_id: userId, created_via: createdVia }).onConflictDoNothing({ target: users.user_id }).returning(publicColumns),
      );
      return (rows[0] as PublicUser | undefined) ?? null;
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
