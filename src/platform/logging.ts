// What an error may put in the logs. Driver and ORM errors carry the request's data: postgres.js
// puts the bound values in `parameters`/`args`, Drizzle in `params` and in its message ("Failed
// query: … params: …"), PostgreSQL in `detail` ("Key (email)=(…)") and in the messages of data
// errors. Those values can be passwords' hashes, tokens or personal data, so an error is logged as a
// copy of its safe fields: the SQL statement (placeholders, no values), SQLSTATE, constraint, table,
// column, and the stack frames, down its chain of causes.

const SAFE_FIELDS = ['code', 'severity', 'routine', 'constraint', 'constraint_name', 'table', 'table_name', 'column', 'column_name', 'schema', 'schema_name', 'statusCode'] as const;
const MAX_CAUSES = 5;
const MAX_STATEMENT = 2000;

function scrubMessage(message: string, code: unknown): string {
  // Drizzle: "Failed query: <sql>\nparams: <values>"
  let text = message.replace(/\nparams: [\s\S]*$/, '\nparams: [redacted]');
  // Data and integrity errors quote the offending value; identifiers are in their own fields.
  if (typeof code === 'string' && /^2[23]/.test(code)) text = text.replace(/"(?:[^"\\]|\\.)*"/g, '"[redacted]"');
  return text.length > MAX_STATEMENT ? `${text.slice(0, MAX_STATEMENT)}…` : text;
}

export interface SerializedError {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
}

/** pino's `err` serializer: an error without the values it may carry. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Object)) return { type: typeof err, message: String(err), stack: '' };
  const e = err as Record<string, unknown>;
  const type = (err as { constructor?: { name?: string } }).constructor?.name ?? 'Error';
  const message = scrubMessage(typeof e.message === 'string' ? e.message : String(err), e.code);
  const out: SerializedError = { type, message, stack: `${type}: ${message}` };
  for (const f of SAFE_FIELDS) if (typeof e[f] === 'string' || typeof e[f] === 'number') out[f] = e[f];
  if (typeof e.query === 'string') out.statement = e.query.length > MAX_STATEMENT ? `${e.query.slice(0, MAX_STATEMENT)}…` : e.query;
  if (typeof e.stack === 'string') {
    const frames = e.stack.split('\n').filter((l) => /^\s+at /.test(l));
    out.stack = [`${type}: ${message}`, ...frames].join('\n');
  }
  if (e.cause !== undefined && depth < MAX_CAUSES) out.cause = serializeError(e.cause, depth + 1);
  return out;
}
