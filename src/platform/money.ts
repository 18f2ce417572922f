// Money, for every module: amounts travel as decimal strings ("42.00"), are stored as SQL numeric,
// and are computed in integer cents (sums, comparisons) or, when multiplied by a rate, with decimal.js.
// Never a float.
import { Decimal } from 'decimal.js';

const DECIMAL = /^(\d{1,12})(?:\.(\d{1,2}))?$/;

/**
 * Parses a non-negative decimal amount with at most 2 decimals and 12 integer digits into integer
 * cents. A JSON number is accepted when its shortest decimal form is such an amount (42.5 yes;
 * 0.1 + 0.2 = 0.30000000000000004 no). Returns null when the value is not one.
 */
export function parseCents(value: unknown): bigint | null {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else return null;
  const m = DECIMAL.exec(text);
  if (!m) return null;
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
}

/** Integer cents as the canonical "1234.50" string (what numeric(14,2) prints). */
export function formatCents(cents: bigint): string {
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  const s = `${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
  return neg ? `-${s}` : s;
}

const RATE = /^\d{1,15}(?:\.\d{1,15})?$/;
// Enough significant digits that no product of a 14-digit amount and a 30-digit rate is rounded
// before the one rounding to cents below.
const Exact = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_UP });

/**
 * An amount multiplied by a rate (a currency conversion), exact until one final rounding to cents,
 * half away from zero (0.005 → 0.01), the rounding shops show. The rate is a positive decimal
 * string (or a number whose shortest decimal form is one). Throws RangeError for a bad rate.
 */
export function convertCents(cents: bigint, rate: string | number): bigint {
  const text = typeof rate === 'number' && Number.isFinite(rate) ? String(rate) : rate;
  if (typeof text !== 'string' || !RATE.test(text) || new Exact(text).isZero()) {
    throw new RangeError(`rate must be a positive decimal with at most 15 digits before and after the point, got ${JSON.stringify(rate)}`);
  }
  const product = new Exact(cents.toString()).times(text).toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
  return BigInt(product.toFixed(0));
}
