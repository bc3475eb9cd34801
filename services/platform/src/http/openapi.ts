import { z } from 'zod';
import type { AnyRoute, ApiModule, ResponseSpec } from './route';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

type JsonSchema = Record<string, unknown>;

const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', example: 'SEAT_LOCKED' },
        message: { type: 'string', example: 'Seat already locked by another user' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
};

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** `/sessions/:id/seats` → `/sessions/{id}/seats` */
export const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(route: AnyRoute): JsonSchema[] {
  const result: JsonSchema[] = [];
  const add = (location: 'path' | 'query' | 'header', schema: z.ZodType | undefined) => {
    if (!schema) return;
    const json = toSchema(schema, 'input');
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries(properties)) {
      const { description, ...rest } = property;
      result.push({
        name: location === 'header' ? headerDisplayName(name) : name,
        in: location,
        required: location === 'path' || required.has(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  };
  add('path', route.params);
  add('query', route.query);
  add('header', route.headers);
  return result;
}

const headerDisplayName = (name: string) =>
  name
    .split('-')
    .map((part) => (part === 'id' ? 'ID' : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('-');

function responses(specs: Record<number, ResponseSpec>): JsonSchema {
  const out: JsonSchema = {};
  for (const [status, spec] of Object.entries(specs)) {
    const code = Number(status);
    if (spec.contentType) {
      out[status] = {
        description: spec.description,
        content: { [spec.contentType]: { schema: { type: 'string', format: 'binary' } } },
      };
    } else if (spec.schema) {
      out[status] = { description: spec.description, content: { 'application/json': { schema: toSchema(spec.schema, 'output') } } };
    } else if (code >= 400) {
      out[status] = { description: spec.description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    } else {
      out[status] = { description: spec.description };
    }
  }
  return out;
}

function securityOf(module: ApiModule, method: string): JsonSchema {
  const names = method !== 'get' && module.writeSecurity ? module.writeSecurity : module.security;
  return names ? { security: names.map((name) => ({ [name]: [] })) } : {};
}

/** Builds the OpenAPI 3.1 document from the same route specs that validate requests. */
export function buildOpenApiDocument(
  info: OpenApiInfo,
  modules: ApiModule[],
  securitySchemes: Record<string, JsonSchema> = {},
): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const module of modules) {
    for (const route of module.routes) {
      const path = toOpenApiPath(module.prefix + route.path);
      const operation: JsonSchema = {
        operationId: route.operationId,
        summary: route.summary,
        ...(route.description ? { description: route.description } : {}),
        ...(route.tags ? { tags: route.tags } : {}),
        parameters: parameters(route),
        responses: responses(
          route.body || route.query ? { 422: { description: 'Validation failed' }, ...route.responses } : route.responses,
        ),
        ...securityOf(module, route.method),
      };
      if (route.body) {
        operation.requestBody = {
          // A body schema that accepts no body at all (e.g. confirm) documents the body as optional.
          required: !route.body.safeParse(undefined).success,
          content: { 'application/json': { schema: toSchema(route.body, 'input') } },
        };
      }
      paths[path] = { ...(paths[path] ?? {}), [route.method]: operation };
    }
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: { schemas: { Error: errorSchema }, securitySchemes },
  };
}
