// The recommendations configuration: the build's cron schedule joins JOB_SCHEDULES, and bad values stop the start.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

test('recommendations.train runs every minute by default; RECOMMENDATIONS_TRAIN_CRON changes or disables it; JOB_SCHEDULES wins', () => {
  assert.deepEqual(loadConfig({}).jobs.schedules, [{ queue: 'recommendations.train', cron: '* * * * *' }]);
  assert.deepEqual(loadConfig({ RECOMMENDATIONS_TRAIN_CRON: '*/5 * * * *' }).jobs.schedules, [{ queue: 'recommendations.train', cron: '*/5 * * * *' }]);
  assert.deepEqual(loadConfig({ RECOMMENDATIONS_TRAIN_CRON: 'off' }).jobs.schedules, []);
  assert.deepEqual(loadConfig({ JOB_SCHEDULES: 'recommendations.train=0 3 * * *' }).jobs.schedules, [{ queue: 'recommendations.train', cron: '0 3 * * *' }]);
});

test('the defaults are the seed\'s (5 clusters, 6 neighbours) and bad values are refused with the key named', () => {
  const c = loadConfig({});
  assert.deepEqual([c.recommendationsClusters, c.recommendationsNeighbors, c.recommendationsBandit, c.recommendationsEpsilon], [5, 6, 'egreedy', 0.1]);
  for (const [key, value] of [
    ['RECOMMENDATIONS_TRAIN_CRON', 'hourly'],
    ['RECOMMENDATIONS_CLUSTERS', '0'],
    ['RECOMMENDATIONS_NEIGHBORS', '1'],
    ['RECOMMENDATIONS_BANDIT', 'greedy'],
    ['RECOMMENDATIONS_EPSILON_PCT', '101'],
    ['MODULES', 'recommendation'],
  ]) {
    assert.throws(() => loadConfig({ [key]: value }), (e: unknown) => e instanceof ConfigError && e.message.includes(key), key);
  }
  assert.deepEqual(loadConfig({ MODULES: 'recommendations' }).modules, ['recommendations']);
});
