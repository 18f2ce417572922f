// Seed 001 through HTTP: POST /api/events with the four default rules (every worked example of the
// seed notes), money exactness, windows, out-of-order times, bad input, reading back, concurrency for
// one user, and the live SSE stream. Embedded PGlite by default, PostgreSQL with DATABASE_URL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';
import { eventsClient } from './helpers/events.ts';
import { runScenarios, type Scenario } from './helpers/scenarios.ts';
import { createTestDatabase, usingPostgres } from './helpers/db.ts';
import postgres from 'postgres';
import { loadConfig } from '../src/config.ts';
import { openDatabase, type Database, type SqlParam } from '../src/platform/db.ts';
import { createEventsRepository } from '../src/modules/events/events.repository.ts';
import { DEFAULT_RULES, evaluateRules, type EventType, type HistoryEvent } from '../src/modules/events/rules.ts';
import { parseCents } from '../src/platform/money.ts';

let ctx: TestApp;
let user: Record<string, string>;
const { newUser, send } = eventsClient(() => ctx, () => user, 700_000);

before(async () => {
  ctx = await startTestApp();
  user = await authHeaders(ctx, 'service');
});
after(async () => ctx?.close());

type Ev = [EventType, string, number];

/** Sends the events in order and returns each one's codes. */
async function play(events: Ev[], userId?: number): Promise<number[][]> {
  const id = userId ?? (await newUser());
  const out: number[][] = [];
  for (const [type, amount, time] of events) out.push(await send(id, type, amount, time));
  return out;
}

/** What the seed's rules answer for the same events replayed one at a time (the reference model). */
function reference(events: Ev[]): number[][] {
  const rules = DEFAULT_RULES.map((r, i) => ({ ...r, id: i + 1 }));
  const history: HistoryEvent[] = [];
  return events.map(([type, amount, time], seq) => {
    const ev = { seq, type, cents: parseCents(amount)!, time };
    const codes = evaluateRules(history, ev, rules).map((r) => r.code);
    history.push(ev);
    return codes;
  });
}

describe('seed notes worked examples', () => {
  const cases: { name: string; events: Ev[]; expect: number[][] }[] = [
    { name: 'deposits 50, 60, 100 at t=1,2,3: the third answers [300, 123]', events: [['deposit', '50.00', 1], ['deposit', '60.00', 2], ['deposit', '100.00', 3]], expect: [[], [], [300, 123]] },
    { name: 'withdrawals at t=1, t=2, then 150.00 at t=3: [1100, 30]', events: [['withdraw', '10.00', 1], ['withdraw', '20.00', 2], ['withdraw', '150.00', 3]], expect: [[], [], [1100, 30]] },
    { name: 'withdraw, deposit, withdraw, withdraw: no 30', events: [['withdraw', '1.00', 1], ['deposit', '1.00', 2], ['withdraw', '1.00', 3], ['withdraw', '1.00', 4]], expect: [[], [], [], []] },
    { name: '"100.00" gives no 1100, "100.01" alerts', events: [['withdraw', '100.00', 1], ['deposit', '5', 2], ['withdraw', '100.01', 3]], expect: [[], [], [1100]] },
    { name: 'two deposits of 100.00 within 30 s: no 123; 0.01 more alerts', events: [['deposit', '100.00', 1], ['deposit', '100.00', 2], ['deposit', '0.01', 3]], expect: [[], [], [123]] },
    { name: 'the 4th and 5th withdrawals in a row alert 30 again', events: [['withdraw', '1', 1], ['withdraw', '1', 2], ['withdraw', '1', 3], ['withdraw', '1', 4], ['withdraw', '1', 5]], expect: [[], [], [30], [30], [30]] },
    { name: '"100" is accepted as 100.00', events: [['withdraw', '100', 1], ['withdraw', '101', 2]], expect: [[], [1100]] },
    { name: '300 needs strictly increasing: 50, 50, 60 does not alert', events: [['deposit', '50', 1], ['deposit', '50', 2], ['deposit', '60', 3]], expect: [[], [], []] },
    { name: '300 ignores withdrawals between deposits', events: [['deposit', '1', 1], ['withdraw', '1', 2], ['deposit', '2', 3], ['withdraw', '1', 4], ['deposit', '3', 5]], expect: [[], [], [], [], [300]] },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      assert.deepEqual(reference(c.events), c.expect, 'reference model');
      assert.deepEqual(await play(c.events), c.expect);
    });
  }
});

