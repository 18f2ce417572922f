import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../ml/rng.ts';
import {
  buildEncoder,
  decide,
  defaultProblemConfig,
  encode,
  inWindow,
  loadPolicy,
  normalizeConfig,
  replay,
  rewardOf,
  trainingSet,
  trainPolicy,
  windowClosed,
  type LoggedRow,
} from './decisions.domain.ts';

const row = (over: Partial<LoggedRow>): LoggedRow => ({ userId: 'u', context: {}, action: 0, probability: 0.5, decidedBy: 'policy', decidedAt: new Date('2026-01-01T00:00:00Z'), reward: null, ...over });

describe('configuration', () => {
  test('the default problem: two actions, Thompson sampling clipped to [0.2, 0.8], any context, reward clicks', () => {
    const c = defaultProblemConfig();
    assert.deepEqual(c.actions.map((a) => a.name), ['no_action', 'action']);
    assert.deepEqual(c.policy, { kind: 'thompson' });
    assert.deepEqual(c.clip, { p_min: 0.2, p_max: 0.8 });
    assert.equal(c.context.mode, 'any');
    assert.equal(c.reward.key, 'clicks');
    assert.equal(c.default_action, 'no_action');
  });

  test('clip bounds that cannot hold are refused, naming the product', () => {
    assert.throws(() => normalizeConfig({ actions: ['a', 'b', 'c'], clip: { p_min: 0.34, p_max: 1 } }), /p_min × actions must be <= 1: 0.34 × 3/);
    assert.throws(() => normalizeConfig({ actions: ['a', 'b', 'c', 'd'], clip: { p_min: 0, p_max: 0.2 } }), /p_max × actions must be >= 1/);
    assert.throws(() => normalizeConfig({ actions: ['a', 'b'], clip: { p_min: 0.6, p_max: 0.4 } }), /p_min <= p_max/);
    assert.doesNotThrow(() => normalizeConfig({ actions: ['a', 'b', 'c', 'd'], clip: { p_min: 0.25, p_max: 0.25 } }));
  });

  test('event-log rewards need an event type and a window', () => {
    assert.throws(() => normalizeConfig({ actions: ['a', 'b'], reward: { source: 'event_log', window_minutes: 10 } }), /event_type is required/);
    assert.throws(() => normalizeConfig({ actions: ['a', 'b'], reward: { source: 'event_log', event_type: 'x' } }), /window_minutes is required/);
  });
});

describe('contexts', () => {
  test("'any': the numeric keys seen, standardized; other values are ignored; a missing key encodes as the mean", () => {
    const schema = defaultProblemConfig().context;
    const enc = buildEncoder(schema, [{ t: 10, s: 'x' }, { t: 20 }, { t: 30, u: true }]);
    assert.deepEqual(enc.features.map((f) => f.key), ['t']);
    const x = encode(enc, { t: 30 }, schema);
    assert.equal(x[0], 1);
    assert.ok(Math.abs(x[1] - 10 / Math.sqrt(200 / 3)) < 1e-12);
    assert.deepEqual(Array.from(encode(enc, {}, schema)), [1, 0]);
  });

  test("'schema': numeric as given, categorical one-hot, unknown values take the default", () => {
    const schema = normalizeConfig({ actions: ['a', 'b'], context: { mode: 'schema', numeric: ['hr'], categorical: [{ key: 'day', values: ['we', 'wd'], default: 'wd' }] } }).context;
    const enc = buildEncoder(schema, []);
    assert.deepEqual(Array.from(encode(enc, { hr: 60, day: 'we' }, schema)), [1, 60, 1, 0]);
    assert.deepEqual(Array.from(encode(enc, { day: 'moon' }, schema)), [1, 0, 0, 1]);
  });
});

