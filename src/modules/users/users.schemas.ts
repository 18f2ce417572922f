import { Type } from 'typebox';
import type { CrudSpec } from '../../platform/crud.ts';
import { JsonValue } from '../../platform/schemas.ts';
import { users } from './users.tables.ts';

const UserIdSchema = Type.String({ minLength: 1, maxLength: 255, description: 'external user id' });

/** Seed 002's /users: the profile part of the shared users table; credentials are never exposed. */
export const userProfileSpec: CrudSpec = {
  name: 'user',
  path: '/users',
  tag: 'users',
  table: users,
  key: 'user_id',
  keySchema: UserIdSchema,
  fields: {
    firebase_data: JsonValue('Firebase profile, any JSON'),
    body_data: JsonValue('body measurements, any JSON'),
  },
  filters: {},
  timeColumn: 'created_at',
  ownerColumn: 'user_id',
  hidden: ['id', 'email', 'username', 'first_name', 'last_name', 'password_hash', 'role', 'is_active', 'created_via', 'token_version'],
};