describe('windows, money and time order', () => {
  test('123 window is [t-30, t]: an event at t-30 counts', async () => {
    assert.deepEqual(await play([['deposit', '150.00', 100], ['deposit', '60.00', 130]]), [[], [123]]);
  });
  test('123 window is [t-30, t]: an event at t-31 does not count', async () => {
    assert.deepEqual(await play([['deposit', '150.00', 100], ['deposit', '60.00', 131]]), [[], []]);
  });
  test('money is exact: 100.10 + 99.91 > 200 alerts, 100.10 + 99.90 = 200.00 does not', async () => {
    assert.deepEqual(await play([['deposit', '100.10', 1], ['deposit', '99.91', 2]]), [[], [123]]);
    assert.deepEqual(await play([['deposit', '100.10', 1], ['deposit', '99.90', 2]]), [[], []]);
  });
  test('0.1 + 0.2 style sums: 199.70 + 0.20 + 0.10 = 200.00 exactly, no alert; + 0.01 alerts', async () => {
    const id = await newUser();
    assert.deepEqual(await play([['deposit', '199.70', 1], ['deposit', '0.20', 2], ['deposit', '0.10', 3]], id), [[], [], []]);
    assert.deepEqual(await play([['deposit', '0.01', 4]], id), [[123]]);
  });
  test('a late event with an earlier time is evaluated against the history as of its time', async () => {
    const events: Ev[] = [
      ['withdraw', '1', 10],
      ['withdraw', '1', 11],
      ['deposit', '1', 12],
      // arrives last, at t=5: as of t=5 it is the user's only event, so no run of 3
      ['withdraw', '1', 5],
      // at t=11 (tie with the second withdrawal): as of it, withdrawals at 5, 10, 11, 11 → 30
      ['withdraw', '1', 11],
    ];
    const got = await play(events);
    assert.deepEqual(got, [[], [], [], [], [30]]);
    assert.deepEqual(reference(events), got);
  });
  test('ties in time are broken by arrival order', async () => {
    // deposits all at t=7: 10 then 20 then 30 arrive in that order → strictly increasing → 300
    assert.deepEqual(await play([['deposit', '10', 7], ['deposit', '20', 7], ['deposit', '30', 7]]), [[], [], [300]]);
    // the reverse arrival order at one time is decreasing → no 300
    assert.deepEqual(await play([['deposit', '30', 7], ['deposit', '20', 7], ['deposit', '10', 7]]), [[], [], []]);
  });
  test('a JSON number amount with at most 2 decimals is accepted, user_id as a digit string is echoed as sent', async () => {
    const id = await newUser();
    const res = await ctx.request('POST', '/api/events', { body: { type: 'withdraw', amount: 100.5, user_id: String(id), time: 1 }, headers: user });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { alert: true, alert_codes: [1100], user_id: String(id) });
  });
  test('a random history gives what the reference model gives, event by event', async () => {
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const events: Ev[] = Array.from({ length: 60 }, (_, i) => [
      rnd() < 0.5 ? 'deposit' : 'withdraw',
      (Math.floor(rnd() * 15000) / 100).toFixed(2),
      Math.max(0, i * 4 + Math.floor(rnd() * 12) - 6),
    ]);
    assert.deepEqual(await play(events), reference(events));
  });
});

