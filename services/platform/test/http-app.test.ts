import http from 'node:http';
import { z } from 'zod';
import { createHttpApp } from '../src/http/app';
import { defineRoute } from '../src/http/route';
import { startHttpServer, type RunningServer } from '../src/http/server';
import { createLogger } from '../src/logger';
import { createMetricsRegistry } from '../src/metrics';
import { conflict } from '../src/errors';
import { request } from '../../../test/support/http';

const ID = '24c9d755-b21c-42b0-b9d9-42f11e5fe6b5';

describe('the shared HTTP app', () => {
  let server: RunningServer;
  let brokerUp = true;
  let releaseSlowRequest: () => void = () => undefined;

  beforeAll(async () => {
    const routes = [
      defineRoute({
        method: 'post',
        path: '/widgets/:id',
        operationId: 'createWidget',
        summary: 'Create a widget',
        params: z.object({ id: z.guid() }),
        body: z.object({ name: z.string().min(1), size: z.number().int().positive() }).strict(),
        status: 201,
        responses: { 201: { description: 'Created', schema: z.object({ id: z.string(), name: z.string() }) } },
        handler: ({ params, body }) => ({ id: params.id, name: body.name }),
      }),
      defineRoute({
        method: 'get',
        path: '/conflict',
        operationId: 'alwaysConflict',
        summary: 'Always 409',
        responses: { 409: { description: 'Conflict' } },
        handler: () => {
          throw conflict('SEAT_LOCKED', 'Seat already locked by another user', { seats: ['a'] });
        },
      }),
      defineRoute({
        method: 'get',
        path: '/boom',
        operationId: 'boom',
        summary: 'A bug',
        responses: { 200: { description: 'never' } },
        handler: () => {
          throw new Error('secret internals');
        },
      }),
      defineRoute({
        method: 'get',
        path: '/slow',
        operationId: 'slow',
        summary: 'Waits until released',
        responses: { 200: { description: 'ok' } },
        handler: async () => {
          await new Promise<void>((resolve) => (releaseSlowRequest = resolve));
          return { finished: true };
        },
      }),
    ];
    const app = createHttpApp({
      service: 'test-app',
      logger: createLogger('test-app', 'silent'),
      registry: createMetricsRegistry('test-app'),
      modules: [{ prefix: '/api/v1', routes }],
      readiness: {
        database: async () => undefined,
        broker: async () => {
          if (!brokerUp) throw new Error('connection refused');
        },
      },
      openapi: { title: 'Test API', version: '1.0.0' },
    });
    server = await startHttpServer(app, 0, '127.0.0.1');
  });


  it('answers valid requests with the handler result and a request id', async () => {
    const response = await request(server.url, 'POST', `/api/v1/widgets/${ID}`, { body: { name: 'a', size: 2 } });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: ID, name: 'a' });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a well-formed incoming request id', async () => {
    const response = await request(server.url, 'GET', '/health', { headers: { 'x-request-id': 'abc-123' } });
    expect(response.headers.get('x-request-id')).toBe('abc-123');
  });

  it('answers malformed JSON with 400', async () => {
    const response = await request(server.url, 'POST', `/api/v1/widgets/${ID}`, { rawBody: '{"name":' });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('MALFORMED_JSON');
  });

  it('answers invalid fields with 422 naming each field, including unknown ones', async () => {
    const response = await request(server.url, 'POST', `/api/v1/widgets/${ID}`, {
      body: { name: '', size: -1, colour: 'red' },
    });
    expect(response.status).toBe(422);
    const fields = response.body.error.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['body.name', 'body.size', 'body']));
  });

  it('answers a missing body with 422', async () => {
    const response = await request(server.url, 'POST', `/api/v1/widgets/${ID}`);
    expect(response.status).toBe(422);
  });

  it('answers bodies over the limit with 413', async () => {
    const response = await request(server.url, 'POST', `/api/v1/widgets/${ID}`, {
      body: { name: 'x'.repeat(1_100_000), size: 1 },
    });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers a malformed path id and an unknown route with JSON 404s', async () => {
    const badId = await request(server.url, 'POST', '/api/v1/widgets/not-a-uuid', { body: { name: 'a', size: 1 } });
    expect(badId.status).toBe(404);
    const unknown = await request(server.url, 'GET', '/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it('answers a wrong method with 405', async () => {
    const response = await request(server.url, 'DELETE', `/api/v1/widgets/${ID}`);
    expect(response.status).toBe(405);
    expect(response.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('renders domain errors in the contract shape', async () => {
    const response = await request(server.url, 'GET', '/api/v1/conflict');
    expect(response.status).toBe(409);
    expect(response.body).toEqual({
      error: { code: 'SEAT_LOCKED', message: 'Seat already locked by another user', details: { seats: ['a'] } },
    });
  });

  it('hides unexpected errors behind a 500 without internals', async () => {
    const response = await request(server.url, 'GET', '/api/v1/boom');
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.body)).not.toContain('secret');
  });

  it('reports readiness per dependency and 503 when one is down', async () => {
    expect((await request(server.url, 'GET', '/ready')).status).toBe(200);
    brokerUp = false;
    const down = await request(server.url, 'GET', '/ready');
    brokerUp = true;
    expect(down.status).toBe(503);
    expect(down.body.checks.broker).toEqual({ status: 'down', error: 'connection refused' });
    expect(down.body.checks.database).toEqual({ status: 'up' });
  });

  it('publishes an OpenAPI document generated from the route schemas', async () => {
    const { body } = await request(server.url, 'GET', '/openapi.json');
    const operation = body.paths['/api/v1/widgets/{id}'].post;
    expect(operation.operationId).toBe('createWidget');
    expect(operation.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(operation.requestBody.content['application/json'].schema.required).toEqual(['name', 'size']);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['201', '422']));
  });

  it('serves Swagger UI and its assets from the process itself', async () => {
    const page = await fetch(`${server.url}/docs`);
    const html = await page.text();
    expect(html).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(html).toContain('/openapi.json');
    const bundle = await fetch(`${server.url}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });

  it('exposes a latency histogram labelled by route template', async () => {
    await request(server.url, 'GET', '/api/v1/conflict');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /http_request_duration_seconds_count\{service="test-app",method="GET",route="\/api\/v1\/conflict",status="409"\} \d+/,
    );
    expect(metrics).toContain('nodejs_eventloop_lag_seconds');
  });

  it('finishes in-flight requests when closing and refuses new connections', async () => {
    const inFlight = fetch(`${server.url}/api/v1/slow`).then((r) => r.json());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = server.close();
    await expect(freshConnection(server.url)).rejects.toThrow(/ECONNREFUSED/);
    releaseSlowRequest();
    await expect(inFlight).resolves.toEqual({ finished: true });
    await closing;
  });
});

/** A request on a new TCP connection (no keep-alive reuse), to see whether the server still accepts. */
function freshConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/health`, { agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
      .on('error', reject);
  });
}
