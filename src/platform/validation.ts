// Request validation: bodies are checked strictly (a string is not a number), while the query
// string, path and headers are coerced from text. Unknown fields are refused, never stripped.
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fastJsonStringify from 'fast-json-stringify';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
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

/**
 * A copy of a schema in which every integer is bounded to the safe integers: a coerced path or
 * query value such as 12345678901234567891 would otherwise become the nearest double and find
 * another row, and a larger one would reach the database as an out-of-range value.
 */
function withSafeIntegers(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withSafeIntegers);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'const' || k === 'default' || k === 'examples' || k === 'enum' ? v : withSafeIntegers(v);
  const type = out.type;
  if (type === 'integer' || (Array.isArray(type) && type.includes('integer'))) {
    if (typeof out.maximum !== 'number' || out.maximum > Number.MAX_SAFE_INTEGER) out.maximum = Number.MAX_SAFE_INTEGER;
    if (typeof out.minimum !== 'number' || out.minimum < -Number.MAX_SAFE_INTEGER) out.minimum = -Number.MAX_SAFE_INTEGER;
  }
  return out;
}

/**
 * Validators are compiled on a route's first request, not at start-up: compiling every route's schemas
 * (ajv generates and V8 compiles a function per schema) took about a second of a 5 s start and
 * briefly doubled the RSS. Fastify reads a validator's `errors` after it returns false, so the wrapper
 * passes them on.
 */
export function registerValidation(app: FastifyInstance, opts: { bodies?: boolean } = {}): void {
  // Made with the first validator that needs them (a context may never need one of the two).
  let strict: Ajv.default | undefined;
  let coercing: Ajv.default | undefined;
  app.setValidatorCompiler(({ schema, httpPart }) => {
    // `bodies: false`: a context whose routes take raw bytes and check them where they parse them
    // (bodyChecker); the schema stays on the route for the OpenAPI document.
    if (httpPart === 'body' && opts.bodies === false) return () => true;
    let compiled: ValidateFunction | undefined;
    const validate = (data: unknown): boolean => {
      compiled ??= (httpPart === 'body' ? (strict ??= makeAjv(false)) : (coercing ??= makeAjv('array'))).compile(withSafeIntegers(schema) as object);
      const ok = compiled(data) as boolean;
      validate.errors = compiled.errors;
      return ok;
    };
    validate.errors = null as ValidateFunction['errors'];
    return validate;
  });
}

/**
 * Response serializers are compiled on a route's first answer with each status, as the validators
 * are: compiling every route's response schemas with fast-json-stringify (as Fastify does when the
 * routes are registered) took about 0.3 s of each start, in the start-up profile of issue 11. The
 * schemas are the routes' own (no shared schemas), so this is fast-json-stringify as Fastify calls it.
 */
export function registerSerialization(app: FastifyInstance): void {
  app.setSerializerCompiler(({ schema }) => {
    let compiled: ((data: unknown) => string) | undefined;
    return (data: unknown) => (compiled ??= fastJsonStringify(schema as object))(data);
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
