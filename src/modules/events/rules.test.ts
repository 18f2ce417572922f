import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatCents, parseCents } from '../../platform/money.ts';
import { DEFAULT_RULES, evaluateRules, validateRule, type EventType, type HistoryEvent } from './rules.ts';

const rules = DEFAULT_RULES.map((r, i) => ({ ...r, id: i + 1 }));
function replay(events: [EventType, string, number][]): number[][] {
  const history: HistoryEvent[] = [];
  return events.map(([type, amount, time], seq) => {
    const ev = { seq, type, cents: parseCents(amount)!, time };
    const out = evaluateRules(history, ev, rules).map((r) => r.code);
    history.push(ev);
    return out;
  });
}

describe('money', () => {
  test('parses decimals with at most 2 places into cents, refuses the rest', () => {
    assert.equal(parseCents('100'), 10000n);
    assert.equal(parseCents('100.5'), 10050n);
    assert.equal(parseCents('0.01'), 1n);
    assert.equal(parseCents(42.25), 4225n);
    for (const bad of ['1e3', '-1', '0.001', '', ' 1', '1.', '.5', 0.1 + 0.2, Number.NaN, true, null]) assert.equal(parseCents(bad), null, String(bad));
    assert.equal(formatCents(12345n), '123.45');
    assert.equal(formatCents(5n), '0.05');
  });
});

describe('validateRule', () => {
  test('fills defaults and canonicalizes amounts', () => {
    assert.deepEqual(validateRule({ code: 1, kind: 'threshold', event_type: 'deposit', params: { op: '>', amount: 5 } }), {
      code: 1, name: '', kind: 'threshold', event_type: 'deposit', enabled: true, priority: 100, params: { op: '>', amount: '5.00' },
    });
    assert.deepEqual(validateRule({ code: 2, kind: 'consecutive', event_type: 'withdraw', params: { count: 3 } }).params, { count: 3, ignore_other_types: false, strictly_increasing: false });
  });
  test('refuses what cannot be evaluated with UNPROCESSABLE naming the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ code: 1, kind: 'nope', event_type: 'deposit', params: {} }, /kind/],
      [{ code: 1, kind: 'consecutive', event_type: 'deposit', params: { count: 0 } }, /params\.count/],
      [{ code: 1, kind: 'window_sum', event_type: 'deposit', params: { window_seconds: -1, op: '>', amount: '1' } }, /params\.window_seconds/],
      [{ code: 1, kind: 'window_count', event_type: 'deposit', params: { window_seconds: 1, op: '!=', count: 1 } }, /params\.op/],
      [{ code: -1, kind: 'threshold', event_type: 'deposit', params: { op: '>', amount: '1' } }, /code/],
    ];
    for (const [input, re] of cases) assert.throws(() => validateRule(input), (e: { code?: string; message: string }) => e.code === 'UNPROCESSABLE' && re.test(e.message));
  });
});

describe('evaluateRules (reference semantics)', () => {
  test('seed notes examples', () => {
    assert.deepEqual(replay([['deposit', '50.00', 1], ['deposit', '60.00', 2], ['deposit', '100.00', 3]]), [[], [], [300, 123]]);
    assert.deepEqual(replay([['withdraw', '1', 1], ['withdraw', '1', 2], ['withdraw', '150.00', 3]]), [[], [], [1100, 30]]);
    assert.deepEqual(replay([['withdraw', '1', 1], ['deposit', '1', 2], ['withdraw', '1', 3], ['withdraw', '1', 4]]), [[], [], [], []]);
    assert.deepEqual(replay([['deposit', '100.00', 1], ['deposit', '100.00', 2], ['deposit', '0.01', 3]]), [[], [], [123]]);
  });
  test('window edges: t-30 counts, t-31 does not', () => {
    assert.deepEqual(replay([['deposit', '150', 100], ['deposit', '60', 130]]), [[], [123]]);
    assert.deepEqual(replay([['deposit', '150', 100], ['deposit', '60', 131]]), [[], []]);
  });
  test('a disabled rule or another event type does not run', () => {
    const off = rules.map((r) => (r.code === 1100 ? { ...r, enabled: false } : r));
    assert.deepEqual(evaluateRules([], { seq: 0, type: 'withdraw', cents: 50000n, time: 0 }, off), []);
  });
});
