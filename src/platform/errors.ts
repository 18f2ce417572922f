// One error model: services throw AppError(code, message) and know nothing of HTTP;
// the error handler renders {"detail", "message", "code", "requestId"} with the status of the code.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Dependency } from './dependencies.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Set when the request failed in a way that may have left its write applied (a connection lost
     * mid-statement, an unexpected error): a retry must not simply run again (see idempotency.ts).
     */
    outcomeUnknown?: boolean;
  }
}
import { drainRequest } from './request-drain.ts';

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly headers: Record<string, string> | undefined;
  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.headers = opts.headers;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

interface PgLikeError {
  code: string;
  detail?: string;
  message: string;
  column?: string;
  column_name?: string;
}

/** Finds the PostgreSQL error (SQLSTATE code) under driver and ORM wrappers. */
/** An error and the causes under it (driver and ORM wrappers), outermost first, five levels at most. */
function causes(err: unknown): { code?: unknown; message?: unknown; name?: unknown }[] {
  const out: { code?: unknown; message?: unknown; name?: unknown }[] = [];
  for (let e: unknown = err; e && out.length < 5; e = (e as { cause?: unknown }).cause) out.push(e as object);
  return out;
}

function findPgError(err: unknown): PgLikeError | null {
  return (causes(err).find((e) => typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) as PgLikeError | undefined) ?? null;
}

/** The SQLSTATE of a PostgreSQL error under driver and ORM wrappers, or null (e.g. a lost connection). */
export function sqlState(err: unknown): string | null {
  return findPgError(err)?.code ?? null;
}

/** SQLSTATE classes of a statement's own failure: data, integrity, rollback, syntax, lock timeout, plpgsql. */
const STATEMENT_FAILED = new Set(['22', '23', '40', '42', '55', 'P0']);

/**
 * Whether PostgreSQL reported that a statement failed, so its transaction rolled back and nothing of it
 * was stored. A lost connection is not such a failure: the statement may have committed.
 */
export function statementFailed(err: unknown): boolean {
  return STATEMENT_FAILED.has(sqlState(err)?.slice(0, 2) ?? '');
}

/** Longest piece of client input an error message quotes; longer values end in an ellipsis. */
export const ECHO_LIMIT = 100;

/** Shortens text that echoes client input, so an error never carries a large value back whole. */
export function truncate(text: string, max = ECHO_LIMIT): string {
  if (text.length <= max) return text;
  // Never cut a surrogate pair in two.
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

/** Longest error message sent at all (a last resort for messages that quote input unquoted). */
const DETAIL_LIMIT = 1000;
const QUOTED = /"(?:[^"\\]|\\.)*"|'[^'\n]*'/gs;

/**
 * Error messages quote the value they refuse (`'…'` or JSON.stringify's `"…"`); whatever service
 * wrote them, a quoted value longer than ECHO_LIMIT is cut to it here, and the whole message to
 * DETAIL_LIMIT.
 */
export function clipEchoes(message: string): string {
  const clipped = message.length <= ECHO_LIMIT + 2 ? message : message.replace(QUOTED, (q) => (q.length > ECHO_LIMIT + 2 ? `${q[0]}${truncate(q.slice(1, -1))}${q.at(-1)}` : q));
  return truncate(clipped, DETAIL_LIMIT);
}

// Our own words for PostgreSQL's data exceptions: its messages quote the value and name internal
// types ("out of range for type bigint", "invalid byte sequence for encoding \"UTF8\": 0x00").
const DATA_ERRORS: Record<string, string> = {
  '22P02': 'a value does not have the form its field needs',
  '22007': 'a date-time is not valid',
  '22008': 'a date-time is out of range (years 100 to 9999 are accepted)',
  '22003': 'a number is out of range for its field',
  '22001': 'a value is longer than its field allows',
  '22023': 'a value is not valid for its field',
  '22021': 'text contains a character that cannot be stored (such as NUL, \\u0000)',
  '22P05': 'text contains a character that cannot be stored (such as NUL, \\u0000)',
  '2200N': 'a value is not valid for its field',
  '22030': 'a value is not valid JSON for its field',
  '22032': 'a value is not valid JSON for its field',
};

/**
 * Turns a database constraint or data error into an AppError with a message that names the
 * offending column and (truncated) value; returns null for errors that are not the client's fault.
 */
