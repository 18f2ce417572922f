import { AppError, truncate } from './errors.ts';

// date, separator (T, t or a space, as the iso-date-time format allows), time, optional zone.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
// PostgreSQL's timestamps reach 294276 AD, but only years 100..9999 come back as they were sent:
// JavaScript writes year 10000 as "+010000", which PostgreSQL refuses; year 0 does not exist in
// PostgreSQL; and both drivers read "0001-03-04 05:06:07+00" back through Date's legacy parser,
// which takes years below 100 as 19xx or 20xx (checked on PGlite and postgres.js).
export const MIN_YEAR = 100;
export const MAX_YEAR = 9999;
const MIN_MS = utc(MIN_YEAR, 1, 1);
const MAX_MS = utc(MAX_YEAR, 12, 31) + 86_400_000 - 1;

/** Date.UTC without its mapping of years 0..99 to 1900..1999. */
function utc(year: number, month: number, day: number): number {
  return new Date(0).setUTCFullYear(year, month - 1, day);
}

/**
 * Parses an ISO 8601 date-time. A time without a zone is taken as UTC, never as server-local time
 * (JavaScript's Date reads "2024-01-01 10:00" in the local zone), and the instant, zone applied,
 * must fall in the years MIN_YEAR to MAX_YEAR.
 */
export function parseTimestamp(value: string, field: string): Date {
  const bad = (why: string) => new AppError('VALIDATION_ERROR', `${field} ${why}, got '${truncate(value)}'`);
  const m = ISO.exec(value);
  if (!m) throw bad('must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z');
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const z = zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.length === 3 ? `${zone}:00` : zone;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${z}`);
  if (Number.isNaN(ms)) throw bad('is not a valid date-time');
  // Date.parse takes February 30th as March 2nd: the day must exist in its month.
  if (new Date(utc(Number(y), Number(mo), Number(d))).getUTCDate() !== Number(d)) throw bad('is not a valid date-time');
  if (ms < MIN_MS || ms > MAX_MS) throw bad(`is out of range: years ${MIN_YEAR} to ${MAX_YEAR} (in UTC, after its zone offset) are accepted`);
  return new Date(ms);
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