describe('decide and replay', () => {
  for (const policy of [{ kind: 'thompson' }, { kind: 'linucb' }, { kind: 'epsilon_greedy' }, { kind: 'fixed', probabilities: [0.7, 0.2, 0.1] }]) {
    test(`${policy.kind}: within the clip bounds, and replayed exactly from the logged state`, () => {
      const config = normalizeConfig({ actions: ['a', 'b', 'c'], policy, clip: { p_min: 0.2, p_max: 0.6 }, context: { mode: 'schema', numeric: ['x'] } });
      const enc = buildEncoder(config.context, []);
      const rows = Array.from({ length: 30 }, (_, i) => row({ context: { x: i / 10 }, action: i % 3, reward: i % 3 === 1 ? 1 : 0 }));
      const json = trainPolicy(config.policy, config, trainingSet(rows, config, enc, new Date()));
      const rng = new Rng(42);
      for (let i = 0; i < 20; i++) {
        const x = encode(enc, { x: i / 7 }, config.context);
        const d = decide({ config, policy: () => loadPolicy(json), x, rng, nonDefaultToday: 0 });
        assert.equal(d.decidedBy, 'policy');
        for (const p of d.probabilities) assert.ok(p >= 0.2 - 1e-12 && p <= 0.6 + 1e-12);
        assert.ok(Math.abs(d.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-12);
        const r = replay({ config, json: JSON.parse(JSON.stringify(json)), x, rngState: d.rngState, decidedBy: 'policy' });
        assert.equal(r.action, d.action);
        assert.deepEqual(r.probabilities, d.probabilities);
      }
    });
  }

  test('a spent budget gives the default action with probability 1; a throwing policy gives the fallback with its reason', () => {
    const config = normalizeConfig({ actions: ['rest', 'go'], budget_per_day: 3, fallback: { probabilities: [0.5, 0.5] } });
    const x = new Float64Array([1]);
    const b = decide({ config, policy: () => assert.fail('not asked'), x, rng: new Rng(1), nonDefaultToday: 3 });
    assert.deepEqual([b.action, b.probability, b.decidedBy], [0, 1, 'budget']);
    const f = decide({ config, policy: () => { throw new RangeError('boom'); }, x, rng: new Rng(1), nonDefaultToday: 0 });
    assert.equal(f.decidedBy, 'fallback');
    assert.equal(f.reason, 'policy failed: boom');
    assert.equal(f.probability, 0.5);
    const r = replay({ config, json: { kind: 'Fixed', version: 1, probabilities: [1, 0], actionNames: ['rest', 'go'], clip: { pMin: 0, pMax: 1 } }, x, rngState: f.rngState, decidedBy: 'fallback' });
    assert.equal(r.action, f.action);
  });
});

describe('rewards', () => {
  test('the reward key: numbers, booleans as 1/0, anything else none', () => {
    assert.equal(rewardOf({ clicks: 3 }, 'clicks'), 3);
    assert.equal(rewardOf({ clicks: true }, 'clicks'), 1);
    assert.equal(rewardOf({ clicks: '3' }, 'clicks'), null);
    assert.equal(rewardOf(null, 'clicks'), null);
  });

  test('windows: outcomes inside are learned, closed windows without one get the default reward', () => {
    const config = normalizeConfig({ actions: ['a', 'b'], reward: { window_minutes: 60, default_reward: -1 } });
    const t0 = new Date('2026-01-01T00:00:00Z');
    assert.equal(inWindow(config.reward, t0, new Date('2026-01-01T01:00:00Z')), true);
    assert.equal(inWindow(config.reward, t0, new Date('2026-01-01T01:00:01Z')), false);
    assert.equal(windowClosed(config.reward, t0, new Date('2026-01-01T00:59:59Z')), false);
    const enc = buildEncoder(config.context, []);
    const rows = [row({ reward: 2 }), row({}), row({ decidedAt: new Date('2026-01-01T05:00:00Z') })];
    const ts = trainingSet(rows, config, enc, new Date('2026-01-01T05:30:00Z'));
    assert.deepEqual(Array.from(ts.rewards), [2, -1]);
    assert.equal(ts.nDefault, 1);
  });
});