export function mapDbError(err: unknown, resource = 'record'): AppError | null {
  const pg = findPgError(err);
  if (!pg) return null;
  const detail = pg.detail ?? '';
  const key = /Key \((.+?)\)=\((.*?)\)/s.exec(detail);
  const value = key ? truncate(key[2]) : '';
  switch (pg.code) {
    case '23505':
      return new AppError('CONFLICT', key ? `${resource} with ${key[1]} '${value}' already exists` : `${resource} already exists`, { cause: err });
    case '23503': {
      const missing = /is not present in table "(.+?)"/.exec(detail);
      if (missing) {
        return new AppError('UNPROCESSABLE', key ? `${key[1]} '${value}' does not exist in ${missing[1]}` : `a referenced ${missing[1]} row does not exist`, { cause: err });
      }
      const still = /is still referenced from table "(.+?)"/.exec(detail);
      const which = key ? ` with ${key[1]} '${value}'` : '';
      return new AppError('CONFLICT', `${resource}${which} is still referenced${still ? ` from ${still[1]}` : ''}; delete those rows first`, { cause: err });
    }
    case '23502':
      return new AppError('VALIDATION_ERROR', `${pg.column ?? pg.column_name ?? 'a required field'} must not be null`, { cause: err });
    case '55P03': // lock_timeout
      return new AppError('UNAVAILABLE', `the ${resource} is locked by another transaction; retry`, { cause: err, headers: { 'retry-after': '1' } });
    default: {
      const text = DATA_ERRORS[pg.code];
      if (!text) return null;
      const column = pg.column ?? pg.column_name;
      return new AppError('VALIDATION_ERROR', `invalid ${resource}: ${column ? `${column}: ` : ''}${text}`, { cause: err });
    }
  }
}

/** Runs a database write, turning constraint and data errors into AppErrors that name `resource`. */
export async function withDbErrors<T>(resource: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw mapDbError(err, resource) ?? err;
  }
}

/** The errors src/ml throws for bad parameters or data (RangeError, TypeError) and for use before fit. */
const ML_ERRORS = new Set(['RangeError', 'TypeError', 'NotFittedError']);

/**
 * Runs estimator work for a service: what src/ml throws about the parameters or the data reaches the
 * client as 422 with its message (which names the limit), not as a 500. Only wrap calls into src/ml,
 * so a programming error elsewhere is not mistaken for the client's.
 */
export async function withMlErrors<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof Error && ML_ERRORS.has(err.name)) throw new AppError('UNPROCESSABLE', err.message, { cause: err });
    throw err;
  }
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_TYPE: 'BAD_REQUEST',
  FST_ERR_VALIDATION: 'VALIDATION_ERROR',
};

/** A validation failure as one sentence naming the field (also for bodies checked outside a route). */
export function describeValidation(err: Pick<FastifyError, 'validation' | 'validationContext' | 'message'>): string {
  const v = err.validation?.[0];
  if (!v) return err.message;
  const where = err.validationContext ?? 'request';
  const p = v.instancePath ? v.instancePath.slice(1).replaceAll('/', '.') : '';
  const params = v.params as Record<string, unknown>;
  switch (v.keyword) {
    case 'required':
      return `${where}: missing required field '${[p, params.missingProperty].filter(Boolean).join('.')}'`;
    case 'additionalProperties':
      return where === 'querystring'
        ? `unknown query parameter '${params.additionalProperty}'`
        : `${where}: unknown field '${[p, params.additionalProperty].filter(Boolean).join('.')}'`;
    default:
      return `${where}${p ? `.${p}` : ''} ${v.message ?? 'is invalid'}`;
  }
}

/** The body of every error response; `message` repeats `detail` for the Flask originals' clients. */
export function errorBody(detail: string, code: string, requestId: string) {
  const text = clipEchoes(detail);
  return { detail: text, message: text, code, requestId };
}

