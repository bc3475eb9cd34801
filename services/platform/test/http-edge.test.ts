import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import net from 'node:net';
import { z } from 'zod';
import { loadConfig, httpEdgeConfigShape, ConfigError } from '../src/config';
import { tooManyRequests } from '../src/errors';
import { createHttpApp, httpEdgeOptions, type HttpEdgeOptions } from '../src/http/app';
import { defineRoute, type ApiModule } from '../src/http/route';
import { docsContentSecurityPolicy } from '../src/http/security-headers';
import { startHttpServer, type RunningServer } from '../src/http/server';
import { fieldsWithNul } from '../src/http/validation';
import { createLogger } from '../src/logger';
import { createMetricsRegistry } from '../src/metrics';
import { eventually } from '../../../test/support/http';

const jsonOf = (response: Response): Promise<any> => response.json();

const ALLOWED_ORIGIN = 'https://shop.example.com';

/** An app with one public JSON write route, one body-less POST, one route answering 429 and one internal module. */
async function startApp(edge: HttpEdgeOptions) {
  const handled: unknown[] = [];
  const publicModule: ApiModule = {
    prefix: '/api/v1',
    routes: [
      defineRoute({
        method: 'post',
        path: '/widgets',
        operationId: 'createWidget',
        summary: 'Create a widget',
        body: z.object({ name: z.string().min(1), tags: z.array(z.string()).optional() }).strict(),
        bodyLimit: '16kb',
        status: 201,
        responses: { 201: { description: 'Created' } },
        handler: ({ body }) => {
          handled.push(body);
          return body;
        },
      }),
      defineRoute({
        method: 'post',
        path: '/widgets/:name/polish',
        operationId: 'polishWidget',
        summary: 'No body',
        params: z.object({ name: z.string() }),
        responses: { 200: { description: 'Polished' } },
        handler: ({ params }) => {
          handled.push(params);
          return { polished: params.name };
        },
      }),
      defineRoute({
        method: 'get',
        path: '/widgets',
        operationId: 'listWidgets',
        summary: 'Echoes the client address; refuses when asked to',
        query: z.object({ limited: z.string().optional() }),
        responses: { 200: { description: 'ok' } },
        rateLimit: (ctx) => {
          if (ctx.query.limited) throw tooManyRequests(7, 'Slow down');
        },
        handler: (_input, ctx) => ({ ip: ctx.ip }),
      }),
    ],
  };
  const internalModule: ApiModule = {
    prefix: '/api/internal',
    internal: true,
    routes: [
      defineRoute({
        method: 'post',
        path: '/sell',
        operationId: 'sell',
        summary: 'For other services',
        responses: { 200: { description: 'ok' } },
        handler: () => ({ sold: true }),
      }),
    ],
  };
  const app = createHttpApp({
    service: 'edge-test',
    logger: createLogger('edge-test', 'silent'),
    registry: createMetricsRegistry('edge-test'),
    modules: [publicModule, internalModule],
    openapi: { title: 'Edge test', version: '1.0.0' },
    edge,
  });
  const server = await startHttpServer(app, 0, '127.0.0.1');
  return { server, handled };
}

const post = (server: RunningServer, path: string, body: string | Buffer, headers: Record<string, string>) =>
  fetch(server.url + path, { method: 'POST', body, headers });

