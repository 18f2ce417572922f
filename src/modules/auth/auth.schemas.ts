import { Type, type Static } from 'typebox';
import { PageProps } from '../../platform/pagination.ts';
import { DateTimeOut } from '../../platform/schemas.ts';
import { API_KEY_SCOPES } from './authenticator.ts';

const Name = Type.Union([Type.String({ maxLength: 150 }), Type.Null()]);
const Email = Type.String({ format: 'email', maxLength: 254, description: 'email address (unique, case-insensitive)' });
const Password = Type.String({ minLength: 8, maxLength: 1024, description: 'at least 8 characters' });
// No '@': a username can never be taken for someone's email at login.
const Username = Type.Union([Type.String({ minLength: 1, maxLength: 150, pattern: '^[\\w.+-]+$', description: "letters, digits and . + - _ (no '@')" }), Type.Null()]);

export const RegisterSchema = Type.Object(
  { first_name: Type.Optional(Name), last_name: Type.Optional(Name), email: Email, password: Password, username: Type.Optional(Username) },
  { additionalProperties: false },
);
export type Register = Static<typeof RegisterSchema>;

export const LoginSchema = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
export const RequestTokenSchema = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 254, description: 'username or email' }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
export const RefreshSchema = Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });
export const LogoutSchema = Type.Union([Type.Object({ refresh: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })) }, { additionalProperties: false }), Type.Null()]);

export const TokenPairSchema = Type.Object({ access: Type.String(), refresh: Type.String() });
export const RequestTokenResponse = Type.Object({ token: Type.String(), access_token: Type.String(), token_type: Type.Literal('bearer') });
export const DetailSchema = Type.Object({ detail: Type.String() });

const Timestamp = DateTimeOut();
/** What a user sees of themselves, and what admins see of anyone. */
export const UserSchema = Type.Object(
  {
    id: Type.Integer(),
    user_id: Type.String({ description: 'external id (equal to id for registered accounts)' }),
    email: Type.Union([Type.String(), Type.Null()]),
    username: Type.Union([Type.String(), Type.Null()]),
    first_name: Type.Union([Type.String(), Type.Null()]),
    last_name: Type.Union([Type.String(), Type.Null()]),
    role: Type.String(),
    is_active: Type.Boolean(),
    created_via: Type.Union([Type.String({ description: 'register, admin-signup, bootstrap, cli, or null for a seed 002 profile' }), Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'User' },
);
/** Another user as seen by a signed-in user: the public fields; the rest only for admins and oneself. */
export const UserViewSchema = Type.Object(
  {
    id: Type.Integer(),
    username: UserSchema.properties.username,
    first_name: UserSchema.properties.first_name,
    last_name: UserSchema.properties.last_name,
    user_id: Type.Optional(UserSchema.properties.user_id),
    email: Type.Optional(UserSchema.properties.email),
    role: Type.Optional(UserSchema.properties.role),
    is_active: Type.Optional(UserSchema.properties.is_active),
    created_via: Type.Optional(UserSchema.properties.created_via),
    created_at: Type.Optional(Timestamp),
    updated_at: Type.Optional(Timestamp),
  },
  { title: 'UserView' },
);

export const UpdateMeSchema = Type.Object(
  { first_name: Type.Optional(Name), last_name: Type.Optional(Name), username: Type.Optional(Username), email: Type.Optional(Email) },
  { additionalProperties: false, minProperties: 1 },
);
export const AdminUpdateSchema = Type.Object(
  {
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
    is_active: Type.Optional(Type.Boolean()),
    password: Type.Optional(Password),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const UserIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false });

export const ListUsersQuery = Type.Object(
  {
    ...PageProps,
    role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')], { description: 'admins only' })),
    created_via: Type.Optional(Type.Union(['register', 'admin-signup', 'bootstrap', 'cli'].map((v) => Type.Literal(v)), { description: 'admins only' })),
  },
  { additionalProperties: false },
);

const Scope = Type.Union(API_KEY_SCOPES.map((s) => Type.Literal(s)));
export const CreateApiKeySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Optional(Type.Array(Scope, { minItems: 1, maxItems: 3, default: ['user'], description: "'user' (act as its user), 'admin' (admin routes; admin owners only), 'service' (service routes)" })),
    user_id: Type.Optional(Type.Integer({ minimum: 1, description: 'the user the key acts as (default: the caller)' })),
    expires_in_days: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()])),
  },
  { additionalProperties: false },
);
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
export const ApiKeySchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  prefix: Type.String({ description: 'the first characters of the key' }),
  scopes: Type.Array(Type.String()),
  user_id: Type.Integer(),
  created_at: Timestamp,
  expires_at: NullableTimestamp,
  last_used_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
});
export const CreatedApiKeySchema = Type.Object({ ...ApiKeySchema.properties, key: Type.String({ description: 'the key; shown only once' }) });
