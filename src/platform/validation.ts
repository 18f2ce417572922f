// Request validation: bodies are checked strictly (a string is not a number), while the query
// string, path and headers are coerced from text. Unknown fields are refused, never stripped.
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fastJsonStringify from 'fast-json-stringify';
import type { FastifyBaseLogger, FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { AppError, describeValidation } from './errors.ts';

/**
 * Marks an integer field that also takes its decimal string ("60"), as seed 001's Flask original
 * did with int(); the string is turned into the number before the handler sees it.
 */
export const INTEGER_STRING = 'x-integer-string';
const DIGITS = /^\d+$/;

function makeAjv(coerceTypes: boolean | 'array') {
  const ajv = new Ajv.default({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  addFormats.default(ajv);
  const integerString = (enabled: boolean, data: unknown, parentSchema?: { minimum?: number; maximum?: number }, cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }): boolean => {
    if (!enabled || typeof data !== 'string') return true;
    const value = Number(data);
    const min = parentSchema?.minimum ?? -Number.MAX_SAFE_INTEGER;
    const max = parentSchema?.maximum ?? Number.MAX_SAFE_INTEGER;
    if (!DIGITS.test(data) || !Number.isSafeInteger(value) || value < min || value > max) {
      integerString.errors = [{ keyword: INTEGER_STRING, message: `must be an integer from ${min} to ${max} (a JSON number or a string of digits)`, params: {} }];
      return false;
    }
    if (cxt) cxt.parentData[cxt.parentDataProperty] = value;
    return true;
  };
  integerString.errors = [] as object[];
  ajv.addKeyword({ keyword: INTEGER_STRING, modifying: true, schemaType: 'boolean', validate: integerString });
  return ajv;
}

/** Keywords whose value is data, not a schema: a copy of a schema leaves them as they are. */
const VALUE_KEYWORDS = new Set(['const', 'default', 'examples', 'enum']);

/** Keywords whose value maps names (of properties, of definitions) to schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies']);

/** A copy of a schema in which every subschema, innermost first, has gone through `change`. */
function mapSchema(schema: unknown, change: (node: Record<string, unknown>) => Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => mapSchema(s, change));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (VALUE_KEYWORDS.has(k)) out[k] = v;
    else if (SCHEMA_MAPS.has(k) && v !== null && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, mapSchema(s, change)]));
    else out[k] = mapSchema(v, change);
  }
  return change(out);
}

/**
 * A copy of a schema in which every integer is bounded to the safe integers: a coerced path or
 * query value such as 12345678901234567891 would otherwise become the nearest double and find
 * another row, and a larger one would reach the database as an out-of-range value.
 */
function withSafeIntegers(schema: unknown): unknown {
  return mapSchema(schema, (node) => {
    const type = node.type;
    if (type === 'integer' || (Array.isArray(type) && type.includes('integer'))) {
      if (typeof node.maximum !== 'number' || node.maximum > Number.MAX_SAFE_INTEGER) node.maximum = Number.MAX_SAFE_INTEGER;
      if (typeof node.minimum !== 'number' || node.minimum < -Number.MAX_SAFE_INTEGER) node.minimum = -Number.MAX_SAFE_INTEGER;
    }
    return node;
  });
}

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);
/** Keywords that only describe: branches may share them, and the union's own node may hold them. */
const ANNOTATIONS = new Set(['description', 'title', 'examples', 'default']);
/** Keywords that make a branch more than its type and shape: such a union stays an `anyOf`. */
const COMBINING = new Set(['const', 'enum', 'anyOf', 'oneOf', 'allOf', 'not', 'if', 'then', 'else', '$ref']);
const isSchema = (s: unknown): s is Record<string, unknown> => typeof s === 'object' && s !== null && !Array.isArray(s);

/**
 * A copy of a response schema in which the unions a type list can say are type lists: a nullable
 * field (`anyOf: [{type: 'string'}, {type: 'null'}]`, how TypeBox writes `Type.Union([T,
 * Type.Null()])`; ~350 of the server's response fields), one row or a list of rows, and a union of
 * string constants (`'up' | 'down'`, written as a string). fast-json-stringify writes a type list
 * after a `typeof` check, but an `anyOf` by running an Ajv validator on the value: a new Ajv for
 * each schema that has one (~10 ms to build), its validators compiled on the route's first answer
 * (6–26 ms of POST /train's first answer in a micro-benchmark), and a validation of each answer. What
 * a type list gives up: like any field fast-json-stringify writes outside a union, it is written after
 * a type check only, so a branch's constraints (maxLength, pattern, a range, format, the set of string
 * constants) are not checked on the way out, and a null in a list without 'null' is written as the
 * first type's empty value (0, "", {}) where the `anyOf` answered 500. The answers are the server's
 * own, typed values; the checks are the request schemas' job. A union whose branches share a type (or
 * overlap, integer and number), or carry `const`, `enum`, `$ref` or a combinator, or share a keyword,
 * or whose own node has more than annotations, stays an `anyOf`.
 */
