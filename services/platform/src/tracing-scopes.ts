/**
 * The instrumentation scopes of the spans the platform makes itself (what a trace backend shows as the
 * library of a span). Our business spans use each service's name; messaging spans use `@ticketing/platform`.
 */
export const PLATFORM_SCOPE = {
  http: '@ticketing/platform/http',
  pg: '@ticketing/platform/pg',
  ioredis: '@ticketing/platform/ioredis',
} as const;
