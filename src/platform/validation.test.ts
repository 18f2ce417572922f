// Route validators and serializers are compiled after start-up: ahead of their first request once the
// server listens (one per turn of the event loop), or by that request if it comes first; never twice.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { registerSerialization, registerValidation, unionsAsTypeLists } from './validation.ts';

/** An app with one route of three schemas (query, body, 201 answer), its debug log kept as objects. */
function appWithLog() {
  const lines: { msg?: string; count?: number }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const app = Fastify({ logger: { level: 'debug', stream } });
  registerValidation(app);
  registerSerialization(app);
  app.post(
    '/things',
    {
      schema: {
        querystring: { type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false },
        body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } }, additionalProperties: false },
        response: { 201: { type: 'object', properties: { name: { type: 'string' }, n: { type: 'integer' } } } },
      },
    },
    async (req, reply) => {
      reply.status(201);
      return { ...(req.body as object), n: (req.query as { n?: number }).n, secret: 'not in the schema' };
    },
  );
  const compiledAhead = async (): Promise<number> => {
    for (let i = 0; i < 500; i++) {
      const line = lines.find((l) => l.msg === 'route schemas compiled ahead');
      if (line) return line.count!;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('the server never finished compiling ahead');
  };
  return { app, compiledAhead };
}

const post = (app: ReturnType<typeof Fastify>, payload: unknown, url = '/things?n=7') => app.inject({ method: 'POST', url, payload });

test('once the server listens, every schema of every route is compiled ahead of its first request', async (t) => {
  const { app, compiledAhead } = appWithLog();
  t.after(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  assert.equal(await compiledAhead(), 3);
  // The compiled code is the code the route runs.
  const ok = await post(app, { name: 'a' });
  assert.equal(ok.statusCode, 201);
  assert.deepEqual(ok.json(), { name: 'a', n: 7 });
  assert.equal((await post(app, { name: 1 })).statusCode, 400);
  assert.equal((await post(app, { name: 'a' }, '/things?n=x')).statusCode, 400);
});

test('a route whose request came first compiles on that request and is not compiled again', async (t) => {
  const { app, compiledAhead } = appWithLog();
  t.after(() => app.close());
  assert.equal((await post(app, { name: 'b' })).statusCode, 201);
  await app.listen({ port: 0, host: '127.0.0.1' });
  assert.equal(await compiledAhead(), 0);
});

// Unions in response schemas are written as type lists where a type list says the same, so that
// fast-json-stringify writes them after a typeof check instead of running Ajv on each value.
const Row = Type.Object({ id: Type.Integer(), at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]) });
const Answer = Type.Object({
  name: Type.Union([Type.String({ maxLength: 10 }), Type.Null()], { description: 'nullable' }),
  score: Type.Union([Type.Null(), Type.Number({ minimum: 0 })]),
  state: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  examples: Type.Array(Type.Object({ user: Type.Union([Type.Integer(), Type.String()]) })),
  rows: Type.Union([Row, Type.Array(Row)]),
  parent: Type.Union([Type.Object({ id: Type.Integer() }), Type.Null()]),
  either: Type.Union([Type.Integer(), Type.Number()]),
  two: Type.Union([Type.Object({ a: Type.Integer() }), Type.Object({ b: Type.String() })]),
});

test('a union that a type list can say becomes one; one that it cannot stays an anyOf', () => {
  const out = unionsAsTypeLists(Answer) as { properties: Record<string, Record<string, unknown>> };
  const p = out.properties;
  assert.deepEqual(p.name, { type: ['string', 'null'], maxLength: 10, description: 'nullable' });
  assert.deepEqual(p.score, { type: ['null', 'number'], minimum: 0 });
  assert.deepEqual(p.state, { type: 'string', enum: ['up', 'down'] });
  // A property named like a keyword ("examples") is still a schema.
  assert.deepEqual((p.examples.items as { properties: Record<string, unknown> }).properties.user, { type: ['integer', 'string'] });
  assert.deepEqual(p.rows.type, ['object', 'array']);
  assert.equal(JSON.stringify(p.rows).includes('anyOf'), false);
  assert.deepEqual(p.parent.type, ['object', 'null']);
  // Overlapping types, and two branches of one type, keep their anyOf.
  assert.ok(Array.isArray(p.either.anyOf));
  assert.ok(Array.isArray(p.two.anyOf));
  // The route's own schema is not changed (the OpenAPI document shows it as written).
  assert.ok(Array.isArray((Answer.properties.name as { anyOf?: unknown }).anyOf));
});

test('a response with unions is written as before: values, nulls, dates, a row or a list of rows', async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  registerSerialization(app);
  let answer: unknown;
  app.get('/a', { schema: { response: { 200: Answer } } }, async () => answer);
  const at = new Date('2026-12-03T10:00:00.000Z');
  const base = { examples: [{ user: 7 }, { user: 'u-7' }], either: 1.5, two: { b: 'x' } };
  answer = { ...base, name: 'n', score: 0.5, state: 'up', rows: { id: 1, at }, parent: { id: 2, secret: 's' } };
  let res = await app.inject('/a');
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { ...base, name: 'n', score: 0.5, state: 'up', rows: { id: 1, at: at.toISOString() }, parent: { id: 2 } });
  answer = { ...base, name: null, score: null, state: 'down', rows: [{ id: 1, at: null }, { id: 2, at }], parent: null };
  res = await app.inject('/a');
  assert.deepEqual(res.json(), { ...base, name: null, score: null, state: 'down', rows: [{ id: 1, at: null }, { id: 2, at: at.toISOString() }], parent: null });
  // A value of the wrong type is still an error of the server's, not a wrong answer.
  answer = { ...base, name: 'n', score: 'high', state: 'up', rows: [], parent: null };
  assert.equal((await app.inject('/a')).statusCode, 500);
});