export function unionsAsTypeLists(schema: unknown): unknown {
  return mapSchema(schema, (node) => {
    const branches = node.anyOf;
    const { anyOf: _, ...rest } = node;
    if (!Array.isArray(branches) || !branches.every(isSchema) || !Object.keys(rest).every((k) => ANNOTATIONS.has(k))) return node;
    if (branches.every((b) => b.type === 'string' && typeof b.const === 'string' && Object.keys(b).every((k) => k === 'type' || k === 'const' || ANNOTATIONS.has(k)))) {
      return { ...rest, type: 'string', enum: branches.map((b) => b.const) };
    }
    const types = branches.map((b) => b.type);
    if (!types.every((t) => typeof t === 'string' && JSON_TYPES.has(t)) || new Set(types).size !== types.length || (types.includes('integer') && types.includes('number'))) return node;
    const merged: Record<string, unknown> = {};
    for (const branch of branches) {
      for (const [k, v] of Object.entries(branch)) {
        if (k === 'type' || ANNOTATIONS.has(k)) continue;
        if (COMBINING.has(k) || k in merged) return node;
        merged[k] = v;
      }
    }
    return { ...merged, ...rest, type: types };
  });
}

/**
 * The compilations not yet done, per server (a route's validators and serializers, in every context of
 * the app): once the server listens, `compileAhead` does them one per turn of the event loop, so a
 * route's first request finds its code compiled instead of compiling it on the loop (the first POST
 * /train spent ~17 ms on its body validator and ~15 ms on its response serializer). A request that
 * comes first compiles its own, as before; nothing is compiled twice.
 */
const pending = new WeakMap<object, Ahead[]>();
/** Compiles a route's code unless a request already has; answers whether it did. */
type Ahead = () => boolean;

/** The server's queue, made (with the hook that empties it) when the first compiler is registered. */
function queueOf(app: FastifyInstance): Ahead[] {
  let queue = pending.get(app.server);
  if (!queue) {
    const made: Ahead[] = [];
    pending.set(app.server, (queue = made));
    app.addHook('onListen', (done) => {
      compileAhead(made, app.log);
      done();
    });
    // A closing server compiles nothing more.
    app.addHook('onClose', (_app, done) => {
      made.length = 0;
      done();
    });
  }
  return queue;
}

function compileAhead(queue: Ahead[], log: FastifyBaseLogger): void {
  const started = performance.now();
  let count = 0;
  const next = () => {
    const ahead = queue.shift();
    if (!ahead) return void log.debug({ count, ms: Math.round(performance.now() - started) }, 'route schemas compiled ahead');
    try {
      if (ahead()) count++;
    } catch (err) {
      // Left to the route's first request, which reports it as its error; said here too, at once.
      log.warn({ err }, 'a route schema did not compile ahead of its first request');
    }
    setImmediate(next);
  };
  setImmediate(next);
}

/**
 * Validators are compiled after start-up, not during it: compiling every route's schemas (ajv
 * generates and V8 compiles a function per schema) took about a second of a 5 s start and briefly
 * doubled the RSS. They are compiled ahead once the server listens, one per turn of the loop, or on a
 * route's first request if it comes first (above). Fastify reads a validator's `errors` after it
 * returns false, so the wrapper passes them on.
 */
export function registerValidation(app: FastifyInstance, opts: { bodies?: boolean } = {}): void {
  const queue = queueOf(app);
  // Made with the first validator that needs them (a context may never need one of the two).
  let strict: Ajv.default | undefined;
  let coercing: Ajv.default | undefined;
  app.setValidatorCompiler(({ schema, httpPart }) => {
    // `bodies: false`: a context whose routes take raw bytes and check them where they parse them
    // (bodyChecker); the schema stays on the route for the OpenAPI document.
    if (httpPart === 'body' && opts.bodies === false) return () => true;
    let compiled: ValidateFunction | undefined;
    const compile = () => (compiled ??= (httpPart === 'body' ? (strict ??= makeAjv(false)) : (coercing ??= makeAjv('array'))).compile(withSafeIntegers(schema) as object));
    queue.push(() => compiled === undefined && Boolean(compile()));
    const validate = (data: unknown): boolean => {
      const check = compile();
      const ok = check(data) as boolean;
      validate.errors = check.errors;
      return ok;
    };
    validate.errors = null as ValidateFunction['errors'];
    return validate;
  });
}

/**
 * Response serializers are compiled after start-up, as the validators are: compiling every route's
 * response schemas with fast-json-stringify (as Fastify does when the routes are registered) took about
 * 0.3 s of each start, in the start-up profile of issue 11. The schemas are the routes' own (no shared
 * schemas), with unions written as type lists where they can be (above); the Ajv validators of any
 * union left are compiled with the serializer (`compileValidators`), not on its first answer.
 */
export function registerSerialization(app: FastifyInstance): void {
  const queue = queueOf(app);
  app.setSerializerCompiler(({ schema }) => {
    let compiled: ((data: unknown) => string) | undefined;
    const compile = () => (compiled ??= fastJsonStringify(unionsAsTypeLists(schema) as object, { compileValidators: true }));
    queue.push(() => compiled === undefined && Boolean(compile()));
    return (data: unknown) => compile()(data);
  });
}

let bodyAjv: Ajv.default | undefined;

/**
 * A body check outside a route (an upload parsed on a worker thread), with the routes' compiler
 * and the same 400 message naming the field.
 */
export function bodyChecker(schema: object): (data: unknown) => void {
  const validate = (bodyAjv ??= makeAjv(false)).compile(withSafeIntegers(schema) as object);
  return (data) => {
    if (!validate(data)) {
      throw new AppError('VALIDATION_ERROR', describeValidation({ validation: (validate.errors ?? []) as FastifySchemaValidationError[], validationContext: 'body', message: 'invalid body' }));
    }
  };
}