describe('bad input', () => {
  const scenarios = (): Scenario[] => {
    const base = { type: 'deposit', amount: '10.00', user_id: 1, time: 1 };
    const bad = (name: string, body: unknown, detail: string | RegExp, status = 400): Scenario => ({
      name,
      method: 'POST',
      url: '/api/events',
      headers: user,
      body,
      status,
      detail,
    });
    return [
      bad('type unknown', { ...base, type: 'transfer' }, 'type'),
      bad('type wrong case', { ...base, type: 'Deposit' }, 'type'),
      bad('type missing', { amount: '1', user_id: 1, time: 1 }, "'type'"),
      bad('amount zero', { ...base, amount: '0' }, 'amount'),
      bad('amount 0.00', { ...base, amount: '0.00' }, 'amount'),
      bad('amount negative', { ...base, amount: '-1' }, 'amount'),
      bad('amount 3 decimals', { ...base, amount: '0.001' }, 'amount'),
      bad('amount exponent', { ...base, amount: '1e3' }, 'amount'),
      bad('amount text', { ...base, amount: 'ten' }, 'amount'),
      bad('amount empty', { ...base, amount: '' }, 'amount'),
      bad('amount float artefact', { ...base, amount: 0.1 + 0.2 }, 'amount'),
      bad('amount boolean', { ...base, amount: true }, 'amount'),
      bad('amount null', { ...base, amount: null }, 'amount'),
      bad('amount too large', { ...base, amount: '1000000000000.00' }, 'amount'),
      bad('amount missing', { type: 'deposit', user_id: 1, time: 1 }, "'amount'"),
      bad('user_id zero', { ...base, user_id: 0 }, 'user_id'),
      bad('user_id negative', { ...base, user_id: -3 }, 'user_id'),
      bad('user_id fractional', { ...base, user_id: 1.5 }, 'user_id'),
      bad('user_id non-digit string', { ...base, user_id: 'abc' }, 'user_id'),
      bad('user_id leading zero', { ...base, user_id: '01' }, 'user_id'),
      bad('user_id missing', { type: 'deposit', amount: '1', time: 1 }, "'user_id'"),
      bad('time negative', { ...base, time: -1 }, 'time'),
      bad('time fractional', { ...base, time: 1.5 }, 'time'),
      bad('time as a fractional string', { ...base, time: '1.5' }, 'time'), // "10" is accepted, as seed 001's int() did
      bad('time missing', { type: 'deposit', amount: '1', user_id: 1 }, "'time'"),
      bad('an extra field', { ...base, note: 'x' }, "'note'"),
      bad('not an object', [base], /body/),
      { name: 'malformed JSON', method: 'POST', url: '/api/events', headers: { ...user, 'content-type': 'application/json' }, rawBody: '{"type":', status: 400 },
      bad('unknown user', { ...base, user_id: 999_999_999_999 }, 'user 999999999999 not found', 404),
    ];
  };
  test('each bad field is refused naming it', async (t) => runScenarios(t, () => ctx, scenarios()));
});

describe('reading back', () => {
  test('GET /api/events lists a user\'s events by time with their alert codes; GET /api/alerts the alerts', async () => {
    const id = await newUser();
    await play([['deposit', '50.00', 3], ['deposit', '60.00', 1], ['withdraw', '150.00', 2], ['deposit', '100.00', 4]], id);
    const res = await ctx.request('GET', `/api/events?user_id=${id}&size=100`, { headers: user });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-total-count'), '4');
    assert.deepEqual(res.body.map((e: { time: number; amount: string; type: string; alert_codes: number[]; user_id: number }) => [e.time, e.type, e.amount, e.alert_codes, e.user_id]), [
      [1, 'deposit', '60.00', [], id],
      [2, 'withdraw', '150.00', [1100], id],
      [3, 'deposit', '50.00', [], id],
      // 60 then 50 by time: not increasing, so no 300; 60 + 50 + 100 within 30 s: 123
      [4, 'deposit', '100.00', [123], id],
    ]);
    const ranged = await ctx.request('GET', `/api/events?user_id=${id}&from=2&to=3&page=1&size=1`, { headers: user });
    assert.equal(ranged.headers.get('x-total-count'), '2');
    assert.deepEqual(ranged.body.map((e: { time: number }) => e.time), [2]);

    const alerts = await ctx.request('GET', `/api/alerts?user_id=${id}`, { headers: user });
    assert.equal(alerts.status, 200, alerts.text);
    assert.equal(alerts.headers.get('x-total-count'), '2');
    assert.deepEqual(alerts.body.map((a: { code: number; event: { time: number } }) => [a.code, a.event.time]), [[1100, 2], [123, 4]]);
    for (const a of alerts.body) {
      assert.equal(a.user_id, id);
      assert.equal(a.rule_version, 1);
      assert.equal(typeof a.rule_id, 'number');
      assert.match(a.created_at, /^\d{4}-\d\d-\d\dT/);
    }
    const byCode = await ctx.request('GET', `/api/alerts?user_id=${id}&code=123&from=4&to=4`, { headers: user });
    assert.deepEqual(byCode.body.map((a: { code: number; event: { amount: string } }) => [a.code, a.event.amount]), [[123, '100.00']]);
  });
  test('a list over several users names each row\'s own user_id (the users service maps the internal keys)', async () => {
    const [a, b] = [await newUser(), await newUser()];
    await play([['withdraw', '150.00', 987_000_001]], a);
    await play([['withdraw', '150.00', 987_000_002]], b);
    const range = 'from=987000001&to=987000002';
    const events = await ctx.request('GET', `/api/events?${range}`, { headers: user });
    assert.equal(events.status, 200, events.text);
    assert.deepEqual(events.body.map((e: { user_id: number; time: number }) => [e.user_id, e.time]), [[a, 987_000_001], [b, 987_000_002]]);
    const alerts = await ctx.request('GET', `/api/alerts?${range}&code=1100`, { headers: user });
    assert.deepEqual(alerts.body.map((e: { user_id: number; event: { time: number } }) => [e.user_id, e.event.time]), [[a, 987_000_001], [b, 987_000_002]]);
  });
  test('GET /api/alerts takes Prefer: count=none|planned|estimated and says which count it gave', async () => {
    const id = await newUser();
    await play([['withdraw', '150.00', 1], ['deposit', '5.00', 2], ['withdraw', '160.00', 3], ['deposit', '5.00', 4], ['withdraw', '170.00', 5]], id);
    const url = `/api/alerts?user_id=${id}&size=2`;
    const none = await ctx.request('GET', url, { headers: { ...user, prefer: 'count=none' } });
    assert.equal(none.status, 200, none.text);
    assert.equal(none.headers.get('x-total-count'), null);
    assert.equal(none.headers.get('preference-applied'), 'count=none');
    assert.deepEqual(none.body.map((a: { code: number; event: { time: number } }) => [a.code, a.event.time]), [[1100, 1], [1100, 3]]);
    const estimated = await ctx.request('GET', url, { headers: { ...user, prefer: 'return=minimal, count=estimated' } });
    assert.equal(estimated.headers.get('x-total-count'), '3'); // under 10,000 rows: counted exactly
    assert.equal(estimated.headers.get('preference-applied'), 'count=exact');
    const planned = await ctx.request('GET', url, { headers: { ...user, prefer: 'count=planned' } });
    assert.equal(planned.headers.get('preference-applied'), 'count=planned');
    assert.match(planned.headers.get('x-total-count') ?? '', /^\d+$/);
    const plain = await ctx.request('GET', url, { headers: { ...user, prefer: 'count=bogus' } });
    assert.equal(plain.headers.get('x-total-count'), '3');
    assert.equal(plain.headers.get('preference-applied'), null);
  });
  test('unknown user and bad filters are refused', async () => {
    assert.equal((await ctx.request('GET', '/api/events?user_id=999999999999', { headers: user })).status, 404);
    assert.equal((await ctx.request('GET', '/api/alerts?user_id=999999999999', { headers: user })).status, 404);
    assert.equal((await ctx.request('GET', '/api/events?from=-1', { headers: user })).status, 400);
    assert.equal((await ctx.request('GET', '/api/alerts?colour=red', { headers: user })).status, 400);
  });
});

