// Route validators and serializers are compiled after start-up: ahead of their first request once the
// server listens (one per turn of the event loop), or by that request if it comes first; never twice.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify from 'fastify';
import { registerSerialization, registerValidation } from './validation.ts';

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
