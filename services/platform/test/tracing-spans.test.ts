/**
 * The platform's own HTTP, Postgres and Redis spans (they replace OpenTelemetry's instrumentation packages):
 * made only inside a sampled trace, with the stable semantic-convention names; an unsampled trace is still
 * propagated to the next service (so it stays unsampled there), and work outside any trace is left alone.
 * Against a real Postgres, Redis and HTTP servers, with the SDK started as the processes start it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Pipeline, Redis } from 'ioredis';
import { Client } from 'pg';
import { z } from 'zod';
import { createHttpApp } from '../src/http/app';
import { defineRoute } from '../src/http/route';
import { startHttpServer, type RunningServer } from '../src/http/server';
import { createLogger } from '../src/logger';
import { createMetricsRegistry } from '../src/metrics';
import { conflict } from '../src/errors';
import { withSpan, withoutSpans } from '../src/spans';
import { startTracing, stopTracing, traceRedisCommands } from '../src/tracing';
import { untraceRedisCommands } from '../src/redis-spans';
import { request } from '../../../test/support/http';
import { POSTGRES_URL, REDIS_URL } from '../../../test/support/infra';

const exporter = new InMemorySpanExporter();
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

/** The active context of a caller whose trace was not sampled (its span is not recording). */
const unsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: PARENT_SPAN_ID, traceFlags: TraceFlags.NONE });

const finished = (scope: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.instrumentationScope.name === scope);
const inSampledSpan = <T>(work: () => Promise<T>) => withSpan('tracing-spans-test', 'parent', {}, work);

beforeAll(() => {
  expect(startTracing('tracing-spans-test', [new SimpleSpanProcessor(exporter)])).toBe(true);
});
afterAll(() => stopTracing());
beforeEach(() => exporter.reset());

describe('our own spans (withSpan)', () => {
  test('when the active trace is not sampled, then withSpan makes no span and the work runs in the caller’s context', async () => {
    const seen = await context.with(unsampled, () =>
      withSpan('tracing-spans-test', 'step', {}, async (span) => ({ span, spanId: trace.getActiveSpan()?.spanContext().spanId })),
    );
    expect(seen).toEqual({ span: undefined, spanId: PARENT_SPAN_ID });
  });

  test('when the active context is a sampled caller’s (extracted from a traceparent, not recording here), then withSpan and a query under it make spans', async () => {
    const sampledCaller = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: PARENT_SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    await context.with(sampledCaller, () => withSpan('tracing-spans-test', 'process', {}, async () => undefined));
    const [span] = exporter.getFinishedSpans();
    expect(span.name).toBe('process');
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
  });

  test('when the active trace is sampled (or there is none), then withSpan makes a span', async () => {
    await withSpan('tracing-spans-test', 'root', {}, () => withSpan('tracing-spans-test', 'child', {}, async () => undefined));
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['child', 'root']);
    expect(spans[0].parentSpanContext?.spanId).toBe(spans[1].spanContext().spanId);
  });
});