describe('users', () => {
  test('a user created with POST /users is the user of POST /api/events; one created by auth too', async () => {
    const id = await newUser();
    assert.deepEqual(await send(id, 'withdraw', '101', 1), [1100]);
  });
  test('EVENTS_AUTO_CREATE_USERS creates an unknown user', async () => {
    const auto = await startTestApp({ eventsAutoCreateUsers: true });
    try {
      const h = await authHeaders(auto, 'service');
      const res = await auto.request('POST', '/api/events', { body: { type: 'withdraw', amount: '101', user_id: 987_654_321, time: 1 }, headers: h });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { alert: true, alert_codes: [1100], user_id: 987_654_321 });
      const again = await auto.request('POST', '/api/events', { body: { type: 'withdraw', amount: '1', user_id: 987_654_321, time: 2 }, headers: h });
      assert.equal(again.status, 200);
      assert.equal((await auto.request('GET', '/users/987654321', { headers: h })).status, 200);
    } finally {
      await auto.close();
    }
  });
});

type Query = (text: string, params?: SqlParam[]) => Promise<Record<string, unknown>[]>;

/** A migrated database of its own (not the app's) and a raw query function on it, dropped after. */
async function withOwnDatabase(work: (database: Database, q: Query) => Promise<void>): Promise<void> {
  const testDb = await createTestDatabase();
  const database = await openDatabase({ ...testDb.config, dataDir: '', dbPoolSize: 2 });
  try {
    await database.migrate();
    const q: Query = (text, params = []) => database.query(text, params);
    await work(database, q);
  } finally {
    await database.close();
    await testDb.drop();
  }
}

