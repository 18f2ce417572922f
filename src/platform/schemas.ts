import { Type } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    detail: Type.String({ description: 'what went wrong, naming the field or resource' }),
    message: Type.String({ description: 'the same text as detail (the Flask originals\' clients read message)' }),
    code: Type.String({ description: 'stable machine-readable error code, e.g. NOT_FOUND' }),
    requestId: Type.String({ description: 'the request id, also in the x-request-id header' }),
  },
  { title: 'Error' },
);

/** A string column that may be null. */
export const NullableString = (opts: { maxLength?: number; description?: string } = {}) =>
  Type.Union([Type.String({ maxLength: opts.maxLength ?? 4096 }), Type.Null()], { description: opts.description });

/** Any JSON value, stored and returned exactly. */
export const JsonValue = (description?: string) => Type.Unknown({ description });

/** An ISO 8601 date-time input; without a zone it is UTC. */
export const DateTimeIn = (description?: string) =>
  Type.Union([Type.String({ format: 'iso-date-time' }), Type.Null()], { description });

/** A timestamp in an answer: handlers may return a Date (serialized as ISO 8601) or an ISO string. */
export const DateTimeOut = (description?: string) => Type.Unsafe<Date | string>({ type: 'string', format: 'date-time', ...(description ? { description } : {}) });
