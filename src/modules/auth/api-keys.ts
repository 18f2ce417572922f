import { randomBytes } from 'node:crypto';
import { AppError } from '../../platform/errors.ts';
import type { ApiKeyRepository, ApiKeyRow } from './api-keys.repository.ts';
import { API_KEY_PREFIX, hashApiKey, type ApiKeyScope } from './authenticator.ts';

/** Makes a new API key; the key itself exists only in the answer, the database keeps its hash. */
export async function createApiKey(
  repo: ApiKeyRepository,
  input: { name: string; scopes: ApiKeyScope[]; userId: number; role: 'user' | 'admin'; expiresInDays?: number | null },
): Promise<ApiKeyRow & { key: string }> {
  if (input.scopes.includes('admin') && input.role !== 'admin') throw new AppError('UNPROCESSABLE', "scope 'admin' needs a key owned by an admin");
  const key = API_KEY_PREFIX + randomBytes(24).toString('base64url');
  const row = await repo.create({
    name: input.name,
    prefix: key.slice(0, 12),
    key_hash: hashApiKey(key),
    scopes: [...new Set(input.scopes)],
    user_id: input.userId,
    expires_at: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
  });
  return { ...row, key };
}