describe('integrity without foreign keys on alerts', () => {
  test('a user with events cannot be deleted; deleting an event, or truncating the events, deletes their alerts', () =>
    withOwnDatabase(async (_database, q) => {
      const count = async () => Number((await q('select count(*)::int as n from alerts'))[0].n);
      await q("insert into users (user_id) values ('1'), ('2')");
      for (const u of ['1', '2']) for (let t = 1; t <= 3; t++) await q("select events_ingest($1, 'withdraw', 150, $2, false, false)", [u, t]);
      assert.equal(await count(), 2 * (3 + 1)); // 1100 on each, 30 on the third
      await assert.rejects(q("delete from users where user_id = '1'"), /foreign key/, 'financial history keeps its user');
      await q("delete from alert_events where seq in (select seq from alert_events where user_id = (select id from users where user_id = '1'))");
      assert.equal(await count(), 4);
      await q("delete from alert_events where seq = (select max(seq) from alert_events)");
      assert.equal(await count(), 2);
      await q('truncate alert_events');
      assert.equal(await count(), 0);
    }));
});

describe('events_ingest_batch', () => {
  test('one statement: results in input order, null for an unknown user, each user\'s events stored in input order', () =>
    withOwnDatabase(async (database, q) => {
      await q("insert into users (user_id) values ('7'), ('30'), ('200')");
      const repo = createEventsRepository(database);
      // Equal times, users interleaved (the function takes them by user id, '200' < '30' < '7' as text).
      const input = [
        { userId: '30', type: 'withdraw', amount: '150.00', time: 5 },
        { userId: '7', type: 'deposit', amount: '1.00', time: 5 },
        { userId: '999', type: 'deposit', amount: '1.00', time: 5 },
        { userId: '30', type: 'withdraw', amount: '2.00', time: 5 },
        { userId: '200', type: 'deposit', amount: '3.00', time: 5 },
        { userId: '30', type: 'withdraw', amount: '4.00', time: 5 },
        { userId: '7', type: 'deposit', amount: '5.00', time: 5 },
      ];
      const out = await repo.ingestBatch(input, { autoCreate: false, notify: false });
      assert.equal(out.length, input.length);
      assert.equal(out[2], null, 'unknown user');
      input.forEach((e, i) => {
        if (i === 2) return;
        assert.equal(out[i]?.user_id, e.userId);
        assert.equal(out[i]?.amount, e.amount);
      });
      for (const user of ['30', '7']) {
        const seqs = input.flatMap((e, i) => (e.userId === user ? [out[i]!.seq] : []));
        assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `user ${user}: seq follows the input order`);
      }
      // The third withdrawal of user 30 in a row (same time, arrival order) raises 30; the first, 1100.
      assert.deepEqual(out[0]!.alerts.map((a) => a.code), [1100]);
      assert.deepEqual(out[5]!.alerts.map((a) => a.code), [30]);
      assert.equal(Number((await q('select count(*)::int as n from alert_events'))[0].n), 6, 'the unknown user\'s event was not stored');
      const created = await repo.ingestBatch([{ userId: '998', type: 'deposit', amount: '1.00', time: 1 }], { autoCreate: true, notify: false });
      assert.equal(created[0]?.user_id, '998', 'autoCreate stores the event of a new user');
    }));
});

/** Posts every event of every user at once, then checks each user's stored events against a sequential replay. */
async function concurrentReplay(app: TestApp, headers: Record<string, string>, users: number[], perUser: number, seed: number) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const client = eventsClient(() => app, () => headers, 0);
  const sent = users.flatMap((id) =>
    Array.from({ length: perUser }, () => [id, rnd() < 0.5 ? 'deposit' : 'withdraw', (Math.floor(rnd() * 12000) / 100 + 0.01).toFixed(2), Math.floor(rnd() * 40)] as const),
  );
  // Interleave the users' events so batches mix users.
  sent.sort(() => rnd() - 0.5);
  const answers = await Promise.all(sent.map(([id, type, amount, time]) => client.send(id, type, amount, time)));
  for (const id of users) {
    // The arrival order is the order the database assigned (event ids); replay the same events in it.
    const stored = [];
    for (let page = 1; stored.length < perUser; page++) {
      const res = await app.request('GET', `/api/events?user_id=${id}&size=100&page=${page}`, { headers });
      assert.equal(res.status, 200);
      assert.ok(res.body.length > 0, `user ${id}: only ${stored.length} of ${perUser} events stored`);
      stored.push(...res.body);
    }
    stored.sort((a, b) => a.id - b.id);
    const replay = reference(stored.map((e) => [e.type, e.amount, e.time] as Ev));
    assert.deepEqual(stored.map((e) => e.alert_codes), replay, `user ${id}: every stored event raised exactly what a sequential replay raises`);
    const answered = answers.filter((_, i) => sent[i][0] === id).flat();
    assert.deepEqual(answered.sort(), replay.flat().sort(), `user ${id}: the answers raised the replay's alerts`);
    const alerts = await app.request('GET', `/api/alerts?user_id=${id}&size=1`, { headers });
    assert.equal(Number(alerts.headers.get('x-total-count')), answered.length);
  }
}

