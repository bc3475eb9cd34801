import type { Context } from 'koa';
import { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  /** JSON body schema; omit for empty bodies. */
  schema?: z.ZodType;
  /** Non-JSON content such as image/png. */
  contentType?: string;
}

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteInput<P, Q, B, H> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  headers: Infer<H>;
}

/**
 * One HTTP operation, declared once: its schemas validate the request and generate the OpenAPI document.
 * The handler gets parsed input and returns the response body (sent with `status`), or sets ctx itself
 * and returns undefined.
 */
export interface RouteSpec<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  H extends z.ZodType | undefined = undefined,
> {
  method: HttpMethod;
  /** Koa-style path relative to the module prefix, e.g. `/sessions/:id/seat-map`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Header schema; keys must be lower-case header names. */
  headers?: H;
  /** Largest accepted JSON body, in bytes or with a unit ('1mb'); default 1mb. */
  bodyLimit?: string | number;
  /** Status for a returned body; default 200. */
  status?: number;
  responses: Record<number, ResponseSpec>;
  handler: (input: RouteInput<P, Q, B, H>, ctx: Context) => Promise<unknown> | unknown;
  /** Runs after the module guard (the caller is known) and before the body is read: rate limits. */
  rateLimit?: (ctx: Context) => void | Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any, any>;

/** Identity helper that keeps the handler's input typed from the schemas. */
export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  H extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B, H>): RouteSpec<P, Q, B, H> {
  return spec;
}

/** A group of routes mounted under one prefix, e.g. `/api/v1`. */
export interface ApiModule {
  prefix: string;
  routes: AnyRoute[];
  /** Middleware run before every route of the module (e.g. the internal token check). */
  guard?: (ctx: Context) => void | Promise<void>;
  /** OpenAPI security requirement names applied to every route of the module. */
  security?: string[];
  /** OpenAPI security requirement names for the module's write routes only (public reads, protected writes). */
  writeSecurity?: string[];
  /** For other services, not the public: left out of the production OpenAPI document and Swagger UI (default: true under /api/internal). */
  internal?: boolean;
}
