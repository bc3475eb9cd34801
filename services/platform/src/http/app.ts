import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Koa, { type Context, type Next } from 'koa';
import Router from '@koa/router';
import { koaSwagger } from 'koa2-swagger-ui';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { runWithRequestId } from '../context';
import { withTimeout } from '../timeout';
import { AppError, errorBody } from '../errors';
import { createHttpDurationHistogram } from '../metrics';
import { assertJsonContentType, readJsonBody } from './body';
import { cors } from './cors';
import { errorHandler } from './error-handler';
import { buildOpenApiDocument, type OpenApiInfo } from './openapi';
import type { AnyRoute, ApiModule } from './route';
import { docsContentSecurityPolicy, securityHeaders } from './security-headers';
import { serverSpan } from './server-span';
import { parsePart } from './validation';

/** A named dependency check for /ready; it throws (or rejects) when the dependency is unreachable. */
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  registry: Registry;
  modules?: ApiModule[];
  readiness?: ReadinessChecks;
  /**
   * Dependencies /ready reports (`"required": false` in its body) without failing on them: what the process
   * copes without, e.g. the broker behind the booking outbox. Taking the pod out of its Service for them
   * would turn a broker outage into a booking outage.
   */
  reportedDependencies?: ReadinessChecks;
  openapi?: OpenApiInfo & { securitySchemes?: Record<string, Record<string, unknown>> };
  /** Milliseconds a single readiness check may take before it counts as down. */
  readinessTimeoutMs?: number;
  /** Client address, CORS and documentation settings (`httpEdgeOptions(config)`); defaults are the strict ones. */
  edge?: HttpEdgeOptions;
}

export interface HttpEdgeOptions {
  /** Proxies in front whose X-Forwarded-For entries are believed (ctx.ip); 0 (default) uses the peer address. */
  trustProxyHops?: number;
  /** Browser origins allowed by CORS; none by default. */
  corsAllowedOrigins?: readonly string[];
  /** Whether /openapi.json and /docs list modules marked `internal`; default true. */
  documentInternalRoutes?: boolean;
}

/** The edge settings from a process's config (`httpEdgeConfigShape` + NODE_ENV). */
export function httpEdgeOptions(config: {
  NODE_ENV: string;
  TRUST_PROXY_HOPS: number;
  CORS_ALLOWED_ORIGINS: readonly string[];
}): HttpEdgeOptions {
  return {
    trustProxyHops: config.TRUST_PROXY_HOPS,
    corsAllowedOrigins: config.CORS_ALLOWED_ORIGINS,
    // Production documents the public surface only: internal routes are for the booking service.
    documentInternalRoutes: config.NODE_ENV !== 'production',
  };
}

const swaggerUiDistPath = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui.min.css': { file: 'swagger-ui.css', type: 'text/css' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'application/javascript' },
  'swagger-ui-standalone-preset.js': { file: 'swagger-ui-standalone-preset.js', type: 'application/javascript' },
};

const PROBE_ROUTES = new Set(['/health', '/ready', '/metrics']);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function requestIdMiddleware() {
  return async function assignRequestId(ctx: Context, next: Next) {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-ID', requestId);
    await runWithRequestId(requestId, next);
  };
}

function accessLog(logger: Logger, registry: Registry) {
  const duration = createHttpDurationHistogram(registry);
  return async function logAndMeasure(ctx: Context, next: Next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      duration.observe({ method: ctx.method, route: String(route), status: String(ctx.status) }, seconds);
      const line = { method: ctx.method, url: ctx.url, status: ctx.status, duration_ms: Math.round(seconds * 1e4) / 10 };
      if (PROBE_ROUTES.has(String(route))) {
        // Probes run every few seconds: only a failing readiness check is worth a line.
        if (ctx.status >= 500) logger.warn(line, 'not ready');
      } else if (ctx.status >= 500) logger.error(line, 'request failed');
      else logger.info(line, 'request completed');
    }
  };
}

interface CheckResult {
  status: 'up' | 'down';
  error?: string;
  required?: false;
}

export async function runReadinessChecks(checks: ReadinessChecks, timeoutMs: number, reported: ReadinessChecks = {}) {
  const run = async (name: string, check: () => Promise<unknown>, required: boolean): Promise<[string, CheckResult]> => {
    const extra = required ? {} : { required: false as const };
    try {
      await withTimeout(Promise.resolve().then(check), timeoutMs);
      return [name, { status: 'up', ...extra }];
    } catch (error) {
      return [name, { status: 'down', error: (error as Error).message, ...extra }];
    }
  };
  const required = await Promise.all(Object.entries(checks).map(([name, check]) => run(name, check, true)));
  const optional = await Promise.all(Object.entries(reported).map(([name, check]) => run(name, check, false)));
  const ready = required.every(([, result]) => result.status === 'up');
  return { ready, checks: Object.fromEntries([...required, ...optional]) };
}

