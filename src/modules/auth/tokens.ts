// JWT access and refresh tokens, signed with jose: HS256 with SECRET_KEY, or EdDSA / RS256 with a
// configured key pair. Verification pins the algorithm, issuer and audience, so `alg: none` and
// tokens signed for anything else are refused.
import { createPrivateKey, createPublicKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import type { AuthConfig } from '../../config.ts';
import type { Clock } from '../../platform/time.ts';

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  sub: string;
  jti: string;
  exp: number;
  iat: number;
  token_type: TokenType;
  /** The sign-in (token family) the token belongs to: logout or refresh-token reuse ends it. */
  fam: string;
  /** When the family ends (seconds), whatever later refreshes ask: the most a session can live. */
  fexp: number;
  /** The user's token_version at issue; a password or role change increments it. */
  ver: number;
}

/** The sign-in a token is issued for. */
export interface TokenFamily {
  id: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  version: number;
}

export interface SigningKeys {
  alg: 'HS256' | 'EdDSA' | 'RS256';
  sign: KeyObject | Uint8Array;
  verify: KeyObject | Uint8Array;
  /** Where the key came from, for the start-up log (never the key itself). */
  source: string;
}

/** Resolves the signing keys: a key pair, SECRET_KEY, or a random secret persisted in DATA_DIR. */
export function loadSigningKeys(cfg: AuthConfig, dataDir: string): SigningKeys {
  if (cfg.jwtPrivateKey && cfg.jwtPublicKey) {
    const priv = createPrivateKey(cfg.jwtPrivateKey);
    const pub = createPublicKey(cfg.jwtPublicKey);
    const type = priv.asymmetricKeyType;
    const alg = type === 'ed25519' ? 'EdDSA' : type === 'rsa' ? 'RS256' : null;
    if (!alg) throw new Error(`JWT_PRIVATE_KEY must be an Ed25519 or RSA key, got ${type}`);
    return { alg, sign: priv, verify: pub, source: `${alg} key pair` };
  }
  if (cfg.secretKey) {
    const key = new TextEncoder().encode(cfg.secretKey);
    return { alg: 'HS256', sign: key, verify: key, source: 'SECRET_KEY' };
  }
  // Development default: a random secret kept beside the embedded database so restarts keep sessions.
  const file = path.join(dataDir, 'secret.key');
  let secret: string;
  try {
    secret = fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    secret = randomBytes(48).toString('base64url');
    try {
      fs.writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    } catch {
      secret = fs.readFileSync(file, 'utf8').trim(); // another process won the race
    }
  }
  const key = new TextEncoder().encode(secret);
  return { alg: 'HS256', sign: key, verify: key, source: `generated secret in ${file}` };
}

export function createTokenService(deps: { keys: SigningKeys; config: AuthConfig; clock: Clock }) {
  const { keys, config, clock } = deps;
  const lifetimeSec: Record<TokenType, number> = {
    access: config.accessTokenMinutes * 60,
    refresh: config.refreshTokenDays * 86_400,
  };
  return {
    /** A new sign-in's family: a fresh id, ending SESSION_MAX_DAYS from now. */
    newFamily(version: number): TokenFamily {
      return { id: randomUUID(), expiresAt: Math.floor(clock.now().getTime() / 1000) + config.sessionMaxDays * 86_400, version };
    },

    async issue(userId: number, type: TokenType, family: TokenFamily): Promise<{ token: string; claims: TokenClaims }> {
      const iat = Math.floor(clock.now().getTime() / 1000);
      const exp = Math.min(iat + lifetimeSec[type], family.expiresAt);
      const claims: TokenClaims = { sub: String(userId), jti: randomUUID(), iat, exp, token_type: type, fam: family.id, fexp: family.expiresAt, ver: family.version };
      const token = await new SignJWT({ token_type: type, fam: family.id, fexp: family.expiresAt, ver: family.version })
        .setProtectedHeader({ alg: keys.alg, typ: 'JWT' })
        .setSubject(claims.sub)
        .setJti(claims.jti)
        .setIssuedAt(iat)
        .setExpirationTime(claims.exp)
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .sign(keys.sign);
      return { token, claims };
    },

    /** The verified claims, or null for any token that is not a valid one of `type`. */
    async verify(token: string, type: TokenType): Promise<TokenClaims | null> {
      try {
        const { payload } = await jwtVerify(token, keys.verify, {
          algorithms: [keys.alg],
          issuer: config.issuer,
          audience: config.audience,
          requiredClaims: ['exp', 'iat', 'jti', 'sub'],
          currentDate: clock.now(),
        });
        if (payload.token_type !== type || !/^\d+$/.test(payload.sub ?? '')) return null;
        // Tokens from before token families (no fam/ver) are refused: their sessions cannot be ended.
        if (typeof payload.fam !== 'string' || !Number.isSafeInteger(payload.ver) || !Number.isSafeInteger(payload.fexp)) return null;
        return payload as unknown as TokenClaims;
      } catch {
        return null;
      }
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
