// The CRUD repository's batched creates (platform/crud.ts): batches whose rows share a shape go
// through a kept prepared statement, others are built as they come. Either way each row keeps its own
// values, an omitted field its column's default and a null stays SQL NULL, checked in the database.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCrudRepository } from '../src/platform/crud.ts';
import type { Database } from '../src/platform/db.ts';
import { eventLogSpec } from '../src/modules/resources/resources.schemas.ts';
import { openMigratedTestDatabase } from './helpers/db.ts';

let database: Database;
let close = async () => {};

before(async () => ({ database, close } = await openMigratedTestDatabase()));
after(async () => close());

test('concurrent creates of one shape and of mixed shapes: every row as it was sent, nulls SQL NULL, omitted fields their defaults', async () => {
  const repo = createCrudRepository(database.db, eventLogSpec);
  const given = new Date('2020-01-02T03:04:05.678Z');
  const shapes = [
    (i: number) => ({ event_type: `same-${i}`, event_source: 's', event_data: { i, nested: [i, { k: 'v' }] } }),
    (i: number) => ({ event_type: `null-${i}`, event_data: null }),
    (i: number) => ({ event_type: `ts-${i}`, ts: given, log_level: null }),
    (i: number) => ({ event_type: `bare-${i}` }),
  ];
  const started = new Date(Date.now() - 60_000);
  // A burst of each shape alone (kept statements), then one that mixes all four (built as it comes),
  // then the first shape again (statements already kept).
  const bursts = [
    ...shapes.map((shape, s) => Array.from({ length: 30 }, (_, i) => shape(1000 * s + i))),
    Array.from({ length: 40 }, (_, i) => shapes[i % 4](5000 + i)),
    Array.from({ length: 30 }, (_, i) => shapes[0](6000 + i)),
  ];
  const sent: Record<string, unknown>[] = [];
  for (const burst of bursts) {
    const rows = await Promise.all(burst.map((values) => repo.create(values, null)));
    rows.forEach((row, i) => assert.equal(row.event_type, burst[i].event_type, 'each request gets its own row back'));
    sent.push(...burst);
  }
  const stored = await database.query<{ event_type: string; event_source: string | null; log_level: string | null; data_is_sql_null: boolean; event_data: unknown; ts: Date }>(
    'select event_type, event_source, log_level, event_data is null as data_is_sql_null, event_data, ts from event_log',
  );
  assert.equal(stored.length, sent.length);
  const byType = new Map(stored.map((r) => [r.event_type, r]));
  for (const values of sent) {
    const row = byType.get(values.event_type as string);
    assert.ok(row, `${values.event_type} stored`);
    if ('event_data' in values && values.event_data !== null) assert.deepEqual(row.event_data, values.event_data);
    else assert.equal(row.data_is_sql_null, true, `${values.event_type}: event_data is SQL NULL, not JSON null`);
    assert.equal(row.event_source, (values.event_source as string | undefined) ?? null);
    assert.equal(row.log_level, null);
    if (values.ts) assert.equal(new Date(row.ts).getTime(), given.getTime());
    else assert.ok(new Date(row.ts) >= started, `${values.event_type}: ts took its default, now()`);
  }
});