function systemRouter(options: HttpAppOptions, document: Record<string, unknown> | undefined) {
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok', service: options.service };
  });
  router.get('/ready', async (ctx) => {
    const { ready, checks } = await runReadinessChecks(
      options.readiness ?? {},
      options.readinessTimeoutMs ?? 2000,
      options.reportedDependencies,
    );
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', service: options.service, checks };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = options.registry.contentType;
    ctx.body = await options.registry.metrics();
  });
  if (document) {
    router.get('/openapi.json', (ctx) => {
      ctx.body = document;
    });
    const swaggerUi = koaSwagger({
      routePrefix: false,
      hideTopbar: true,
      title: (document.info as OpenApiInfo).title,
      // Served from this process (below), so the docs work without internet access.
      swaggerCdnUrl: '/docs',
      swaggerVersion: 'assets',
      swaggerOptions: { url: '/openapi.json', persistAuthorization: true, validatorUrl: null },
    });
    router.get('/docs', async (ctx, next) => {
      await swaggerUi(ctx, next);
      const page: unknown = ctx.body;
      if (typeof page !== 'string') return;
      // The template links Google Fonts: an outside request per visitor (and blocked by the CSP anyway).
      const html = page.replace(/<link[^>]*fonts\.googleapis\.com[^>]*>\s*/g, '');
      ctx.body = html;
      ctx.set('Content-Security-Policy', docsContentSecurityPolicy(html));
    });
    router.get('/docs/assets/:file', async (ctx) => {
      const asset = SWAGGER_ASSETS[ctx.params.file];
      if (!asset) return;
      ctx.type = asset.type;
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.body = await readFile(path.join(swaggerUiDistPath, asset.file));
    });
  }
  return router;
}

function mountRoute(router: Router, module: ApiModule, route: AnyRoute) {
  router[route.method](module.prefix + route.path, async (ctx: Context) => {
    assertJsonContentType(ctx);
    if (module.guard) await module.guard(ctx);
    if (route.rateLimit) await route.rateLimit(ctx);
    const headers = route.headers ? parsePart(route.headers, 'headers', ctx.headers) : undefined;
    const params = route.params ? parsePart(route.params, 'params', ctx.params) : undefined;
    const query = route.query ? parsePart(route.query, 'query', ctx.query) : undefined;
    const rawBody = route.body ? await readJsonBody(ctx, route.bodyLimit ?? '1mb') : undefined;
    const body = route.body ? parsePart(route.body, 'body', rawBody) : undefined;
    const result = await route.handler({ params, query, body, headers }, ctx);
    if (result !== undefined) {
      ctx.status = route.status ?? 200;
      ctx.body = result;
    }
  });
}

/**
 * The Koa application every HTTP process uses: request ids, security headers, access log and latency
 * histogram, the central error handler, CORS, JSON-only bodies, JSON 404s, /health, /ready, /metrics, /docs
 * and /openapi.json.
 */
export function createHttpApp(options: HttpAppOptions): Koa {
  const app = new Koa();
  const edge = options.edge ?? {};
  // Koa then takes the client address from the last `trustProxyHops` X-Forwarded-For entries, the ones our
  // own proxies appended; entries before them are whatever the client chose to send.
  app.proxy = (edge.trustProxyHops ?? 0) > 0;
  app.maxIpsCount = edge.trustProxyHops ?? 0;
  const modules = options.modules ?? [];
  const documented = edge.documentInternalRoutes === false ? modules.filter((module) => !isInternalModule(module)) : modules;
  const document = options.openapi
    ? buildOpenApiDocument(
        { title: options.openapi.title, version: options.openapi.version, description: options.openapi.description },
        documented,
        options.openapi.securitySchemes,
      )
    : undefined;

  const router = systemRouter(options, document);
  for (const module of modules) for (const route of module.routes) mountRoute(router, module, route);

  app.use(serverSpan());
  app.use(requestIdMiddleware());
  app.use(securityHeaders());
  app.use(accessLog(options.logger, options.registry));
  app.use(errorHandler(options.logger));
  app.use(cors(edge.corsAllowedOrigins ?? []));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  app.use(async (ctx) => {
    if (ctx.body === undefined && ctx.status === 404) {
      ctx.status = 404;
      ctx.body = errorBody(new AppError(404, 'NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`));
    }
  });
  app.on('error', (error: Error & { status?: number; expose?: boolean }) => {
    if ((error.status ?? 500) >= 500) options.logger.error({ err: error }, 'Koa error');
  });
  return app;
}

/** A module is internal when it says so or lives under /api/internal, so a new internal module cannot be forgotten. */
const isInternalModule = (module: ApiModule) => module.internal ?? module.prefix.startsWith('/api/internal');
