import { asc, count, eq, or, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db.ts';
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
  created_at: Date;
  updated_at: Date;
}

export interface Credentials {
  id: number;
  role: Role;
  is_active: boolean;
  password_hash: string | null;
}

export interface NewAccount {
  email: string;
  password_hash: string;
  first_name?: string | null;
  last_name?: string | null;
  username?: string | null;
  role: Role;
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
  created_at: users.created_at,
  updated_at: users.updated_at,
};

// A new account's external id is its integer id (nextval and currval in one VALUES row), so seed
// 001's integer user ids address it.
const NUMERIC_USER_ID = {
  id: sql`nextval(pg_get_serial_sequence('users', 'id'))`,
  user_id: sql`currval(pg_get_serial_sequence('users', 'id'))::text`,
} as unknown as { id: number; user_id: string };

const byEmail = (email: string) => eq(sql`lower(${users.email})`, email.trim().toLowerCase());

export function createUsersService(deps: { db: Db }) {
  const { db } = deps;
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

    /** For login: the account with this email or username (case-insensitive), with its hash. */
    async findCredentials(login: string): Promise<Credentials | null> {
      const l = login.trim().toLowerCase();
      const rows = await db
        .select({ id: users.id, role: users.role, is_active: users.is_active, password_hash: users.password_hash })
        .from(users)
        .where(or(byEmail(l), eq(sql`lower(${users.username})`, l)))
        .limit(1);
      return (rows[0] as Credentials | undefined) ?? null;
    },

    /** A cheap check used by authentication: does the user still exist, with what role? */
    async findAuthState(id: number): Promise<{ role: Role; is_active: boolean } | null> {
      const rows = await db.select({ role: users.role, is_active: users.is_active }).from(users).where(eq(users.id, id)).limit(1);
      return (rows[0] as { role: Role; is_active: boolean } | undefined) ?? null;
    },

    createAccount: (input: NewAccount): Promise<PublicUser> =>
      guard(async () => {
        const rows = await db
          .insert(users)
          .values({
            ...NUMERIC_USER_ID,
            email: input.email.trim(),
            password_hash: input.password_hash,
            first_name: input.first_name ?? null,
            last_name: input.last_name ?? null,
            username: input.username ?? null,
            role: input.role,
          })
          .returning(publicColumns);
        return rows[0] as PublicUser;
      }),

    /** Creates an admin, or makes the user with that email an admin (and sets its password when given). */
    upsertAdmin: (input: { email: string; passwordHash?: string | null }): Promise<PublicUser> =>
      guard(() =>
        db.transaction(async (tx) => {
          const existing = await tx.select({ id: users.id }).from(users).where(byEmail(input.email)).limit(1);
          if (existing[0]) {
            const set = { role: 'admin', is_active: true, updated_at: sql`now()`, ...(input.passwordHash ? { password_hash: input.passwordHash } : {}) };
            const rows = await tx.update(users).set(set).where(eq(users.id, existing[0].id)).returning(publicColumns);
            return rows[0] as PublicUser;
          }
          const rows = await tx
            .insert(users)
            .values({ ...NUMERIC_USER_ID, email: input.email.trim(), role: 'admin', password_hash: input.passwordHash ?? null })
            .returning(publicColumns);
          return rows[0] as PublicUser;
        }),
      ),

    /** Changes the given fields; null when the user does not exist. */
    update: (id: number, changes: AdminChanges): Promise<PublicUser | null> =>
      guard(async () => {
        const rows = await db.update(users).set({ ...changes, updated_at: sql`now()` }).where(eq(users.id, id)).returning(publicColumns);
        return (rows[0] as PublicUser | undefined) ?? null;
      }),

    delete: (id: number): Promise<boolean> =>
      guard(async () => {
        const rows = await db.delete(users).where(eq(users.id, id)).returning({ id: users.id });
        return rows.length > 0;
      }),

    async list(page: number, size: number): Promise<{ rows: PublicUser[]; total: number }> {
      const [rows, totals] = await Promise.all([
        db.select(publicColumns).from(users).orderBy(asc(users.id)).limit(size).offset((page - 1) * size),
        db.select({ total: count() }).from(users),
      ]);
      return { rows: rows as PublicUser[], total: totals[0].total };
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
