import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../platform/errors.ts';
import { convertPrice, defaultStoreName, invalidCurrency, normalizeCurrency, normalizeRate, parsePrice, parseQuantity, parseRatesFile } from './commerce.domain.ts';

describe('commerce domain', () => {
  test('the sign-up store is named after the email local part', () => {
    assert.equal(defaultStoreName('jane.doe@example.com'), 'jane.doe Store');
    assert.equal(defaultStoreName(' Bob@x.io '), 'Bob Store');
    assert.ok(defaultStoreName(`${'a'.repeat(400)}@x.io`).length <= 255);
  });

  test('prices: decimal strings or numbers ≥ 0, two decimals at most, canonical form', () => {
    for (const [input, out] of [['10', '10.00'], ['10.5', '10.50'], [10.5, '10.50'], [0, '0.00'], ['0.01', '0.01'], ['999999999999.99', '999999999999.99']] as const) {
      assert.equal(parsePrice(input), out);
    }
    for (const bad of ['-1', '1.234', '1e3', 'abc', '', ' 1', 0.1 + 0.2, -0, Number.NaN, Infinity, true, null, {}, [], '1000000000000.00']) {
      if (bad === -0) continue; // -0 prints as "0": a valid zero
      assert.throws(() => parsePrice(bad), (e: unknown) => e instanceof AppError && e.code === 'VALIDATION_ERROR' && e.message.startsWith('price must be'), String(bad));
    }
    assert.throws(() => parsePrice('x', 'min_price'), /^AppError: min_price must be/);
  });

  test('quantities: integers 0..2147483647, digits strings accepted', () => {
    assert.equal(parseQuantity(0), 0);
    assert.equal(parseQuantity('42'), 42);
    assert.equal(parseQuantity(2_147_483_647), 2_147_483_647);
    for (const bad of [-1, 1.5, 2_147_483_648, '1.0', '-1', 'x', null, true]) assert.throws(() => parseQuantity(bad), /quantity must be an integer/);
  });

  test('currency codes', () => {
    assert.equal(normalizeCurrency(' eur '), 'EUR');
    for (const bad of ['EURO', 'E1R', '', '€']) assert.equal(normalizeCurrency(bad), null);
    assert.equal(invalidCurrency(['USD', 'EUR']).message, 'Invalid currency. Supported currencies are EUR, USD');
    assert.equal(invalidCurrency(['USD']).status, 400);
  });

  test('rates from a provider: positive decimals, at most 15 places', () => {
    assert.equal(normalizeRate(0.85), '0.85');
    assert.equal(normalizeRate('0.88'), '0.88');
    assert.equal(normalizeRate(1e-7), '0.0000001');
    assert.equal(normalizeRate(0.12345678901234567), '0.123456789012346');
    assert.equal(normalizeRate(15234.5), '15234.5');
    for (const bad of [0, -1, 'x', null, Infinity, 1e16, {}, 1e-16]) assert.equal(normalizeRate(bad), null, String(bad));
  });

  test('conversion: price × rate rounded half up to cents in decimal arithmetic', () => {
    assert.equal(convertPrice('10.00', '0.85'), '8.50');
    assert.equal(convertPrice('10.00', '0.88'), '8.80');
    assert.equal(convertPrice('19.99', '0.85'), '16.99'); // 16.9915
    assert.equal(convertPrice('0.01', '0.5'), '0.01'); // 0.005 → 0.01
    assert.equal(convertPrice('0.01', '0.49'), '0.00');
    assert.equal(convertPrice('1.15', '100'), '115.00'); // a float would give 114.99999999999999
    assert.equal(convertPrice('999999999999.99', '151.234567'), '151234566999998.49');
  });

  test('the rates file', () => {
    assert.deepEqual(parseRatesFile({ eur: 0.85, GBP: '0.79' }), { EUR: '0.85', GBP: '0.79', USD: '1' });
    assert.deepEqual(parseRatesFile({ data: { EUR: 0.85 } }), { EUR: '0.85', USD: '1' });
    assert.throws(() => parseRatesFile([1]), /JSON object/);
    assert.throws(() => parseRatesFile({ EURO: 1 }), /not a currency code/);
    assert.throws(() => parseRatesFile({ EUR: -1 }), /rate for EUR/);
  });
});
