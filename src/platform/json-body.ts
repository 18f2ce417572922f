// The one JSON body parser. Before JSON.parse, a scanner over the raw text refuses what would crash
// the server or be stored as something other than what was sent: nesting deeper than a serializer's
// stack tolerates, numbers a double cannot hold exactly, duplicate keys (JSON.parse keeps the last
// one silently), NUL characters (PostgreSQL text cannot hold them) and unpaired surrogates (not
// Unicode; they would be stored as U+FFFD). The scanner is iterative, so depth costs no stack.
import { AppError, truncate } from './errors.ts';

/** Deepest nesting of arrays and objects a body may have (System.Text.Json's default, too). */
export const JSON_MAX_DEPTH = 64;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a request body as JSON, or throws a 400 AppError that says what is wrong and where.
 * An empty body is no body: clients send the content type on DELETE too.
 */
export function parseJsonBody(raw: Buffer | string, maxDepth = JSON_MAX_DEPTH): unknown {
  let text: string;
  if (typeof raw === 'string') {
    text = raw;
  } else {
    if (raw.length === 0) return undefined;
    try {
      text = fatalUtf8.decode(raw);
    } catch {
      throw new AppError('BAD_REQUEST', 'malformed JSON body: it is not valid UTF-8');
    }
  }
  if (text === '') return undefined;
  const problem = findJsonProblem(text, maxDepth);
  if (problem) throw new AppError('BAD_REQUEST', `JSON body refused: ${problem}`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('BAD_REQUEST', `malformed JSON body: ${(err as Error).message}`);
  }
}

interface Frame {
  isObject: boolean;
  /** Object: the keys seen so far; null for arrays. */
  keys: Set<string> | null;
  /** Object: the current key; array: the current index. */
  key: string;
  index: number;
  expectKey: boolean;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

function pathOf(stack: Frame[]): string {
  let out = '';
  for (const f of stack) {
    if (!f.isObject) out += `[${f.index}]`;
    else if (f.keys && f.keys.size > 0) out += IDENTIFIER.test(f.key) ? (out ? `.${f.key}` : f.key) : `[${JSON.stringify(truncate(f.key, 40))}]`;
  }
  return out ? truncate(out, 100) : 'the top level';
}

/**
 * A number's exact decimal value in one canonical form (digits without leading or trailing zeros
 * and an exponent), so "1.50", "15e-1" and String(1.5) compare equal.
 */
function decimalValue(token: string): string | null {
  const m = NUMBER.exec(token.replace('e+', 'e').replace('E+', 'E'));
  if (!m) return null;
  const [, sign, int, frac = '', exp = '0'] = m;
  let digits = int + frac;
  let e = Number(exp) + int.length;
  let start = 0;
  while (start < digits.length && digits.charCodeAt(start) === 48) start++;
  let end = digits.length;
  while (end > start && digits.charCodeAt(end - 1) === 48) end--;
  digits = digits.slice(start, end);
  e -= start;
  return digits ? `${sign}0.${digits}e${e}` : '0';
}

/** Why a number token would not come back as sent, or null when a double holds it exactly. */
function numberProblem(token: string): string | null {
  // At most 15 characters and no exponent: at most 15 significant digits of a modest magnitude, which a
  // double holds and writes back as the same decimal (DBL_DIG): most numbers skip the exact check.
  if (token.length <= 15 && !token.includes('e') && !token.includes('E')) return null;
  const value = Number(token);
  if (!Number.isFinite(value)) return `is beyond the range of a JSON number here (about ±1.8e308)`;
  const exact = decimalValue(token);
  if (exact !== null && exact !== decimalValue(String(value))) return `cannot be stored exactly (it would become ${String(value)})`;
  return null;
}

/**
 * Scans JSON text and returns a description of the first problem, or null. It does not check the
 * grammar: at anything it does not understand it stops and returns null, leaving JSON.parse to
 * report the syntax error.
 */
export function findJsonProblem(text: string, maxDepth = JSON_MAX_DEPTH): string | null {
  const stack: Frame[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    // whitespace, ':' (a key's value follows)
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x3a) {
      i++;
      continue;
    }
    const top = stack.length ? stack[stack.length - 1] : null;
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) {
        return `it is nested more than ${maxDepth} levels deep (at ${pathOf(stack)})`;
      }
      const isObject = c === 0x7b;
      stack.push({ isObject, keys: isObject ? new Set() : null, key: '', index: 0, expectKey: isObject });
      i++;
      continue;
    }
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
      continue;
    }
    if (c === 0x2c /* , */) {
      if (top) {
        if (top.isObject) top.expectKey = true;
        else top.index++;
      }
      i++;
      continue;
    }
    if (c === 0x22 /* " */) {
      const isKey = top !== null && top.isObject && top.expectKey;
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x22) break;
        if (d === 0x5c /* \ */) {
          escaped = true;
          const e = text.charCodeAt(j + 1);
          if (e !== 0x75 /* u */) {
            j++;
            continue;
          }
          const unit = parseInt(text.slice(j + 2, j + 6), 16);
          if (Number.isNaN(unit)) return null;
          if (unit === 0) return stringProblem(stack, isKey, 'contains a NUL character (\\u0000), which cannot be stored');
          if (unit >= 0xd800 && unit <= 0xdbff) {
            const low = text.slice(j + 6, j + 8) === '\\u' ? parseInt(text.slice(j + 8, j + 12), 16) : NaN;
            if (!(low >= 0xdc00 && low <= 0xdfff)) return stringProblem(stack, isKey, `contains an unpaired surrogate (\\u${unit.toString(16)}), which is not Unicode text`);
            j += 11;
          } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            return stringProblem(stack, isKey, `contains an unpaired surrogate (\\u${unit.toString(16)}), which is not Unicode text`);
          } else {
            j += 5;
          }
        } else if (d >= 0xd800 && d <= 0xdfff) {
          // Only reachable when the caller decoded the body leniently.
          const next = text.charCodeAt(j + 1);
          if (d > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return stringProblem(stack, isKey, 'contains an unpaired surrogate, which is not Unicode text');
          j++;
        }
      }
      if (j >= n) return null;
      if (isKey) {
        let key = text.slice(i + 1, j);
        if (escaped) {
          try {
            key = JSON.parse(text.slice(i, j + 1)) as string;
          } catch {
            return null;
          }
        }
        const keys = top.keys as Set<string>;
        if (keys.has(key)) {
          top.key = key;
          return `the object at ${pathOf(stack.slice(0, -1)) } has the key ${JSON.stringify(truncate(key, 40))} more than once`;
        }
        keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d)) break;
      }
      const token = text.slice(i, j);
      if (decimalValue(token) === null) return null;
      const problem = numberProblem(token);
      if (problem) return `the number ${truncate(token, 40)} at ${pathOf(stack)} ${problem}; send it as a string`;
      i = j;
      continue;
    }
    if (c === 0x74 || c === 0x66 || c === 0x6e) {
      // true, false, null
      while (i < n && text.charCodeAt(i) >= 0x61 && text.charCodeAt(i) <= 0x7a) i++;
      continue;
    }
    return null;
  }
  return null;
}

function stringProblem(stack: Frame[], isKey: boolean, what: string): string {
  return isKey ? `a key in the object at ${pathOf(stack)} ${what}` : `the string at ${pathOf(stack)} ${what}`;
}
