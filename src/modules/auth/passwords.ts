// argon2id password hashing (OWASP parameters: 19 MiB, 2 iterations).
//
// A hash or a check runs on libuv's threadpool (4 threads) and holds 19 MiB while it runs. On a
// machine with fewer cores than that, the extra threads add no throughput, only memory: logins
// under load took the embedded server's RSS 70 MB over its other paths. So at most one runs per
// core; the rest wait their turn here.
import os from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import pLimit from 'p-limit';

const ARGON2ID = 2;
const oneAtATimePerCore = pLimit(Math.max(1, os.availableParallelism()));

export function hashPassword(password: string): Promise<string> {
  return oneAtATimePerCore(() => hash(password, { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 }));
}

/** A fixed hash to verify against when the account does not exist, so timing does not reveal it. */
let dummy: Promise<string> | null = null;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (!storedHash) {
    dummy ??= hashPassword('timing-equaliser');
    const fixed = await dummy;
    await oneAtATimePerCore(() => verify(fixed, password)).catch(() => false);
    return false;
  }
  try {
    return await oneAtATimePerCore(() => verify(storedHash, password));
  } catch {
    return false;
  }
}
