// Thin routes: the console's files (public: the page holds no data; every figure it shows comes from
// the API with the signed-in person's token) and the rule replay (admins, like rule editing).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import { ErrorResponse } from '../../platform/schemas.ts';
import { contentSecurityPolicy, IMPORT_MAP, type Asset } from './assets.ts';
import { REPLAY_MAX_EVENTS, type ConsoleService } from './console.service.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse };

const ReplayBody = Type.Object(
  {
    rule: Type.Object({}, { additionalProperties: true, description: 'a draft rule, as the body of POST /api/rules (code, name, kind, event_type, enabled, priority, params)' }),
    events: Type.Optional(Type.Integer({ minimum: 1, maximum: REPLAY_MAX_EVENTS, description: `how many of the latest stored events to replay (default and most ${REPLAY_MAX_EVENTS})` })),
  },
  { additionalProperties: false },
);
const ReplayResponse = Type.Object({
  events_scanned: Type.Integer(),
  alerts: Type.Integer({ description: 'how many alerts the draft would have raised' }),
  users_alerted: Type.Integer(),
  truncated: Type.Boolean({ description: 'older events exist that were not replayed' }),
  examples: Type.Array(Type.Object({ event_seq: Type.Integer(), user_id: Type.Union([Type.Integer(), Type.String()], { description: 'the external user id' }), type: Type.String(), amount: Type.String(), time: Type.Integer() })),
});

export function registerConsoleRoutes(fastify: FastifyInstance, service: ConsoleService, assets: Map<string, Asset>): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const csp = contentSecurityPolicy([IMPORT_MAP]);

  const send = (req: FastifyRequest, reply: FastifyReply, asset: Asset) => {
    reply.header('content-type', asset.type).header('etag', asset.etag).header('cache-control', 'no-cache');
    reply.header('x-content-type-options', 'nosniff').header('content-security-policy', csp).header('referrer-policy', 'no-referrer');
    if (req.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    return reply.send(asset.body);
  };

  app.get('/console', { config: { access: 'public' }, schema: { hide: true } }, (req, reply) => send(req, reply, assets.get('index.html')!));
  app.get<{ Params: { '*': string } }>('/console/*', { config: { access: 'public' }, schema: { hide: true } }, (req, reply) => {
    const name = req.params['*'];
    // Client-side routes (#/alerts) never reach the server; an empty tail is the page itself.
    const asset = assets.get(name === '' ? 'index.html' : name);
    if (!asset) throw new AppError('NOT_FOUND', `no console file /console/${name.slice(0, 200)}`);
    return send(req, reply, asset);
  });

  app.post('/api/console/rules/replay', {
    config: { access: 'admin' },
    schema: {
      tags: ['console'],
      summary: 'Replay a draft alert rule over the latest stored events: how many alerts it would have raised (nothing is saved)',
      operationId: 'replay_rule',
      body: ReplayBody,
      response: { 200: ReplayResponse, ...errors },
    },
    handler: async (req) => service.replay(req.body as { rule: Record<string, unknown>; events?: number }),
  });
}