describe('Postgres statements', () => {
  const client = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  beforeAll(() => client.connect());
  afterAll(() => client.end());
  const pgSpans = () => finished('@ticketing/platform/pg');

  test('when a statement runs in a sampled trace, then it is a CLIENT span under the active span, with stable attributes', async () => {
    await inSampledSpan(() => client.query('SELECT 1 AS one'));
    const [parent] = exporter.getFinishedSpans().filter((span) => span.name === 'parent');
    const [query] = pgSpans();
    expect(query).toMatchObject({ name: 'SELECT postgres', kind: SpanKind.CLIENT });
    expect(query.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(query.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': 'postgres',
      'db.operation.name': 'SELECT',
      'db.query.text': 'SELECT 1 AS one',
      'server.port': expect.any(Number),
    });
  });

  test('when a named prepared statement runs, then the span is named after the statement, without its text; a callback query is traced too', async () => {
    await inSampledSpan(async () => {
      await client.query({ name: 'tracing_spans_test.one', text: 'SELECT $1::int AS one', values: [1] });
      await new Promise<void>((resolve, reject) => client.query('SELECT 2', (error) => (error ? reject(error) : resolve())));
    });
    expect(pgSpans().map((span) => [span.name, span.attributes['db.query.summary'], span.attributes['db.query.text']])).toEqual([
      ['tracing_spans_test.one', 'tracing_spans_test.one', undefined],
      ['SELECT postgres', 'SELECT postgres', 'SELECT 2'],
    ]);
  });

  test('when a transaction runs in a sampled trace, then BEGIN, SET, SAVEPOINT, RELEASE, ROLLBACK and COMMIT make no span, its statements do', async () => {
    await inSampledSpan(async () => {
      await client.query('BEGIN');
      await client.query("SET LOCAL statement_timeout = '5s'");
      await client.query('SAVEPOINT tracing_spans_test');
      await client.query('SELECT 3');
      await client.query('RELEASE SAVEPOINT tracing_spans_test');
      await client.query('  commit');
      await client.query('BEGIN');
      await client.query('ROLLBACK');
    });
    expect(pgSpans().map((span) => span.name)).toEqual(['SELECT postgres']);
  });

  test('when a statement fails, then its span is an ERROR with the SQLSTATE, and the error still reaches the caller', async () => {
    await expect(inSampledSpan(() => client.query('SELECT * FROM tracing_spans_test_missing'))).rejects.toMatchObject({ code: '42P01' });
    const [query] = pgSpans();
    expect(query.status.code).toBe(SpanStatusCode.ERROR);
    expect(query.attributes).toMatchObject({ 'db.response.status_code': '42P01', 'error.type': '42P01' });
  });

  test('when a statement runs outside any trace or in an unsampled one, then no span is made', async () => {
    await client.query('SELECT 1');
    await context.with(unsampled, () => client.query('SELECT 1'));
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('Redis commands', () => {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  beforeAll(async () => {
    traceRedisCommands(Redis, Pipeline);
    await redis.connect();
  });
  afterAll(async () => {
    untraceRedisCommands(Redis, Pipeline);
    await redis.quit();
  });

  test('when a command runs in a sampled trace, then it is a CLIENT span named after the command, without its arguments', async () => {
    await inSampledSpan(() => redis.set('tracing-spans-test', 'secret-value', 'PX', 1000));
    const [command] = finished('@ticketing/platform/ioredis');
    expect(command).toMatchObject({ name: 'set', kind: SpanKind.CLIENT });
    expect(command.attributes).toMatchObject({ 'db.system.name': 'redis', 'db.operation.name': 'set', 'db.namespace': '0' });
    expect(JSON.stringify(command.attributes)).not.toContain('secret-value');
  });

  test('when commands run inside withoutSpans in a sampled trace, then they make no span, and the trace is sampled again after it', async () => {
    await inSampledSpan(async () => {
      await withoutSpans(async () => {
        await redis.get('tracing-spans-test-unspanned');
        await withSpan('tracing-spans-test', 'inner', {}, async () => undefined);
      });
      await redis.get('tracing-spans-test-spanned');
    });
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['get', 'parent']);
  });

  test('when concurrent traces send commands through one auto-pipeline, then each command is a span of the trace that sent it, and a withoutSpans one none', async () => {
    const pipelined = new Redis(REDIS_URL, { lazyConnect: true, enableAutoPipelining: true });
    await pipelined.connect();
    try {
      // Queued in the same tick: ioredis sends them together from the first caller's context.
      const buyers = ['a', 'b', 'c'].map((buyer) =>
        withSpan('tracing-spans-test', `buyer ${buyer}`, { root: true }, async (span) => {
          await pipelined.get(`tracing-spans-test-${buyer}`);
          return span!.spanContext().traceId;
        }),
      );
      const unspanned = inSampledSpan(() => withoutSpans(() => pipelined.get('tracing-spans-test-unspanned')));
      const traceIds = await Promise.all(buyers);
      await unspanned;
      const commands = finished('@ticketing/platform/ioredis');
      expect(commands.map((span) => span.spanContext().traceId).sort()).toEqual([...traceIds].sort());
      const buyerSpans = new Map(exporter.getFinishedSpans().filter((span) => span.name.startsWith('buyer')).map((span) => [span.spanContext().spanId, span.spanContext().traceId]));
      for (const command of commands) expect(buyerSpans.get(command.parentSpanContext!.spanId)).toBe(command.spanContext().traceId);
    } finally {
      await pipelined.quit();
    }
  });

  test('when a command fails, then its span is an ERROR', async () => {
    await expect(inSampledSpan(() => redis.call('NO_SUCH_COMMAND_TRACING_TEST'))).rejects.toThrow();
    expect(finished('@ticketing/platform/ioredis').map((span) => span.status.code)).toEqual([SpanStatusCode.ERROR]);
  });

  test('when a command runs outside any trace or in an unsampled one, then no span is made', async () => {
    await redis.ping();
    await context.with(unsampled, () => redis.ping());
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('HTTP: server spans and outgoing calls', () => {
  let app: RunningServer;
  let callee: http.Server;
  let calleeUrl: string;
  /** What the callee received: the traceparent of each call, and the status it answers with next. */
  const received: Array<string | undefined> = [];
  let calleeStatus = 200;

  /** An outgoing call with node:http, as the booking API's event service client makes it. */
  const callOut = () =>
    new Promise<number>((resolve, reject) => {
      const outgoing = http.request(`${calleeUrl}/hold`, { method: 'POST' }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      outgoing.on('error', reject);
      outgoing.end();
    });

  beforeAll(async () => {
    callee = http.createServer((req, res) => {
      received.push(req.headers.traceparent as string | undefined);
      res.statusCode = calleeStatus;
      res.end();
    });
    await new Promise<void>((resolve) => callee.listen(0, '127.0.0.1', resolve));
    calleeUrl = `http://127.0.0.1:${(callee.address() as AddressInfo).port}`;
    const routes = [
      defineRoute({
        method: 'post',
        path: '/things/:id',
        operationId: 'callOut',
        summary: 'Calls the callee',
        params: z.object({ id: z.string() }),
        responses: { 200: { description: 'ok' } },
        handler: async () => ({ callee: await callOut() }),
      }),
      defineRoute({
        method: 'get',
        path: '/conflict',
        operationId: 'conflict',
        summary: 'Always 409',
        responses: { 409: { description: 'Conflict' } },
        handler: () => {
          throw conflict('SEAT_LOCKED', 'taken');
        },
      }),
      defineRoute({
        method: 'get',
        path: '/boom',
        operationId: 'boom',
        summary: 'A bug',
        responses: { 200: { description: 'never' } },
        handler: () => {
          throw new Error('boom');
        },
      }),
    ];
    const koa = createHttpApp({
      service: 'tracing-spans-test',
      logger: createLogger('tracing-spans-test', 'silent'),
      registry: createMetricsRegistry('tracing-spans-test'),
      modules: [{ prefix: '/api/v1', routes }],
    });
    app = await startHttpServer(koa, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    await new Promise((resolve) => callee.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
    calleeStatus = 200;
  });
  const serverSpans = () => finished('@ticketing/platform/http').filter((span) => span.kind === SpanKind.SERVER);
  const clientSpans = () => finished('@ticketing/platform/http').filter((span) => span.kind === SpanKind.CLIENT);

  test('when a sampled caller sends a traceparent, then the server span continues its trace, named after the route, and the outgoing call carries the client span on', async () => {
    const response = await request(app.url, 'POST', '/api/v1/things/42', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` } });
    expect(response.status).toBe(200);
    const [server] = serverSpans();
    expect(server.name).toBe('POST /api/v1/things/:id');
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/api/v1/things/:id', 'http.response.status_code': 200, 'url.path': '/api/v1/things/42' });

    const [client] = clientSpans();
    expect(client.name).toBe('POST');
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(client.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200, 'server.address': '127.0.0.1' });
    expect(received).toEqual([`00-${TRACE_ID}-${client.spanContext().spanId}-01`]);
  });

  test('when the caller’s trace is not sampled, then no span is exported but the callee is told so (same trace, flag 00)', async () => {
    const response = await request(app.url, 'POST', '/api/v1/things/42', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-00` } });
    expect(response.status).toBe(200);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
  });

  test('when a call is made outside any trace, then it carries no traceparent and makes no span', async () => {
    await callOut();
    expect(received).toEqual([undefined]);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  test('when the callee answers 409, then the client span is not an error; a 500 is', async () => {
    calleeStatus = 409;
    await inSampledSpan(callOut);
    calleeStatus = 500;
    await inSampledSpan(callOut);
    expect(clientSpans().map((span) => [span.attributes['http.response.status_code'], span.status.code])).toEqual([
      [409, SpanStatusCode.UNSET],
      [500, SpanStatusCode.ERROR],
    ]);
  });

  test('when the server answers 409 it is not an error; an exception (500) marks the server span ERROR with the exception recorded', async () => {
    expect((await request(app.url, 'GET', '/api/v1/conflict')).status).toBe(409);
    expect((await request(app.url, 'GET', '/api/v1/boom')).status).toBe(500);
    expect(serverSpans().map((span) => [span.name, span.status.code, span.events.map((event) => event.name)])).toEqual([
      ['GET /api/v1/conflict', SpanStatusCode.UNSET, []],
      ['GET /api/v1/boom', SpanStatusCode.ERROR, ['exception']],
    ]);
  });

  test('when probes and scrapes arrive, then they make no span', async () => {
    await request(app.url, 'GET', '/health');
    await request(app.url, 'GET', '/metrics');
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