describe('the HTTP edge (development defaults)', () => {
  let server: RunningServer;
  let handled: unknown[];

  beforeAll(async () => {
    ({ server, handled } = await startApp({}));
  });
  afterAll(() => server.close(1000));
  beforeEach(() => handled.splice(0));

  test('when a body is sent as text/plain, a form, or without a type, then 415 and the handler never runs', async () => {
    const cases: Record<string, string>[] = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      {},
    ];
    for (const headers of cases) {
      const response = await post(server, '/api/v1/widgets', '{"name":"sneaky"}', headers);
      expect([headers['content-type'], response.status, (await jsonOf(response)).error.code]).toEqual([
        headers['content-type'],
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ]);
      const bodyless = await post(server, '/api/v1/widgets/w/polish', 'x=1', headers);
      expect(bodyless.status).toBe(415);
    }
    expect(handled).toEqual([]);
  });

  test('when the body is JSON (with charset or a +json type), then it is accepted', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'application/merge-patch+json']) {
      const response = await post(server, '/api/v1/widgets', '{"name":"ok"}', { 'content-type': type });
      expect(response.status).toBe(201);
    }
    expect((await post(server, '/api/v1/widgets/w/polish', '', {})).status).toBe(200);
  });

  test('when a JSON body is gzip-compressed, then it is inflated; a bomb is 413 and a fake gzip 400', async () => {
    const gzipped = await post(server, '/api/v1/widgets', gzipSync('{"name":"zipped"}'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(gzipped.status).toBe(201);
    expect(await jsonOf(gzipped)).toEqual({ name: 'zipped' });

    // 2 MB of JSON squeezed into a few kB: the 16 kB limit counts inflated bytes.
    const bomb = gzipSync(JSON.stringify({ name: 'x'.repeat(2_000_000) }));
    expect(bomb.length).toBeLessThan(16_000);
    const inflated = await post(server, '/api/v1/widgets', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect([inflated.status, (await jsonOf(inflated)).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);

    const plain = await post(server, '/api/v1/widgets', '{"name":"not zipped"}', {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect([plain.status, (await jsonOf(plain)).error.code]).toEqual([400, 'MALFORMED_BODY']);

    const unknown = await post(server, '/api/v1/widgets', '{"name":"x"}', { 'content-type': 'application/json', 'content-encoding': 'zstd-ish' });
    expect(unknown.status).toBe(415);
  });

  test('when a string field or key holds a NUL character, then 422 names the field and the handler never runs', async () => {
    for (const body of [{ name: 'a\u0000b' }, { name: 'ok', tags: ['x', '\u0000'] }, { name: 'ok', ['k\u0000']: 1 }]) {
      const response = await post(server, '/api/v1/widgets', JSON.stringify(body), { 'content-type': 'application/json' });
      const answer = await jsonOf(response);
      expect([response.status, answer.error.code]).toEqual([422, 'VALIDATION_ERROR']);
      expect(answer.error.details.fields[0].message).toBe('must not contain NUL characters');
    }
    expect(handled).toEqual([]);
  });

  test('when any response goes out (JSON, error, 404), then it carries nosniff, no framing and no referrer', async () => {
    const responses = [
      await fetch(`${server.url}/api/v1/widgets`),
      await fetch(`${server.url}/nothing-here`),
      await post(server, '/api/v1/widgets', 'x', { 'content-type': 'text/plain' }),
      await fetch(`${server.url}/health`),
    ];
    for (const response of responses) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    }
  });

  test('when Swagger UI is served, then its CSP allows its own scripts and exactly its inline bootstrap by hash', async () => {
    const response = await fetch(`${server.url}/docs`);
    const html = await response.text();
    const csp = response.headers.get('content-security-policy') ?? '';
    const inline = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    expect(inline).toContain('SwaggerUIBundle');
    const hash = createHash('sha256').update(inline).digest('base64');
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(csp).not.toContain("script-src 'self' 'unsafe-inline'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  test('when CORS is not configured, then preflights are refused and no response grants an origin', async () => {
    const preflight = await fetch(`${server.url}/api/v1/widgets`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect([preflight.status, (await jsonOf(preflight)).error.code]).toEqual([403, 'CORS_ORIGIN_NOT_ALLOWED']);
    const read = await fetch(`${server.url}/api/v1/widgets`, { headers: { origin: ALLOWED_ORIGIN } });
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('when no proxy is trusted, then X-Forwarded-For is ignored for the client address', async () => {
    const response = await fetch(`${server.url}/api/v1/widgets`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect((await jsonOf(response)).ip).toMatch(/127\.0\.0\.1$/);
  });

  test('when a route refuses with 429, then the answer carries Retry-After and the contract error', async () => {
    const response = await fetch(`${server.url}/api/v1/widgets?limited=1`);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect((await jsonOf(response)).error).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after_seconds: 7 } });
  });

  test('when internal routes are documented (development), then they are in the OpenAPI document', async () => {
    const document = await jsonOf(await fetch(`${server.url}/openapi.json`));
    expect(Object.keys(document.paths)).toContain('/api/internal/sell');
  });
});

describe('the HTTP edge (production settings)', () => {
  let server: RunningServer;

  beforeAll(async () => {
    const config = loadConfig(z.object({ NODE_ENV: z.string(), ...httpEdgeConfigShape }), {
      NODE_ENV: 'production',
      TRUST_PROXY_HOPS: '1',
      CORS_ALLOWED_ORIGINS: `${ALLOWED_ORIGIN}, https://admin.example.com:8443`,
    });
    ({ server } = await startApp(httpEdgeOptions(config)));
  });
  afterAll(() => server.close(1000));

  test('when an allowed origin sends a preflight, then it is answered 204 with the methods and headers', async () => {
    const preflight = await fetch(`${server.url}/api/v1/widgets`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Content-Type');
    const read = await fetch(`${server.url}/api/v1/widgets`, { headers: { origin: 'https://admin.example.com:8443' } });
    expect(read.headers.get('access-control-allow-origin')).toBe('https://admin.example.com:8443');
    expect(read.headers.get('vary')).toContain('Origin');
  });

  test('when an unlisted origin sends a preflight, then 403 and no CORS grant', async () => {
    const preflight = await fetch(`${server.url}/api/v1/widgets`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const read = await fetch(`${server.url}/api/v1/widgets`, { headers: { origin: 'https://evil.example' } });
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('when one proxy is trusted, then the address is the entry it appended, not one the client forged', async () => {
    const response = await fetch(`${server.url}/api/v1/widgets`, { headers: { 'x-forwarded-for': '198.51.100.66, 203.0.113.9' } });
    expect((await jsonOf(response)).ip).toBe('203.0.113.9');
  });

  test('when NODE_ENV is production, then /openapi.json and /docs leave out internal routes', async () => {
    const document = await jsonOf(await fetch(`${server.url}/openapi.json`));
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/v1/widgets']));
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/api/internal'))).toEqual([]);
    // The routes still work for the services that call them.
    expect((await post(server, '/api/internal/sell', '', {})).status).toBe(200);
  });
});

describe('edge settings and helpers', () => {
  const shape = z.object(httpEdgeConfigShape);

  test('when CORS_ALLOWED_ORIGINS holds a path or a wildcard, then the config is refused naming the variable', () => {
    for (const value of ['https://shop.example.com/app', '*', 'shop.example.com']) {
      expect(() => loadConfig(shape, { CORS_ALLOWED_ORIGINS: value })).toThrow(ConfigError);
      expect(() => loadConfig(shape, { CORS_ALLOWED_ORIGINS: value })).toThrow(/CORS_ALLOWED_ORIGINS/);
    }
    expect(loadConfig(shape, {})).toEqual({ TRUST_PROXY_HOPS: 0, CORS_ALLOWED_ORIGINS: [] });
  });

  test('when values nest, then every NUL-carrying string is reported by its path', () => {
    expect(fieldsWithNul({ a: 'ok', b: ['x', 'y\u0000'], c: { d: '\u0000' } })).toEqual(['b.1', 'c.d']);
    expect(fieldsWithNul({ a: 'no nul', n: 1, z: null })).toEqual([]);
  });

  test('when the docs page has two inline scripts, then both hashes are allowed', () => {
    const csp = docsContentSecurityPolicy('<script src="/x.js"></script><script>a()</script><script type="module">b()</script>');
    const hashOf = (code: string) => `'sha256-${createHash('sha256').update(code).digest('base64')}'`;
    expect(csp).toContain(`script-src 'self' ${hashOf('a()')} ${hashOf('b()')};`);
  });
});

describe('a client that goes away before its body is read', () => {
  test('when the connection closes while the request waits, then it is counted as a 400, never a server error', async () => {
    const registry = createMetricsRegistry('edge-abort-test');
    let reached!: () => void;
    const waiting = new Promise<void>((resolve) => (reached = resolve));
    const app = createHttpApp({
      service: 'edge-abort-test',
      logger: createLogger('edge-abort-test', 'silent'),
      registry,
      modules: [
        {
          prefix: '/api/v1',
          routes: [
            defineRoute({
              method: 'post',
              path: '/slow',
              operationId: 'slow',
              summary: 'Waits (as a rate limit or identity check may) before the body is read',
              body: z.object({ name: z.string() }),
              responses: { 200: { description: 'ok' } },
              rateLimit: async () => {
                reached();
                await new Promise((resolve) => setTimeout(resolve, 300));
              },
              handler: ({ body }) => body,
            }),
          ],
        },
      ],
      openapi: { title: 'Abort test', version: '1.0.0' },
      edge: {},
    });
    const server = await startHttpServer(app, 0, '127.0.0.1');
    try {
      const socket = net.connect(server.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('POST /api/v1/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"na');
      await waiting;
      socket.destroy();

      const statuses = async () =>
        ((await registry.getSingleMetric('http_request_duration_seconds')?.get())?.values ?? [])
          .filter((value) => value.labels.route === '/api/v1/slow' && String((value as { metricName?: string }).metricName).endsWith('_count'))
          .map((value) => String(value.labels.status));
      const recorded = await eventually(async () => {
        const seen = await statuses();
        return seen.length > 0 ? seen : undefined;
      });
      expect(recorded).toEqual(['400']);
    } finally {
      await server.close(1000);
    }
  });
});
