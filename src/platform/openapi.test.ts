import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import { operationIdFor, registerOperationIds } from './openapi.ts';

describe('operationIds', () => {
  test('a route without one gets its method and path', () => {
    assert.equal(operationIdFor('POST', '/api/v1/auth/login'), 'post_api_v1_auth_login');
    assert.equal(operationIdFor('GET', '/api/v1/users/:id'), 'get_api_v1_users_by_id');
    assert.equal(operationIdFor('PATCH', '/api/v1/users/update-me/'), 'patch_api_v1_users_update_me');
  });

  test('aliases sharing one schema object get one each; declared ones are kept; HEAD and hidden routes are skipped', async () => {
    const app = Fastify();
    registerOperationIds(app);
    const ids = new Map<string, string | undefined>();
    app.addHook('onRoute', (route) => void ids.set(`${route.method} ${route.url}`, (route.schema as { operationId?: string } | undefined)?.operationId));
    const schema = { summary: 'register' };
    for (const path of ['/register', '/signup']) app.post(path, { schema }, async () => ({}));
    app.get('/things', { schema: { operationId: 'list_things' } }, async () => []);
    app.get('/hidden', { schema: { hide: true } }, async () => ({}));
    await app.ready();
    assert.equal(ids.get('POST /register'), 'post_register');
    assert.equal(ids.get('POST /signup'), 'post_signup');
    assert.equal(ids.get('GET /things'), 'list_things');
    assert.equal(ids.get('GET /hidden'), undefined);
    assert.equal((schema as { operationId?: string }).operationId, undefined, 'the shared schema object is not changed');
    await app.close();
  });

  test('a second route with the same operationId stops the app, naming both routes', () => {
    const app = Fastify();
    registerOperationIds(app);
    app.post('/events', { schema: { operationId: 'create_event' } }, async () => ({}));
    assert.throws(() => app.post('/api/events', { schema: { operationId: 'create_event' } }, async () => ({})), /operationId 'create_event' is used by both POST \/events and POST \/api\/events/);
  });
});
