import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db.ts';
import { mapDbError } from '../../platform/errors.ts';
import { users } from './users.tables.ts';

export type Role = 'user' | 'admin';

export interface PublicUser {
  id: number;
  user_id: string;
  email: string | null;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  role: Role;
}

const publicColumns = {
  id: users.id,
  user_id: users.user_id,
  email: users.email,
  username: users.username,
  first_name: users.first_name,
  last_name: users.last_name,
  role: users.role,
};

// A new user's external id is its integer id: nextval and currval in one VALUES row.
const NUMERIC_USER_ID = {
  id: sql`nextval(pg_get_serial_sequence('users', 'id'))`,
  user_id: sql`currval(pg_get_serial_sequence('users', 'id'))::text`,
} as unknown as { id: number; user_id: string };

export function createUsersService(deps: { db: Db }) {
  const { db } = deps;
  return {
    async findByExternalId(userId: string): Promise<PublicUser | null> {
      const rows = await db.select(publicColumns).from(users).where(eq(users.user_id, userId)).limit(1);
      return (rows[0] as PublicUser | undefined) ?? null;
    },

    /**
     * Creates an admin, or promotes the user with that email. Its external user_id is its integer id,
     * so seed 001's integer user ids can address it.
     */
    async upsertAdmin(input: { email: string; passwordHash?: string | null }): Promise<PublicUser> {
      const email = input.email.trim();
      try {
        return await db.transaction(async (tx) => {
          const existing = await tx.select({ id: users.id }).from(users).where(eq(sql`lower(${users.email})`, email.toLowerCase())).limit(1);
          const set = { role: 'admin', updated_at: sql`now()`, ...(input.passwordHash ? { password_hash: input.passwordHash } : {}) };
          if (existing[0]) {
            const rows = await tx.update(users).set(set).where(eq(users.id, existing[0].id)).returning(publicColumns);
            return rows[0] as PublicUser;
          }
          const rows = await tx
            .insert(users)
            .values({ ...NUMERIC_USER_ID, email, role: 'admin', password_hash: input.passwordHash ?? null })
            .returning(publicColumns);
          return rows[0] as PublicUser;
        });
      } catch (err) {
        throw mapDbError(err, 'user') ?? err;
      }
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
