import { AppError } from './errors.ts';

const HAS_ZONE = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

/** Parses an ISO 8601 date-time; a time without a zone is taken as UTC, never as server-local time. */
export function parseTimestamp(value: string, field: string): Date {
  const d = new Date(HAS_ZONE.test(value) || !value.includes('T') ? value : `${value}Z`);
  if (Number.isNaN(d.getTime())) throw new AppError('VALIDATION_ERROR', `${field} must be an ISO 8601 date-time, got '${value}'`);
  return d;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
