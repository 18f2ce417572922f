// Pure rules of seed 004's shop: prices, quantities, store names, currency codes and conversion.
// No I/O: the service and the currency client call these, and commerce.domain.test.ts checks them.
import { Decimal } from 'decimal.js';
import { AppError, truncate } from '../../platform/errors.ts';
import { convertCents, formatCents, parseCents } from '../../platform/money.ts';

/** The currency prices are stored in; a conversion rate is "1 USD = rate XXX". */
export const BASE_CURRENCY = 'USD';
export const MAX_QUANTITY = 2_147_483_647;
export const STORE_NAME_MAX = 255;

/** The store every non-admin account gets: "<email local part> Store" (seed 004). */
export function defaultStoreName(email: string): string {
  const local = email.trim().split('@')[0] || email.trim();
  return `${local.slice(0, STORE_NAME_MAX - 6)} Store`;
}

/**
 * A price as sent (a decimal string or a JSON number, ≥ 0, at most 2 decimals and 12 integer
 * digits) into its canonical "10.00" form; 400 naming the field otherwise.
 */
export function parsePrice(value: unknown, field = 'price'): string {
  const cents = parseCents(value);
  if (cents === null) {
    const shown = typeof value === 'string' ? `'${truncate(value)}'` : truncate(JSON.stringify(value) ?? String(value));
    throw new AppError('VALIDATION_ERROR', `${field} must be a decimal number ≥ 0 with at most 2 decimals and 12 digits before the point (e.g. "10.00"), got ${shown}`);
  }
  return formatCents(cents);
}

/** A quantity: an integer from 0 to 2147483647 (a JSON number or a string of digits). */
export function parseQuantity(value: unknown, field = 'quantity'): number {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_QUANTITY) {
    throw new AppError('VALIDATION_ERROR', `${field} must be an integer from 0 to ${MAX_QUANTITY}, got ${truncate(JSON.stringify(value) ?? String(value))}`);
  }
  return n;
}

/** A currency code as the client wrote it ("eur", " EUR ") in its canonical form, or null when it cannot be one. */
export function normalizeCurrency(raw: string): string | null {
  const code = raw.trim().toUpperCase();
  return /^[A-Z]{3}$/.test(code) ? code : null;
}

/** Seed 004's answer to an unknown currency (400). */
export function invalidCurrency(supported: readonly string[]): AppError {
  return new AppError('VALIDATION_ERROR', `Invalid currency. Supported currencies are ${[...supported].sort().join(', ')}`);
}

/**
 * A rate as a provider or a rates file gives it (a JSON number such as 0.9234501234 or 1e-7, or a
 * decimal string) as a positive decimal string with at most 15 decimals (rounded half up), or null.
 */
export function normalizeRate(value: unknown): string | null {
  if (typeof value !== 'number' && typeof value !== 'string') return null;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  let d: Decimal;
  try {
    d = new Decimal(typeof value === 'string' ? value.trim() : value);
  } catch {
    return null;
  }
  if (!d.isFinite() || d.lte(0) || d.gte('1e15')) return null;
  const rounded = d.toDecimalPlaces(15, Decimal.ROUND_HALF_UP);
  return rounded.isZero() ? null : rounded.toFixed();
}

/** price × rate rounded to cents, half away from zero, in decimal arithmetic: "10.00" × 0.85 = "8.50". */
export function convertPrice(price: string, rate: string): string {
  const cents = parseCents(price);
  if (cents === null) throw new RangeError(`price must be a decimal amount, got ${JSON.stringify(price)}`);
  return formatCents(convertCents(cents, rate));
}

/**
 * CURRENCY_RATES_FILE's content: `{"EUR": 0.85, "GBP": "0.79"}` or the provider's own answer
 * `{"data": {"EUR": 0.85}}`; USD per unit of each code. Throws a message naming the bad entry.
 */
export function parseRatesFile(json: unknown): Record<string, string> {
  const obj = json && typeof json === 'object' && !Array.isArray(json) && 'data' in json ? (json as { data: unknown }).data : json;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('the rates file must be a JSON object such as {"EUR": 0.85}');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    const code = normalizeCurrency(k);
    const rate = normalizeRate(v);
    if (!code) throw new Error(`the rates file has a key that is not a currency code: ${JSON.stringify(k)}`);
    if (!rate) throw new Error(`the rates file's rate for ${code} is not a positive decimal: ${JSON.stringify(v)}`);
    out[code] = rate;
  }
  out[BASE_CURRENCY] = '1';
  return out;
}
