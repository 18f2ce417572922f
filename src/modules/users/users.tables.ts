import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, json, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/columns.ts';

/**
 * The one user store every module shares.
 * - `id`: internal integer key (seed 004's user id).
 * - `user_id`: the external id; text so seed 002's string ids and seed 001's integers both fit.
 * - profile JSON (seed 002), credentials and role (auth), and how the account was created (so admins
 *   can review the admins that signed themselves up).
 */
export const users = pgTable(
  'users',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    user_id: text('user_id').notNull().unique(),
    firebase_data: json('firebase_data'),
    body_data: json('body_data'),
    email: text('email'),
    username: text('username'),
    first_name: text('first_name'),
    last_name: text('last_name'),
    password_hash: text('password_hash'),
    role: text('role').notNull().default('user'),
    is_active: boolean('is_active').notNull().default(true),
    /** How the row came to be: register, admin-signup, bootstrap, cli or profile (seed 002's POST /users). */
    created_via: text('created_via'),
    /**
     * Tokens carry the version they were issued under; a password or role change, or deactivation,
     * increments it, which ends every session of the user at once (in every process, within USER_CACHE_MS).
     */
    token_version: integer('token_version').notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`),
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
    check('users_role_check', sql`${t.role} in ('user', 'admin')`),
    // Seed 002's /users list order.
    index('users_created_key_idx').on(t.created_at, t.user_id),
  ],
);
