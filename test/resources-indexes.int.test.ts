// Every seed 002 list filter is served by an index in the list order: with sequential scans and sorts
// priced out (enable_seqscan/enable_sort off), a plan that still scans the table or sorts means no
// index can serve that filter, which on a large table means reading all of it for one page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../src/platform/db.ts';
import { createTestDatabase } from './helpers/db.ts';

type Explain = (query: string, params: unknown[]) => Promise<string>;

/** A page of a list, as platform/crud.ts asks for it: filters, the time range, the (time, key) order, a limit. */
const LISTS: { table: string; time: string; key: string; filters: string[] }[] = [
  { table: 'users', time: 'created_at', key: 'user_id', filters: [] },
  { table: 'recordings', time: 'created_at', key: 'recording_id', filters: ['user_id', 'recording_type'] },
  { table: 'algos', time: 'created_at', key: 'algo_id', filters: ['recording_type', 'version'] },
  { table: 'sessions', time: 'ts_start', key: 'session_id', filters: ['user_id', 'device_type', 'device_os', 'region', 'app_version'] },
  { table: 'event_log', time: 'ts', key: 'event_id', filters: ['user_id', 'session_id', 'event_type', 'event_source'] },
];

async function withPlans(work: (explain: Explain) => Promise<void>): Promise<void> {
  const testDb = await createTestDatabase();
  const database = await openDatabase({ ...testDb.config, dataDir: '', dbPoolSize: 1 });
  try {
    await database.migrate();
    const client = (database.db as unknown as { $client: any }).$client;
    const settings = 'set local enable_seqscan = off; set local enable_sort = off;';
    const explain: Explain =
      database.kind === 'postgres'
        ? (query, params) =>
            client.begin(async (tx: any) => {
              await tx.unsafe(settings);
              const rows = await tx.unsafe(`explain ${query}`, params);
              return rows.map((r: Record<string, string>) => Object.values(r)[0]).join('\n');
            })
        : (query, params) =>
            client.transaction(async (tx: any) => {
              await tx.exec(settings);
              const res = await tx.query(`explain ${query}`, params);
              return res.rows.map((r: Record<string, string>) => Object.values(r)[0]).join('\n');
            });
    await work(explain);
  } finally {
    await database.close();
    await testDb.drop();
  }
}

test('each list filter, the time range and the plain list read an index in list order: no scan, no sort', () =>
  withPlans(async (explain) => {
    for (const { table, time, key, filters } of LISTS) {
      const order = `order by ${time}, ${key} limit 10`;
      // [name, query, params, the columns the index condition must use]
      const cases: [string, string, unknown[], string[]][] = [
        ['no filter', `select * from ${table} ${order}`, [], []],
        ['time range', `select * from ${table} where ${time} >= $1 and ${time} <= $2 ${order}`, ['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'], [time]],
        ...filters.map((f): [string, string, unknown[], string[]] => [f, `select * from ${table} where ${f} = $1 ${order}`, ['x'], [f]]),
        ...filters.map((f): [string, string, unknown[], string[]] => [
          `${f} and time range`,
          `select * from ${table} where ${f} = $1 and ${time} >= $2 and ${time} <= $3 ${order}`,
          ['x', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'],
          [f, time],
        ]),
      ];
      for (const [name, query, params, used] of cases) {
        const plan = await explain(query, params);
        assert.doesNotMatch(plan, /Seq Scan/, `${table} ${name}: no index serves it\n${plan}`);
        assert.doesNotMatch(plan, /\bSort\b/, `${table} ${name}: the index does not give the list order\n${plan}`);
        // Walking the order index and filtering the rows would read the whole index for a rare value.
        const cond = /Index Cond: (.*)/.exec(plan)?.[1] ?? '';
        for (const column of used) assert.match(cond, new RegExp(`\\b${column}\\b`), `${table} ${name}: the index condition does not use ${column}\n${plan}`);
      }
    }
  }));

test("GET /api/alerts's page reads the alerts in event-time order from an index, for everyone and for one user: no scan, no sort", () =>
  withPlans(async (explain) => {
    const page = (where: string) =>
      `select a.id, e.type, e.amount from alerts a join alert_events e on e.seq = a.event_seq ${where} order by a.event_time, a.event_seq, a.id limit 10`;
    const cases: [string, string, unknown[], string][] = [
      ['everyone', page(''), [], 'alerts_time_idx'],
      ['everyone, a time range', page('where a.event_time >= $1 and a.event_time <= $2'), [1, 2], 'alerts_time_idx'],
      ['one user', page('where a.user_id = $1'), [1], 'alerts_user_time_idx'],
      ['one user, a time range', page('where a.user_id = $1 and a.event_time >= $2 and a.event_time <= $3'), [1, 1, 2], 'alerts_user_time_idx'],
    ];
    for (const [name, query, params, index] of cases) {
      const plan = await explain(query, params);
      assert.doesNotMatch(plan, /Seq Scan/, `${name}: no index serves it\n${plan}`);
      assert.doesNotMatch(plan, /\bSort\b/, `${name}: the index does not give the list order\n${plan}`);
      assert.match(plan, new RegExp(`using ${index} on alerts`), `${name}: not read from ${index}\n${plan}`);
    }
  }));