// What drivers fail with when a connection is refused, lost or cannot be made in time (postgres.js,
// ioredis, Node's net), rather than because of the statement or command itself.
const CONNECTION_CODES = new Set(['DB_UNAVAILABLE', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const CONNECTION_MESSAGES = /Stream isn't writeable|Connection is closed|Command timed out|MaxRetriesPerRequest|Reached the max retries/;

function hasCode(err: unknown, code: string): boolean {
  return causes(err).some((e) => e.code === code);
}

function isConnectionError(err: unknown): boolean {
  return causes(err).some(
    ({ code, message, name }) =>
      (typeof code === 'string' && CONNECTION_CODES.has(code)) || name === 'MaxRetriesPerRequestError' || (typeof message === 'string' && CONNECTION_MESSAGES.test(message)),
  );
}

/**
 * A failure while a dependency is out, or one of a lost connection, is the outage's and not the
 * request's: 503 with Retry-After, logged at debug (the dependency watch logs the outage once). A lost
 * connection while every dependency still looks up makes them probe now (in at most half a second),
 * which names the one that went and tells its driver to stop trying at once.
 */
async function outage(err: unknown, dependencies: readonly Dependency[]): Promise<AppError | null> {
  let down = dependencies.filter((d) => !d.up);
  if (!down.length) {
    if (!isConnectionError(err)) return null;
    const checked = await Promise.all(dependencies.map(async (d) => ((await d.check(500)) ? null : d)));
    down = checked.filter((d): d is Dependency => d !== null);
  }
  const names = down.map((d) => d.name);
  const what = names.length ? names.join(' and ') : 'a service Arbiter depends on';
  return new AppError('UNAVAILABLE', `${what} ${names.length > 1 ? 'are' : 'is'} unavailable; retry shortly`, { cause: err, headers: { 'retry-after': '1' } });
}

/** Installs the error handler and the 404 handler. */
export function registerErrorHandling(app: FastifyInstance, deps: { dependencies?: readonly Dependency[] } = {}): void {
  const dependencies = deps.dependencies ?? [];
  app.setErrorHandler(async (error: FastifyError, req, reply) => {
    let appErr: AppError;
    if (error instanceof AppError) {
      appErr = error;
    } else if (error.validation) {
      appErr = new AppError('VALIDATION_ERROR', describeValidation(error));
    } else if (error.code && FASTIFY_CODES[error.code]) {
      const code = FASTIFY_CODES[error.code];
      const msg = code === 'PAYLOAD_TOO_LARGE'
        ? `request body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`
        : error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
          ? `malformed JSON body: ${error.message}`
          : error.message;
      appErr = new AppError(code, msg);
    } else if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
      appErr = new AppError('BAD_REQUEST', `malformed JSON body: ${error.message}`);
    } else {
      const mapped = mapDbError(error);
      if (mapped) {
        appErr = mapped;
      } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
        const code = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((k) => ERROR_STATUS[k] === error.statusCode) ?? 'BAD_REQUEST';
        appErr = new AppError(code, error.message);
      } else {
        // No database connection free in time: the transaction was abandoned before any statement.
        const busy = hasCode(error, 'DB_POOL_WAIT')
          ? new AppError('UNAVAILABLE', 'the database is busy: no connection was free in time (DB_POOL_WAIT_MS); retry shortly', { cause: error, headers: { 'retry-after': '1' } })
          : null;
        const unavailable = busy ?? (await outage(error, dependencies));
        // Refused before it reached the database, the request certainly changed nothing.
        if (!hasCode(error, 'DB_UNAVAILABLE') && !busy) req.outcomeUnknown = true;
        if (unavailable) {
          req.log.debug({ err: error }, unavailable.message);
          appErr = unavailable;
        } else {
          req.log.error({ err: error }, 'unhandled error');
          appErr = new AppError('INTERNAL', 'internal server error');
        }
      }
    }
    if (error instanceof AppError && appErr.status >= 500 && appErr.code !== 'UNAVAILABLE') req.log.error({ err: appErr.cause ?? appErr }, appErr.message);
    // A client still sending a body too large for us must be let finish, or it sees a reset
    // (EPIPE, "fetch failed") instead of this answer.
    if (appErr.code === 'PAYLOAD_TOO_LARGE') await drainRequest(req.raw, app.initialConfig.bodyLimit ?? 1_048_576);
    if (appErr.headers) reply.headers(appErr.headers);
    return reply.status(appErr.status).send(errorBody(appErr.message, appErr.code, req.id));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(errorBody(`route ${req.method} ${req.url.split('?')[0]} not found`, 'NOT_FOUND', req.id));
  });
}