describe('concurrency', () => {
  test('many concurrent events for one user give what a sequential replay in arrival order gives', async () => {
    await concurrentReplay(ctx, user, [await newUser()], usingPostgres ? 200 : 60, 99);
  });

  test('concurrent events of many users, batched over several lanes, give each user its sequential replay', async () => {
    // Lanes only run side by side on PostgreSQL; embedded runs the same test on its single lane.
    const laned = await startTestApp({ eventsIngestLanes: 3 });
    try {
      const headers = await authHeaders(laned, 'service');
      const client = eventsClient(() => laned, () => headers, 800_000);
      const users = [];
      for (let i = 0; i < 8; i++) users.push(await client.newUser());
      await concurrentReplay(laned, headers, users, usingPostgres ? 40 : 15, 7);
    } finally {
      await laned.close();
    }
  });

  test('a user row held by another transaction past lock_timeout: that event answers 503, the next batch goes on', { skip: !usingPostgres && 'PostgreSQL only (PGlite is one connection)' }, async () => {
    const [held, free] = [await newUser(), await newUser()];
    const sql = postgres(ctx.config.databaseUrl as string, { max: 1, onnotice: () => {} });
    try {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const hold = sql.begin(async (tx) => {
        await tx`select 1 from users where user_id = ${String(held)} for update`;
        locked();
        await released;
      });
      await isLocked;
      const post = (userId: number) => ctx.request('POST', '/api/events', { body: { type: 'deposit', amount: '1.00', user_id: userId, time: 1 }, headers: user });
      const blocked = post(held);
      await new Promise((r) => setTimeout(r, 100));
      const other = post(free); // queued behind the blocked batch on the one lane
      const [a, b] = await Promise.all([blocked, other]);
      release();
      await hold;
      assert.equal(a.status, 503, a.text);
      assert.match(a.body.detail, new RegExp(`user ${held} is locked by another transaction`));
      assert.equal(a.headers.get('retry-after'), '1');
      assert.equal(b.status, 200, b.text);
      assert.equal((await ctx.request('GET', `/api/events?user_id=${held}`, { headers: user })).body.length, 0, 'the refused event was not stored');
    } finally {
      await sql.end();
    }
  });

  test('EVENTS_INGEST_LANES above DB_POOL_SIZE is refused at start', () => {
    assert.throws(() => loadConfig({ EVENTS_INGEST_LANES: '11', DB_POOL_SIZE: '10' }), /EVENTS_INGEST_LANES \(11\) must be at most DB_POOL_SIZE \(10\)/);
    assert.throws(() => loadConfig({ EVENTS_INGEST_LANES: '0' }), /EVENTS_INGEST_LANES/);
  });
});

describe('live alerts (SSE)', () => {
  test('GET /api/alerts/stream pushes each alert as it is raised, filtered by user_id', async () => {
    const id = await newUser();
    const other = await newUser();
    const ac = new AbortController();
    const res = await fetch(`${ctx.url}/api/alerts/stream?user_id=${id}`, { headers: user, signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    const readUntil = async (pred: (b: string) => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!pred(buf)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${buf}`);
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended; got ${buf}`);
        buf += value;
      }
    };
    await readUntil((b) => b.includes(': connected'));
    await send(other, 'withdraw', '500', 1);
    await send(id, 'withdraw', '150', 1);
    await readUntil((b) => b.includes('event: alert'));
    const data = buf.split('\n').find((l) => l.startsWith('data: '))!;
    const alert = JSON.parse(data.slice(6));
    assert.equal(alert.user_id, id);
    assert.equal(alert.code, 1100);
    assert.deepEqual({ ...alert.event, id: 0 }, { id: 0, type: 'withdraw', amount: '150.00', time: 1 });
    ac.abort();
  });
});

describe('shutdown', () => {
  test('an open alert stream does not keep the app from closing', async () => {
    const other = await startTestApp();
    const h = await authHeaders(other, 'service');
    const res = await fetch(`${other.url}/api/alerts/stream`, { headers: h });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read();
    const started = Date.now();
    await other.close();
    assert.ok(Date.now() - started < 5000, 'closed promptly');
    let done = false;
    while (!done) done = (await reader.read()).done;
  });
});
